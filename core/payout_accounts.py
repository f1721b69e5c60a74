"""The bank account (IBAN) a person enters for their reward payouts, sealed at rest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from stdnum import iban as stdiban
from stdnum.exceptions import ValidationError

from core import audit
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, DomainError
from core.sealing import Sealed

KZ_IBAN_LENGTH = 20  # KZ, two check digits, a 3-digit bank code and a 13-character account


class PayoutAccount(Base):
    """The IBAN an account holder entered; finance pays their rewards to it."""

    __tablename__ = "payout_account"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    iban: Mapped[str] = mapped_column(Sealed("iban", 120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def normalize_iban(text: str | None) -> str:
    """Validate a Kazakh IBAN (KZ, 20 characters, check digits) and return it compact."""
    compact = stdiban.compact(text or "")
    if compact and not compact.startswith("KZ"):
        raise DomainError(
            N_("Rewards are paid to accounts in Kazakhstan: the IBAN starts with KZ.")
        ).at("iban")
    try:
        value = stdiban.validate(compact)
    except ValidationError:
        raise DomainError(N_("The IBAN is not valid: check the letters and digits.")).at(
            "iban"
        ) from None
    if len(value) != KZ_IBAN_LENGTH:
        raise DomainError(N_("The IBAN is not valid: check the letters and digits.")).at("iban")
    return value


def iban_of(session: Session, user_id: int | None) -> str | None:
    """Return the IBAN ``user_id`` entered for payouts, or None."""
    if not user_id:
        return None
    account = session.get(PayoutAccount, user_id)
    return account.iban if account else None


def set_own_iban(
    session: Session, *, user_id: int, iban: str, now: dt.datetime | None = None
) -> PayoutAccount:
    """Enter or change the account holder's own IBAN for reward payouts.

    Audited without the IBAN, not even masked: the audit chain holds no personal data.
    """
    value = normalize_iban(iban)
    now = now or utcnow()
    account = session.get(PayoutAccount, user_id)
    changed = account is not None
    if account is None:
        account = PayoutAccount(user_id=user_id, iban=value, updated_at=now)
        try:
            with session.begin_nested():
                session.add(account)
        except IntegrityError:  # the same person's other request entered one a moment ago
            raise Conflict(N_("Your IBAN was just saved: reload the page.")) from None
    elif account.iban == value:
        return account  # the same account again: nothing to record
    else:
        account.iban, account.updated_at = value, now
    session.flush()
    audit.record(
        session,
        action="payout_account.changed" if changed else "payout_account.entered",
        object_type="user",
        object_id=user_id,
        actor_id=user_id,
        now=now,
    )
    return account
