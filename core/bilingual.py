"""Records named in Kazakh and in Russian: pick the name for a language, check both are given."""

from __future__ import annotations

from core import iin
from core.errors import N_, DomainError


def stored_language(language: str) -> str:
    """Return which of a bilingual record's two texts a reader of ``language`` gets: ``ru`` for
    Russian, ``kk`` otherwise (the state language stands in for English, as the units' names
    do)."""
    return "ru" if language == "ru" else "kk"


def in_language(record, field: str, language: str) -> str:
    """Return ``record.<field>_ru`` or ``<field>_kk``, as ``stored_language`` picks."""
    return getattr(record, f"{field}_{stored_language(language)}")


class Missing(DomainError):
    """One of the two texts is missing: a caller may say which text it asked for."""


def both(kk: str | None, ru: str | None, *, required: bool = True) -> tuple[str, str]:
    """Return the two texts with their spaces collapsed; both are needed (or, when not
    ``required``, both or neither), so that no document falls back to the other language.

    Raises ``Missing``, or ``DomainError`` for a text holding an IIN (``core.iin``): these are
    names and places, which the audit chain keeps.
    """
    kk, ru = (" ".join((text or "").split()) for text in (kk, ru))
    if required and not kk:
        raise Missing(N_("Enter the text in Kazakh."))
    if required and not ru:
        raise Missing(N_("Enter the text in Russian."))
    if bool(kk) != bool(ru):
        raise Missing(N_("Enter the text in both Kazakh and Russian, or in neither."))
    iin.refuse_in_names(kk, ru)
    return kk, ru


# The Russian words of a unit's name that change in the genitive ("акимат Абайского района").
_RU_GENITIVE_WORDS = {
    "район": "района",
    "область": "области",
    "город": "города",
    "округ": "округа",
    "село": "села",
    "поселок": "поселка",
    "посёлок": "посёлка",
}
_RU_GENITIVE_ENDINGS = (("ский", "ского"), ("цкий", "цкого"), ("ская", "ской"), ("цкая", "цкой"))


def akimat_names(name_kk: str, name_ru: str) -> tuple[str, str]:
    """Name the akimat of a unit from the unit's names, as a letterhead does: "Бұқар жырау
    ауданы" gives "Бұқар жырау ауданының әкімдігі", "Бухар-Жырауский район" gives "Акимат
    Бухар-Жырауского района". A start for the administrator to correct where it reads wrong."""
    if name_kk.endswith("ы"):
        kk = f"{name_kk}ның әкімдігі"
    elif name_kk.endswith("і"):
        kk = f"{name_kk}нің әкімдігі"
    else:
        kk = f"{name_kk} әкімдігі"
    words = []
    for word in name_ru.split(" "):
        lower = word.lower()
        if lower in _RU_GENITIVE_WORDS:
            word = _RU_GENITIVE_WORDS[lower]
        else:
            for ending, genitive in _RU_GENITIVE_ENDINGS:
                if word.endswith(ending):
                    word = word[: -len(ending)] + genitive
                    break
        words.append(word)
    return kk, "Акимат " + " ".join(words)
