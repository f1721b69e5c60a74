"""Kazakhstan individual identification numbers (ИИН/ЖСН): parsing, check digit, age, masking."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from core import clock
from core.errors import N_, DomainError

_DIGITS = frozenset("0123456789")
_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# The 7th digit encodes century and sex: odd is male, even is female.
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
# Nobody alive is older than this: an IIN saying so is a typing error (a wrong century digit).
MAX_AGE_YEARS = 120
# Twelve digits standing alone: what an IIN looks like inside a text. Inside a longer
# letter-and-digit token (a SHA-256 head hash has a run of twelve digits about one time in
# five) they are not an IIN.
IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")


class InvalidIIN(DomainError):
    """The text is not an IIN that can have been issued."""

    status = 422


@dataclass(frozen=True)
class IIN:
    """A valid IIN with what it says about its holder."""

    value: str
    birth_date: datetime.date
    sex: str  # "male" | "female"


def _is_digits(text: str) -> bool:
    # str.isdigit() would let through other scripts' digits and superscripts.
    return bool(text) and set(text) <= _DIGITS


def checksum_digit(first11: str) -> int | None:
    """Return the check digit for the first 11 digits, or None when no IIN can end them."""
    if len(first11) != 11 or not _is_digits(first11):
        raise ValueError("checksum_digit needs exactly 11 ASCII digits")
    digits = [int(c) for c in first11]
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        c = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if c != 10:
            return c
    return None


def parse_iin(text: str, *, today: datetime.date | None = None) -> IIN:
    """Return the IIN in ``text``, or raise InvalidIIN saying what is wrong with it.

    A birth date after ``today`` (the local date by default) or more than 120 years before it
    is refused: such an IIN was mistyped, and every age computed from it would be nonsense.
    """
    value = text.strip()
    if not value:
        raise InvalidIIN(N_("Enter the IIN."))
    if len(value) != 12:
        raise InvalidIIN(N_("The IIN must have 12 digits; %(n)s given."), n=len(value))
    if not _is_digits(value):
        raise InvalidIIN(N_("The IIN may contain only digits."))
    code = int(value[6])
    if code not in _CENTURY:
        raise InvalidIIN(
            N_("The 7th digit of the IIN (century and sex) must be 1–6; it is %(d)s."), d=code
        )
    try:
        birth = datetime.date(_CENTURY[code] + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise InvalidIIN(N_("The IIN holds an impossible birth date.")) from None
    today = today or clock.today()
    if birth > today:
        raise InvalidIIN(
            N_("The IIN gives a birth date in the future (%(date)s); check the digits."),
            date=birth.isoformat(),
        )
    if today.year - birth.year > MAX_AGE_YEARS:
        raise InvalidIIN(
            N_(
                "The IIN gives a birth date more than %(n)s years ago (%(date)s); check the digits."
            ),
            n=MAX_AGE_YEARS,
            date=birth.isoformat(),
        )
    check = checksum_digit(value[:11])
    if check is None:
        raise InvalidIIN(N_("This IIN cannot exist: its check digit cannot be computed."))
    if check != int(value[11]):
        raise InvalidIIN(N_("The IIN check digit is wrong."))
    return IIN(value=value, birth_date=birth, sex="male" if code % 2 else "female")


def age_on(iin: IIN, day: datetime.date) -> int:
    """Return the holder's age in full years on ``day``."""
    born = iin.birth_date
    if day < born:
        raise ValueError("day is before the birth date")
    try:
        birthday = born.replace(year=day.year)
    except ValueError:
        # Born on 29 February: in a common year the year is complete on 1 March.
        birthday = datetime.date(day.year, 3, 1)
    return day.year - born.year - (day < birthday)


def refuse_in_names(*texts: str | None) -> None:
    """Refuse a name or a place typed with a 12-digit number in it.

    Names and places are recorded in the audit chain, which never holds an IIN (``core.audit``
    refuses a payload with one, a 500 before the fuzzing probe of issue 16 found five forms
    that reached it). No name or address has such a number; one typed there is an IIN pasted
    into the wrong box.
    """
    if any(text and IN_TEXT.search(text) for text in texts):
        raise DomainError(
            N_("A name or a place may not hold a 12-digit number: it reads as an IIN.")
        )


def mask_iin(value: str) -> str:
    """Hide all but the last 4 digits of an IIN, for lists and logs."""
    return "•" * 8 + value[-4:] if len(value) == 12 else "••••"


def make_iin(birth_date: datetime.date, sex: str, serial: int) -> str:
    """Build a valid IIN (for demo data); an impossible check digit moves to the next serial."""
    if sex not in ("male", "female"):
        raise ValueError("sex must be 'male' or 'female'")
    if not 1800 <= birth_date.year <= 2099:
        raise ValueError("an IIN can only encode births from 1800 to 2099")
    if not 0 <= serial <= 9999:
        raise ValueError("serial must be 0..9999")
    code = (birth_date.year - 1800) // 100 * 2 + (1 if sex == "male" else 2)
    head = f"{birth_date:%y%m%d}{code}"
    # Pass 1 ignores the last serial digit (weight 11) and pass 2 shifts by 2 per step, so the
    # serial after one without a check digit always has one.
    while (check := checksum_digit(f"{head}{serial:04d}")) is None:
        serial = (serial + 1) % 10000
    return f"{head}{serial:04d}{check}"
