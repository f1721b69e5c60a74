"""Search keys and search-box parsing: Unicode- and Kazakh-aware, alike for records and queries."""

from __future__ import annotations

import pytest

from core.search_text import (
    KEY_LENGTH,
    MAX_TOKENS,
    loose,
    normalise,
    parse_query,
    search_key,
    tokens,
)


@pytest.mark.parametrize(
    "typed",
    [
        "Әбілқасымова",
        "әбілқасымова",
        "ӘБІЛҚАСЫМОВА",
        "Абилкасымова",
        "абилкасымова",
        "Əбiлқасымова",
    ],
)
def test_search_key_folds_case_and_kazakh_letters_alike(typed):
    assert loose(typed) == search_key("Әбілқасымова Гүлмира").split()[0]


def test_normalise_keeps_kazakh_letters_and_drops_punctuation_and_case():
    assert normalise("  ӘБІЛҚАСЫМОВА,\tГүлмира  ") == "әбілқасымова гүлмира"
    assert normalise("Иванов-Петров (Иван)") == "иванов петров иван"
    assert normalise("Пётр Семёнович") == "петр семенович"
    assert normalise("Ｉｖａｎ") == "ivan"  # NFKC: full-width letters
    assert normalise("İnkar") == "inkar"  # a casefolded dotted capital I leaves no stray mark


def test_every_kazakh_letter_has_its_look_alike_in_the_loose_key():
    assert loose("ӘҒҚҢӨҰҮҺІ") == "агкноуухи"
    assert loose("Айгерім") == loose("Айгерим") == "айгерим"


def test_latin_words_stay_latin_and_look_alikes_are_read_only_inside_cyrillic_words():
    assert tokens("Portal Administrator") == ["portal", "administrator"]
    assert tokens("Aйгерiм") == ["айгерім"]  # Latin "A" and "i" typed in a Cyrillic word


def test_search_key_of_nothing_and_of_a_very_long_name():
    assert search_key(None) is None
    assert search_key("") == ""
    assert len(search_key("\ufdfa" * 200)) == KEY_LENGTH  # NFKC lengthens this one 18 times


@pytest.mark.parametrize("typed", ["900101300017", " 9001 0130 0017 ", "900101 300017"])
def test_twelve_digits_are_an_iin(typed):
    query = parse_query(typed)
    assert query.iin == "900101300017" and not query.words and not query.certificate


@pytest.mark.parametrize(
    "typed",
    [
        "354000000-2026-00012",
        "№354000000-2026-00012",
        "№ 354000000 - 2026 - 00012",
        "№ 354000000 2026 12",
        "No. 354000000–2026–12",
    ],
)
def test_a_certificate_number_as_printed_is_read_whole(typed):
    query = parse_query(typed)
    assert query.certificate == "354000000-2026-00012" and query.certificate_exact


def test_part_of_a_certificate_number_is_searched_as_a_part():
    query = parse_query("2026-000")
    assert query.certificate == "2026-000" and not query.certificate_exact
    assert parse_query("90010130001").certificate == "90010130001"  # 11 digits: not an IIN


def test_names_are_words_and_punctuation_alone_asks_for_nothing():
    assert parse_query("ИВАНОВ  иван").words == ("иванов", "иван")
    assert parse_query("Nurlan").words == ("nurlan",)  # a leading N is no number sign here
    assert parse_query("%_%").empty and parse_query("  ").empty
    assert len(parse_query("а " * 50).words) == MAX_TOKENS
