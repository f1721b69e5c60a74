"""What every payout step checks first: the legal order, the item, the form's key, one outcome.

A form's idempotency key is bound to the fingerprint of what it asked for: sent again it finds
its own payout, with other details it is refused (``FormResent``, 422); another form for a
settled item is a 409 naming who settled it.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import N_, Conflict, DomainError, NotFound
from core.transitions import already_moved
from incentives.models import AgendaItem, CommissionSession, Payout
from incentives.workflow import PAYOUT

LIVE = ("pending", "paid", "handed_over")

MINUTES_FIRST = N_(
    "The minutes of this session are not final yet. First the secretary makes the minutes"
    " final, then the akimat's act is recorded; only then can the reward be paid."
)
ACT_FIRST = N_(
    "The akimat's act on this session is not recorded yet. Record the akimat's act first;"
    " then the reward can be paid."
)

NO_KEY = N_("The form's key is missing or too long: reload the page and send the form again.")


class FormResent(DomainError):
    """The same form (its idempotency key) came back asking for something else (422)."""


def what_comes_first(sitting: CommissionSession) -> str | None:
    """Return why an item of ``sitting`` cannot be paid yet (a msgid), or None when it can."""
    if sitting.status != "minutes_final":
        return MINUTES_FIRST
    if not sitting.act_number:
        return ACT_FIRST
    return None


def approved_item(session: Session, item_id: int, *, needs_act: bool) -> AgendaItem:
    """Return the approved item of a closed session; with ``needs_act``, minutes and act first."""
    item = session.get(AgendaItem, item_id)
    if item is None or item.outcome != "approved":
        raise NotFound(N_("No approved reward of this number."))
    if item.session.status not in ("closed", "minutes_final"):
        raise Conflict(N_("The session is not closed yet."))
    if needs_act:
        session.refresh(item.session)  # read the session as it is now, not as first loaded
        blocker = what_comes_first(item.session)
        if blocker:
            raise Conflict(blocker)
    return item


def form_fingerprint(kind: str, item_id: int, **details) -> str:
    """Return the fingerprint of what a form asked for, which its key is bound to."""
    text = json.dumps({"kind": kind, "item": item_id, **details}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def sent_before(session: Session, key: str | None, fingerprint: str) -> Payout | None:
    """Return the payout this form made before; refuse when it asked for something else."""
    if key is None:
        return None
    prior = session.scalar(select(Payout).where(Payout.idempotency_key == key))
    if prior is None:
        return None
    if prior.request_hash != fingerprint:
        raise FormResent(
            N_(
                "This form was already sent with other details (account, amount, payment"
                " order or date): what was recorded then stands and nothing was changed."
                " Reload the page to see it; a different payment needs a new form."
            )
        )
    return prior


def refuse_if_settled(session: Session, item_id: int) -> None:
    """Refuse (409, naming who) when the item already has a live or a voided outcome."""
    settled = session.scalar(
        select(Payout)
        .where(Payout.item_id == item_id, Payout.status.in_((*LIVE, "voided")))
        .order_by(Payout.id.desc())
        .limit(1)
    )
    if settled is None:
        return
    if settled.status == "voided":
        # Voiding released the item's commitment: paying it now would draw on other items'.
        raise Conflict(N_("This reward has been voided and can no longer be paid."))
    raise already_moved(session, PAYOUT, settled.id, settled.status)


def insert_once(session: Session, payout: Payout, fingerprint: str) -> Payout | None:
    """Insert ``payout`` (one of PAYOUT's initial states); return the winner of a clash, if any.

    The unique index of live outcomes and the unique key make the database pick one winner
    among concurrent requests; the loser finds the winner's row once it is committed.
    """
    if payout.status not in PAYOUT.initial:  # later states are reached only by advance()
        raise ValueError(f"a payout is not created as {payout.status!r}")
    try:
        with session.begin_nested():
            session.add(payout)
            session.flush()
    except IntegrityError:
        prior = sent_before(session, payout.idempotency_key, fingerprint)
        if prior is not None:
            return prior
        refuse_if_settled(session, payout.item_id)
        raise
    return None


def form_key(idempotency_key: str | None) -> str | None:
    """Return the form's key stripped, None when absent; refuse one too long to be ours."""
    key = (idempotency_key or "").strip()
    if not key:
        return None
    if len(key) > 64:
        raise DomainError(NO_KEY)
    return key
