"""Retention periods of personal data per kind of closed record, as data an administrator edits.

Each rule says how many months after a record closed (an application refused or withdrawn, a
membership ended, a consent withdrawn) its personal data are kept, on what legal basis, and
whether they are then erased or anonymised. ``volunteers.erasure`` applies the rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit, clock
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, DomainError, NotFound
from volunteers.register import add_months

# The kinds of closed record, in the order the administration page lists them.
KINDS = (
    "consent_withdrawn",
    "application_refused",
    "application_withdrawn",
    "member_expelled",
    "member_withdrawn",
    "member_expired",
)
# erase: every personal field, the birth date and the free-text reasons too;
# anonymise: the identifying fields only, keeping the birth year and the reasons for statistics.
ACTIONS = ("erase", "anonymise")
MAX_MONTHS = 1200

# The Law of the Republic of Kazakhstan No. 94-V of 21 May 2013 "On personal data and their
# protection" lets data be kept only as long as their purpose needs. domain.md sources no period
# for this register: every period below is [I], a default for the akimat's lawyer to confirm.
_LAW = (
    "Закон РК от 21 мая 2013 года № 94-V «О персональных данных и их защите»: данные хранятся "
    "не дольше, чем требует цель обработки."
)
DEFAULTS: dict[str, tuple[int, str, str]] = {
    "consent_withdrawn": (
        1,
        "erase",
        _LAW + " Согласие отозвано: обработка прекращается. Срок 1 месяц — по умолчанию "
        "портала, проверить.",
    ),
    "application_refused": (
        12,
        "anonymise",
        _LAW + " Отказ может быть обжалован (АППК РК): 12 месяцев — по умолчанию портала, "
        "проверить.",
    ),
    "application_withdrawn": (
        6,
        "erase",
        _LAW + " Заявление отозвано заявителем: 6 месяцев — по умолчанию портала, проверить.",
    ),
    "member_expelled": (
        36,
        "anonymise",
        _LAW + " Исключение из реестра может быть обжаловано и учитывается при повторном "
        "заявлении: 36 месяцев — по умолчанию портала, проверить.",
    ),
    "member_withdrawn": (
        12,
        "anonymise",
        _LAW + " Выход из реестра: 12 месяцев — по умолчанию портала, проверить.",
    ),
    "member_expired": (
        36,
        "anonymise",
        _LAW + " Истёк срок удостоверения: 36 месяцев — по умолчанию портала, проверить.",
    ),
}


class RetentionRule(Base):
    """How long the personal data of one kind of closed record are kept, and what then."""

    __tablename__ = "retention_rule"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind_known"),
        CheckConstraint(f"action IN {ACTIONS!r}", name="action_known"),
        CheckConstraint(f"months BETWEEN 0 AND {MAX_MONTHS}", name="months_in_range"),
        CheckConstraint("length(legal_basis) > 0", name="has_legal_basis"),
    )

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    months: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    legal_basis: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


@dataclasses.dataclass(frozen=True)
class Due:
    """Why and from when a record's personal data go: the rule that applies and its date."""

    kind: str
    action: str
    closed_on: dt.date
    due_on: dt.date


def rules(session: Session) -> dict[str, RetentionRule]:
    """Return the rules by kind (every kind has one: the migration seeds them)."""
    return {r.kind: r for r in session.scalars(select(RetentionRule))}


def ensure_defaults(session: Session) -> int:
    """Add the default rule of every kind that has none; return how many were added."""
    have = set(session.scalars(select(RetentionRule.kind)))
    added = 0
    for kind in KINDS:
        if kind not in have:
            months, action, basis = DEFAULTS[kind]
            session.add(RetentionRule(kind=kind, months=months, action=action, legal_basis=basis))
            added += 1
    session.flush()
    return added


def set_rule(
    session: Session,
    *,
    kind: str,
    months: int,
    action: str,
    legal_basis: str,
    actor_id: int,
    now: dt.datetime | None = None,
) -> RetentionRule:
    """Change a kind's period, action and legal basis; the change is audited."""
    rule = session.get(RetentionRule, kind)
    if rule is None:
        raise NotFound(N_("No such retention rule."))
    if months is None or not 0 <= months <= MAX_MONTHS:
        raise DomainError(
            N_("The period must be between %(low)s and %(high)s months."), low=0, high=MAX_MONTHS
        )
    if action not in ACTIONS:
        raise DomainError(N_("Choose what happens to the data: erase or anonymise."))
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise DomainError(N_("Write the legal basis of the period."))
    before = {"months": rule.months, "action": rule.action}
    basis_changed = legal_basis != rule.legal_basis
    if before == {"months": months, "action": action} and not basis_changed:
        return rule  # nothing changed: no event
    rule.months, rule.action, rule.legal_basis = months, action, legal_basis
    rule.updated_at, rule.updated_by_id = now or utcnow(), actor_id
    session.flush()
    audit.record(
        session,
        action="retention.rule_update",
        object_type="retention_rule",
        object_id=kind,
        actor_id=actor_id,
        # The basis is free text: the event says that it changed, not what it says.
        payload={
            "before": before,
            "after": {"months": months, "action": action},
            "legal_basis_changed": basis_changed,
        },
        now=now,
    )
    return rule


def due(table: dict[str, RetentionRule], closings: dict[str, dt.datetime | None]) -> Due | None:
    """Return the earliest retention end among a record's closings, or None if none applies.

    ``closings`` maps a kind to the moment the record closed that way (a consent withdrawn and
    a membership ended are both closings; whichever rule ends first applies).
    """
    found = None
    for kind, moment in closings.items():
        rule = table.get(kind)
        if moment is None or rule is None:
            continue
        closed_on = clock.local_date(moment)
        candidate = Due(kind, rule.action, closed_on, add_months(closed_on, rule.months))
        if found is None or candidate.due_on < found.due_on:
            found = candidate
    return found
