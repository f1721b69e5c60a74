"""Numbers of official documents: stored without the "№" sign, printed with exactly one."""

from __future__ import annotations

import re

# A leading "№" (or its Latin look-alikes "No." and "N°") that the user typed before the number.
_SIGN = re.compile(r"^(?:№|N[o°º]\.?(?=\s|\d)|#)\s*", re.IGNORECASE)


def without_sign(text: str | None) -> str:
    """Return ``text`` with its spaces collapsed and every leading "№" sign dropped."""
    number = " ".join((text or "").split())
    while (stripped := _SIGN.sub("", number, count=1)) != number:
        number = stripped
    return number


def numbered(number: str | None) -> str:
    """Print a stored number with exactly one "№" sign ("" when there is no number)."""
    number = without_sign(number)
    return f"№ {number}" if number else ""
