"""Hearings of a commission's sitting: one per refused or deferred reward, adopted by its act."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from appeals import hearings
from appeals.hearing_common import clean_text, in_scope
from appeals.models import LIVE_HEARING, Hearing, HearingObjection
from appeals.workflow import HEARING
from core import audit
from core.db import utcnow
from core.errors import N_, Conflict
from core.scope import Scope
from core.transitions import advance
from incentives import sittings
from incentives.models import AgendaItem

ACT_OF_OUTCOME = {"rejected": "refuse_reward", "deferred": "defer_reward"}
# A deferral's reason (incentives.awards) by the words of its msgid -> the legal ground.
DEFERRAL_GROUNDS = (
    ("quorum", "defer_no_quorum"),
    ("cap", "defer_cap"),
    ("budget", "defer_budget"),
    ("balance", "defer_budget"),
)


def _ground(outcome: str, reason: str | None) -> str:
    if outcome == "rejected":
        return "reward_commission_vote"
    try:
        msgid = json.loads(reason or "{}").get("msg", "")
    except (ValueError, AttributeError):
        msgid = ""
    for word, code in DEFERRAL_GROUNDS:
        if word in msgid.lower():
            return code
    return "defer_commission_decision"


def draft_for_sitting(
    session: Session, *, sitting_id: int, actor_id: int, now: dt.datetime | None = None
) -> list[Hearing]:
    """After ``sessions.close``: draft and notify one hearing per refused or deferred reward of
    a person (a member, or an activist's account); a collective recipient has nobody to hear.
    Running it again adds nothing."""
    now = now or utcnow()
    sitting = sittings.get_session(session, sitting_id)
    if sitting.status not in ("closed", "minutes_final"):
        raise Conflict(N_("The sitting has not decided yet: close it first."))
    existing = set(
        session.execute(
            select(Hearing.subject_id, Hearing.act_kind).where(Hearing.sitting_id == sitting.id)
        ).all()
    )
    everywhere = Scope.everywhere()  # the sitting's closing authorised the hearings
    drafted = []
    for item in sitting.items:
        act_kind = ACT_OF_OUTCOME.get(item.outcome or "")
        nomination = item.nomination
        if act_kind is None or (nomination.id, act_kind) in existing:
            continue
        if nomination.member_id is None and nomination.recipient_user_id is None:
            continue
        if nomination.status != item.outcome:
            continue  # already on another agenda: the later sitting decides
        hearing = hearings.draft(
            session,
            act_kind=act_kind,
            subject_id=nomination.id,
            grounds=[_ground(item.outcome, item.outcome_reason)],
            grounds_text="",
            actor_id=actor_id,
            scope=everywhere,
            now=now,
            sitting_id=sitting.id,
        )
        hearings.notify(
            session, hearing_id=hearing.id, actor_id=actor_id, scope=everywhere, now=now
        )
        drafted.append(hearing)
    return drafted


def _open_hearings(session: Session, sitting_id: int) -> list[Hearing]:
    return list(
        session.scalars(
            select(Hearing)
            .where(Hearing.sitting_id == sitting_id, Hearing.status.in_(LIVE_HEARING))
            .order_by(Hearing.id)
        )
    )


def _unanswered(session: Session, hearing: Hearing) -> bool:
    """Objections were made and the secretary has not said how they were considered."""
    if (hearing.stated_reasons or "").strip():
        return False
    return bool(session.scalar(select(exists().where(HearingObjection.hearing_id == hearing.id))))


def sitting_act_blockers(session: Session, *, sitting_id: int, today: dt.date) -> list[Hearing]:
    """Return the sitting's hearings whose term has not ended, whose oral hearing has no
    protocol, or whose objections have no stated reasons: the akimat's act waits for them."""
    return [
        hearing
        for hearing in _open_hearings(session, sitting_id)
        if hearings.adoption_blockers(session, hearing, today)
        or hearings.oral_pending(session, hearing)
        or _unanswered(session, hearing)
    ]


def set_sitting_hearing_reasons(
    session: Session,
    *,
    hearing_id: int,
    reasons: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Hearing:
    """State, before the akimat's act, how a sitting's hearing's objections were considered;
    stating them again replaces the text while the hearing is open."""
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    if hearing.sitting_id is None:
        raise Conflict(N_("Only a hearing of a commission's sitting takes reasons before its act."))
    text = clean_text(reasons, "reasons", N_("Say how the objections were considered."))
    step = "state_reasons_heard" if hearing.status == "heard" else "state_reasons"
    advance(session, HEARING, hearing, step, values={"stated_reasons": text})
    audit.record(
        session,
        action="hearing.reasons",
        object_type="hearing",
        object_id=hearing.id,
        actor_id=actor_id,
        now=now,
        payload={"status": hearing.status, "sitting_id": hearing.sitting_id},
    )
    return hearing


def _vote(value: int | None) -> str:
    return "-" if value is None else str(value)


def act_reasons(session: Session, hearing: Hearing) -> str:
    """The reasons of a sitting's act on one person: the commission's decision with its vote
    and reason (as the minutes keep it), then how the objections were considered."""
    from incentives.minutes import outcome_reason

    item = session.scalar(
        select(AgendaItem).where(
            AgendaItem.session_id == hearing.sitting_id,
            AgendaItem.nomination_id == hearing.subject_id,
        )
    )
    lines = []
    if item is not None:
        # The record's text (the documents word it in kk and ru from the same item).
        lines.append(
            f"Commission vote: for {_vote(item.votes_for)}, against {_vote(item.votes_against)},"
            f" abstained {_vote(item.abstained)}."
        )
        reason = outcome_reason(item.outcome_reason, lambda msgid, **p: msgid % p if p else msgid)
        if reason:
            lines.append(reason)
    if (hearing.stated_reasons or "").strip():
        lines.append(hearing.stated_reasons.strip())
    return "\n".join(lines) or hearing.act_kind


def adopt_for_sitting(
    session: Session, *, sitting_id: int, actor_id: int, now: dt.datetime | None = None
) -> list[Hearing]:
    """Right after ``minutes.record_act``: adopt the sitting's open hearings with its act."""
    now = now or utcnow()
    sitting = sittings.get_session(session, sitting_id)
    if not sitting.act_number or sitting.act_date is None:
        raise Conflict(N_("Record the akimat's act on the sitting first."))
    adopted = []
    for hearing in _open_hearings(session, sitting_id):
        adopted.append(
            hearings.adopt_with_act(
                session,
                hearing,
                act_number=sitting.act_number,
                act_on=sitting.act_date,
                act_reasons=act_reasons(session, hearing),
                actor_id=actor_id,
                now=now,
            )
        )
    return adopted
