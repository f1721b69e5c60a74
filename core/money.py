"""Money as integer tiyn (1 tenge = 100 tiyn): parsing what people type, never floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.errors import N_, DomainError

_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d+)?$")
# A trillion tenge: above any budget of the country, far below a BIGINT column's limit, so an
# absurd amount is refused with a message instead of overflowing the database (a 500).
MAX_TIYN = 10**12 * 100


def parse_tenge(text: str) -> int:
    """Parse ``"1 234 567,89"`` or ``"1234567.89"`` into tiyn; more than 2 decimals is an error."""
    cleaned = re.sub(r"[\s\u00a0\u202f₸]", "", text or "")
    if not _AMOUNT.match(cleaned):
        raise DomainError(N_("Enter an amount in tenge, e.g. 1 234 567,89."))
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise DomainError(N_("Enter an amount in tenge, e.g. 1 234 567,89.")) from None
    if value.as_tuple().exponent < -2:
        raise DomainError(N_("An amount has at most two decimals (tiyn): %(text)s."), text=text)
    return within_range(int(value * 100))


def within_range(amount_tiyn: int) -> int:
    """Refuse an amount beyond ``MAX_TIYN`` either way; every amount computed from what people
    typed (tenge, or MCI times the year's rate) passes here before it reaches a column."""
    if abs(amount_tiyn) > MAX_TIYN:
        raise DomainError(
            N_("The amount is too large: at most %(max)s."), max=format_tiyn(MAX_TIYN)
        )
    return amount_tiyn


def require_positive(amount_tiyn: int) -> int:
    """Refuse zero and negative amounts."""
    if amount_tiyn <= 0:
        raise DomainError(N_("The amount must be greater than zero."))
    return amount_tiyn


def format_tiyn(amount_tiyn: int) -> str:
    """Format tiyn as ``1 234 567,89 ₸`` (the portal localizes further)."""
    amount_tiyn = int(amount_tiyn)  # PostgreSQL sums arrive as Decimal
    sign = "-" if amount_tiyn < 0 else ""
    tenge, tiyn = divmod(abs(amount_tiyn), 100)
    return f"{sign}{tenge:,}".replace(",", "\u00a0") + f",{tiyn:02d}\u00a0₸"
