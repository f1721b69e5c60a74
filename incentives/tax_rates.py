"""Tax rates withheld from rewards: entered per jurisdiction, reward form and date, audited.

The portal assumes no rate: until the finance department enters one with its legal basis,
nothing is withheld (see ``incentives.payouts.rate_for`` and ``withholding``).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.errors import N_, Conflict, DomainError
from incentives.models import MONEY_FORMS, PayoutTaxRate

_PERCENT = re.compile(r"^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$")


def parse_percent(text: str) -> int:
    """Return a percentage typed as ``10``, ``10,5`` or ``12.25 %`` in basis points (0..10000)."""
    found = _PERCENT.match(text or "")
    if not found:
        raise DomainError(N_("Enter the rate in per cent, e.g. 10 or 10,5."))
    whole, fraction = found.group(1), (found.group(2) or "").ljust(2, "0")
    basis_points = int(whole) * 100 + int(fraction)
    if basis_points > 10_000:
        raise DomainError(N_("A rate cannot be more than 100 per cent."))
    return basis_points


def enter_rate(
    session: Session,
    *,
    unit_id: int,
    form: str,
    effective_from: dt.date,
    rate_bp: int,
    exempt_tiyn: int,
    legal_basis: str,
    actor_id: int,
) -> PayoutTaxRate:
    """Record the rate withheld from rewards of ``form`` in ``unit_id`` from ``effective_from``.

    A rate is never edited: a change is a new rate from a later date, so a payout always
    shows the rate it was computed with.
    """
    if form not in MONEY_FORMS:
        raise DomainError(N_("Tax is withheld only from cash rewards and valuable gifts."))
    if not 0 <= rate_bp <= 10_000:
        raise DomainError(N_("A rate cannot be more than 100 per cent."))
    if exempt_tiyn < 0:
        raise DomainError(N_("The value cannot be negative."))
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise DomainError(N_("Name the legal basis of the rate (the act and its article)."))
    rate = PayoutTaxRate(
        unit_id=unit_id,
        form=form,
        effective_from=effective_from,
        rate_bp=rate_bp,
        exempt_tiyn=exempt_tiyn,
        legal_basis=legal_basis,
        entered_by_id=actor_id,
    )
    duplicate = session.scalar(
        select(PayoutTaxRate.id).where(
            PayoutTaxRate.unit_id == unit_id,
            PayoutTaxRate.form == form,
            PayoutTaxRate.effective_from == effective_from,
        )
    )
    if duplicate is None:
        try:
            with session.begin_nested():
                session.add(rate)
                session.flush()
        except IntegrityError:
            duplicate = True
    if duplicate is not None:
        raise Conflict(
            N_(
                "A rate for this form from this date is already entered here: enter the new"
                " rate from a later date."
            )
        )
    audit.record(
        session,
        action="payout_tax_rate.entered",
        object_type="payout_tax_rate",
        object_id=rate.id,
        actor_id=actor_id,
        payload={
            "unit_id": unit_id,
            "form": form,
            "effective_from": effective_from.isoformat(),
            "rate_bp": rate_bp,
            "exempt_tiyn": exempt_tiyn,
            "legal_basis": legal_basis,
        },
    )
    return rate
