"""The catalogs follow the official glossary: the terms an akimat avoids never reach a page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parents[2] / "portal" / "translations"

# (language, pattern of a term to avoid, why) — from the team's glossary of official terms.
AVOID = [
    ("ru", r"юрисдикц", "a granted unit is a «территория»"),
    ("ru", r"\bвклад", "«вклад» reads as a bank deposit: «выполненная работа»"),
    ("ru", r"\bсмен[аыуе]\b(?! парол)", "a patrol duty is a «дежурство» (not a password)"),
    (
        "kk",
        r"Құқық бұзушылықтардың профилактикасы",
        "the law's title: «Құқық бұзушылық профилактикасы туралы»",
    ),
    ("kk", r"хаттаманы бекіту", "minutes are signed: «хаттаманы ресімдеу»"),
    ("ru", r"№\s*№", "one number sign"),
    ("kk", r"№\s*№", "one number sign"),
    ("ru", r"\bNo\.", "«№», never «No.»"),
    ("kk", r"\bNo\.", "«№», never «No.»"),
]

# The word a commission's member is called in Russian, and the vote tallies (not the buttons).
REQUIRED = [
    ("ru", "Commission member", "Член комиссии"),
    ("kk", "Commission member", "Комиссия мүшесі"),
    ("ru", "Valid", "Действует"),
    ("kk", "Valid", "Жарамды"),
]


def _catalog(language: str):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def _texts(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_no_catalog_text_uses_a_term_the_glossary_avoids(language):
    found = []
    for message in _catalog(language):
        for text in _texts(message):
            for lang, pattern, why in AVOID:
                if lang == language and re.search(pattern, text, re.IGNORECASE):
                    found.append(f"{message.id!r}: {text!r} ({why})")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("language", "msgid", "text"), REQUIRED)
def test_official_terms_are_used(language, msgid, text):
    message = _catalog(language).get(msgid)
    assert message is not None and message.string == text, (msgid, message and message.string)
