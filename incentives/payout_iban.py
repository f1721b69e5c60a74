"""Whose IBAN a cash reward is paid to: the one the recipient entered, never one finance retypes.

A recipient with an account enters their IBAN in their cabinet (``core.payout_accounts``);
finance pays to it. A collective recipient without an account (a team, a rural
administration) cannot enter one, so finance enters that IBAN on the payment form.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, notifications, payout_accounts
from core.account_models import User
from core.errors import N_, Conflict
from incentives.models import AgendaItem
from incentives.payout_guards import approved_item, refuse_if_settled

IBAN_MISSING = N_(
    "The recipient has not entered an IBAN for payouts yet: ask them to enter it in their"
    " cabinet; the payment can be recorded once it is there."
)
ASK_KIND = "payout.iban_missing"


def enters_own_iban(item: AgendaItem) -> bool:
    """Tell whether the item's recipient has an account, and so enters the IBAN themself."""
    return item.nomination.recipient_user is not None


def recipient_iban(session: Session, item: AgendaItem) -> str | None:
    """Return the IBAN the item's recipient entered, or None."""
    return payout_accounts.iban_of(session, item.nomination.recipient_user)


def iban_to_pay(session: Session, item: AgendaItem, typed: str | None) -> str:
    """Return the IBAN to pay ``item`` to: the recipient's own, or ``typed`` for a collective one.

    Refused (409) while a recipient with an account has not entered theirs.
    """
    if not enters_own_iban(item):
        return typed or ""
    iban = recipient_iban(session, item)
    if iban is None:
        # What stops the payment anyway is said first: no act yet, paid or voided already.
        approved_item(session, item.id, needs_act=True)
        refuse_if_settled(session, item.id)
        raise Conflict(IBAN_MISSING)
    return iban


def ask_for_iban(
    session: Session, *, item: AgendaItem, actor_id: int, now: dt.datetime | None = None
) -> None:
    """Notify the recipient that their reward waits for their IBAN, once while it is unread.

    A second press (a double click, a second officer) is refused with a 409: the item's row
    is locked first, so two requests at once cannot both find no notice and both send one.
    """
    user_id = item.nomination.recipient_user
    if user_id is None:
        raise Conflict(N_("This recipient has no account: enter the IBAN on the payment form."))
    session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    if recipient_iban(session, item) is not None:
        raise Conflict(N_("The recipient has already entered an IBAN."))
    params = {"item_id": item.id, "nomination_id": item.nomination_id}
    pending = session.scalar(
        select(func.count())
        .select_from(notifications.Notification)
        .where(
            notifications.Notification.user_id == user_id,
            notifications.Notification.kind == ASK_KIND,
            notifications.Notification.params == notifications.canonical(params),
            notifications.Notification.read_at.is_(None),
        )
    )
    if pending:
        raise Conflict(N_("The recipient was already asked and has not read the notice yet."))
    user = session.get(User, user_id)
    notifications.queue_message(
        session,
        user_id=user.id,
        email=user.email,
        kind=ASK_KIND,
        params=params,
        language=user.preferred_language,
    )
    audit.record(
        session,
        action="payout.iban_requested",
        object_type="agenda_item",
        object_id=item.id,
        actor_id=actor_id,
        now=now,
    )
