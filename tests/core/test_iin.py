"""IIN: parsing and every refusal, both check-digit passes, age, masking, demo-data builder."""

from __future__ import annotations

from datetime import date

import pytest

from core import audit
from core.errors import DomainError
from core.iin import (
    IIN,
    InvalidIIN,
    age_on,
    checksum_digit,
    make_iin,
    mask_iin,
    parse_iin,
    refuse_in_names,
)

FIRST_WEIGHTS = range(1, 12)


def first_pass(first11: str) -> int:
    return sum(w * int(c) for w, c in zip(FIRST_WEIGHTS, first11, strict=True)) % 11


def refusal(text: str) -> InvalidIIN:
    with pytest.raises(InvalidIIN) as caught:
        parse_iin(text)
    return caught.value


def test_parse_iin_reads_leading_zero_female_born_2006():
    assert parse_iin("061211600012") == IIN("061211600012", date(2006, 12, 11), "female")


def test_parse_iin_reads_male_born_1990():
    assert parse_iin("900101300017") == IIN("900101300017", date(1990, 1, 1), "male")


def test_parse_iin_strips_surrounding_whitespace():
    assert parse_iin("  900101300017\n").value == "900101300017"


@pytest.mark.parametrize(
    ("code", "year", "sex"),
    [(1, 1800, "male"), (2, 1800, "female"), (3, 1900, "male"), (4, 1900, "female"),
     (5, 2000, "male"), (6, 2000, "female")],
)  # fmt: skip
def test_parse_iin_reads_century_and_sex_from_7th_digit(code, year, sex):
    head = f"050607{code}0001"
    # Asked on a day when such a holder can be alive (not born yet, or over 120, is refused).
    iin = parse_iin(head + str(checksum_digit(head)), today=date(year + 60, 1, 1))
    assert (iin.birth_date, iin.sex) == (date(year + 5, 6, 7), sex)


def test_parse_iin_refuses_a_birth_date_in_the_future_or_beyond_any_lifetime():
    # 921111500030 reads as 11 November 2092: a mistyped century digit (was a 500 on /apply).
    future = refusal_on("921111500030", date(2026, 12, 6))
    assert future.status == 422
    assert "in the future" in future.message and future.params["date"] == "2092-11-11"
    head = "05060710001"  # 7 June 1805
    ancient = refusal_on(head + str(checksum_digit(head)), date(2026, 12, 6))
    assert "more than" in ancient.message and ancient.params["n"] == 120
    # The day of birth itself is fine (a newborn's IIN is issued that day).
    assert parse_iin("921111500030", today=date(2092, 11, 11)).birth_date == date(2092, 11, 11)


def refusal_on(text, today):
    with pytest.raises(InvalidIIN) as caught:
        parse_iin(text, today=today)
    return caught.value


def test_parse_iin_refuses_empty():
    error = refusal("   ")
    assert error.message == "Enter the IIN."
    assert error.status == 422


@pytest.mark.parametrize("text", ["90010130001", "9001013000170", "9001 01300017"])
def test_parse_iin_refuses_wrong_length(text):
    error = refusal(text)
    assert error.message == "The IIN must have 12 digits; %(n)s given."
    assert error.params == {"n": len(text)}
    assert str(error) == f"The IIN must have 12 digits; {len(text)} given."


@pytest.mark.parametrize("text", ["90010130001A", "900101 00017", "9001013000١7", "-90010130001"])
def test_parse_iin_refuses_non_digits(text):
    assert refusal(text).message == "The IIN may contain only digits."


@pytest.mark.parametrize("code", [0, 7, 8, 9])
def test_parse_iin_refuses_unknown_century_digit(code):
    error = refusal(f"900101{code}00017")
    assert error.message == "The 7th digit of the IIN (century and sex) must be 1–6; it is %(d)s."
    assert error.params == {"d": code}


@pytest.mark.parametrize("text", ["901301300017", "900132300017", "900230300017", "000229300017"])
def test_parse_iin_refuses_impossible_birth_date(text):
    # 000229 with digit 3 is 29 Feb 1900, which did not exist (1900 is not a leap year).
    assert refusal(text).message == "The IIN holds an impossible birth date."


def test_parse_iin_accepts_29_february_2000():
    head = "0002295" + "0001"
    assert parse_iin(head + str(checksum_digit(head))).birth_date == date(2000, 2, 29)


def test_parse_iin_refuses_wrong_check_digit():
    assert refusal("900101300018").message == "The IIN check digit is wrong."


@pytest.mark.parametrize("last", "0123456789")
def test_parse_iin_refuses_number_without_check_digit(last):
    error = refusal("90010130080" + last)
    assert error.message == "This IIN cannot exist: its check digit cannot be computed."


