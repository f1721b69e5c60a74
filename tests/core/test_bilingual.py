"""Bilingual records: both languages required, and an akimat named from its unit's names."""

from __future__ import annotations

import pytest

from core.bilingual import akimat_names, both
from core.errors import DomainError


def test_both_languages_are_required_or_neither():
    assert both(" Әкімдік \n зал ", "Акимат,  зал") == ("Әкімдік зал", "Акимат, зал")
    assert both("", " ", required=False) == ("", "")
    for kk, ru in (("Әкімдік", ""), ("", "Акимат")):
        with pytest.raises(DomainError):
            both(kk, ru)
        with pytest.raises(DomainError):
            both(kk, ru, required=False)


@pytest.mark.parametrize(
    ("unit", "akimat"),
    [
        (
            ("Бұқар жырау ауданы", "Бухар-Жырауский район"),
            ("Бұқар жырау ауданының әкімдігі", "Акимат Бухар-Жырауского района"),
        ),
        (
            ("Қарағанды облысы", "Карагандинская область"),
            ("Қарағанды облысының әкімдігі", "Акимат Карагандинской области"),
        ),
        (
            ("Ботақара кенті", "поселок Ботакара"),
            ("Ботақара кентінің әкімдігі", "Акимат поселка Ботакара"),
        ),
        (("Астана қаласы", "город Астана"), ("Астана қаласының әкімдігі", "Акимат города Астана")),
    ],
)
def test_akimat_names_are_in_the_genitive(unit, akimat):
    assert akimat_names(*unit) == akimat