def test_checksum_digit_first_pass():
    assert first_pass("90010130001") == 7
    assert checksum_digit("90010130001") == 7


def test_checksum_digit_second_pass_when_first_gives_10():
    assert first_pass("90010130081") == 10
    assert checksum_digit("90010130081") == 1
    assert parse_iin("900101300811").sex == "male"


def test_checksum_digit_second_pass_for_leading_zero_iin():
    assert first_pass("06121160001") == 10
    assert checksum_digit("06121160001") == 2


def test_checksum_digit_none_when_both_passes_give_10():
    assert first_pass("90010130080") == 10
    assert checksum_digit("90010130080") is None


@pytest.mark.parametrize("text", ["9001013000", "900101300012", "9001013000a"])
def test_checksum_digit_rejects_malformed_input(text):
    with pytest.raises(ValueError):
        checksum_digit(text)


def born(day: date) -> IIN:
    return parse_iin(make_iin(day, "female", 1))


def test_age_on_eve_of_18th_birthday_is_17():
    assert age_on(born(date(2008, 5, 20)), date(2026, 5, 19)) == 17


def test_age_on_18th_birthday_is_18():
    assert age_on(born(date(2008, 5, 20)), date(2026, 5, 20)) == 18


def test_age_on_29_february_birthday_counts_on_1_march_in_common_years():
    leapling = born(date(2008, 2, 29))
    assert age_on(leapling, date(2026, 2, 28)) == 17
    assert age_on(leapling, date(2026, 3, 1)) == 18


def test_age_on_29_february_birthday_in_a_leap_year():
    leapling = born(date(2008, 2, 29))
    assert age_on(leapling, date(2028, 2, 28)) == 19
    assert age_on(leapling, date(2028, 2, 29)) == 20


def test_age_on_birth_day_is_0_and_before_it_an_error():
    baby = born(date(2025, 1, 1))
    assert age_on(baby, date(2025, 1, 1)) == 0
    with pytest.raises(ValueError):
        age_on(baby, date(2024, 12, 31))


def test_mask_iin_keeps_last_4_digits():
    assert mask_iin("061211600012") == "••••••••0012"


@pytest.mark.parametrize("value", ["", "0012", "0612116000123"])
def test_mask_iin_hides_everything_when_not_12_characters(value):
    assert mask_iin(value) == "••••"


@pytest.mark.parametrize(
    ("day", "sex", "code"),
    [(date(1899, 12, 31), "male", "1"), (date(1990, 1, 1), "female", "4"),
     (date(2006, 12, 11), "female", "6"), (date(2000, 2, 29), "male", "5")],
)  # fmt: skip
def test_make_iin_builds_a_valid_iin(day, sex, code):
    value = make_iin(day, sex, 42)
    assert value[6] == code
    assert value[7:11] == "0042"
    assert parse_iin(value, today=date(2010, 1, 1)) == IIN(value, day, sex)


def test_make_iin_skips_a_serial_without_check_digit():
    # Serial 0080 after 1 Jan 1990, male, has no check digit (both passes give 10).
    assert make_iin(date(1990, 1, 1), "male", 80) == "900101300811"


@pytest.mark.parametrize(
    ("day", "sex", "serial"),
    [(date(1799, 12, 31), "male", 0), (date(2100, 1, 1), "male", 0),
     (date(1990, 1, 1), "other", 0), (date(1990, 1, 1), "male", 10000)],
)  # fmt: skip
def test_make_iin_rejects_what_an_iin_cannot_hold(day, sex, serial):
    with pytest.raises(ValueError):
        make_iin(day, sex, serial)


@pytest.mark.parametrize(
    "text",
    ["Патруль 061211600012", "061211600012", "Маршрут:061211600012.", ("Атау", "ИИН 900101300811")],
)
def test_a_name_with_a_12_digit_number_is_refused_before_the_audit_chain_refuses_it(text):
    texts = text if isinstance(text, tuple) else (text,)
    with pytest.raises(DomainError, match="12-digit number"):
        refuse_in_names(*texts)
    # What the rule refuses is what the audit chain would have refused with a 500.
    with pytest.raises(ValueError, match="12-digit number"):
        audit._check_no_raw_iin({"name": texts[-1]})


@pytest.mark.parametrize(
    "text",
    ["Маршрут № 12, дом 5", "1234567890123", "12345678901", "a061211600012", "", None],
)
def test_a_name_without_a_standalone_12_digit_number_passes(text):
    refuse_in_names(text)
    if text:
        audit._check_no_raw_iin({"name": text})
