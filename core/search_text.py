"""Search keys for names, and what a search box's text asks for: a name, a certificate, an IIN.

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, so "иванов" never met "Иванов" there.
Names are therefore compared through a stored **search key**, made in Python the same way for
the record and for the query: NFKC, casefold, punctuation to spaces, ё → е, and a *loose*
folding of the Kazakh letters to their Russian look-alikes (ә → а, ғ → г, қ → к, ң → н, ө → о,
ұ/ү → у, һ → х, і → и), since many people type Kazakh names on a Russian keyboard: "Абилкасымова"
finds "Әбілқасымова" and the other way round. Latin letters typed inside a Cyrillic word (a
Kazakh "і" typed as Latin "i") are read as their Cyrillic twins. Names are not sealed at rest
(only IINs, phones, e-mails and addresses are, core.sealing), so the key holds name tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_

from core.sealing import blind_index

# Kazakh letters folded to the Russian letters typed for them on a Russian keyboard.
_LOOSE = str.maketrans("әғқңөұүһі", "агкноуухи")
# Latin and IPA look-alikes typed inside a Cyrillic word (Kazakh layouts are missing on many
# phones: "Әбілқасымова" arrives as "Əбiлқасымова").
_TWINS = str.maketrans("acehikmoptxyəɵ", "асеһікмортхуәө")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]+")
_CERTIFICATE = re.compile(r"^(\d{9})-(\d{4})-(\d{1,5})$")
_NUMBER_SIGN = re.compile(r"^\s*(№|no\.?|n)\s*", re.IGNORECASE)
# A query longer than a name is cut: the SQL has one condition per token.
MAX_QUERY = 200
MAX_TOKENS = 6
# The key column's length: NFKC may lengthen a name of 200 characters ("№" → "No").
KEY_LENGTH = 400


def tokens(text: str | None) -> list[str]:
    """Return the normalised words of ``text``: NFKC, casefolded, ё → е, punctuation dropped.

    Kazakh letters stay as they are; combining marks left over after NFKC (a casefolded "İ")
    are dropped without splitting the word.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text or "").casefold())
    chars = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LN":
            chars.append(char)
        elif category != "Mn":
            chars.append(" ")
    words = "".join(chars).replace("ё", "е").split()
    return [w.translate(_TWINS) if _CYRILLIC.search(w) else w for w in words]


def normalise(text: str | None) -> str:
    """Return ``text`` normalised for comparison, Kazakh letters kept ("Әбілқасымова" →
    "әбілқасымова")."""
    return " ".join(tokens(text))


def loose(text: str | None) -> str:
    """Return ``text`` normalised with the Kazakh letters folded ("Әбілқасымова" →
    "абилкасымова")."""
    return normalise(text).translate(_LOOSE)


def search_key(name: str | None) -> str | None:
    """Return the stored search key of a name: its loose words, space-separated."""
    return None if name is None else loose(name)[:KEY_LENGTH]


def key_default(context) -> str | None:
    """Column default of a search key: the key of the row's ``full_name``.

    A bulk ``insert()`` (the register import) passes no ORM validator; this default makes its
    rows' keys from the same values.
    """
    return search_key(context.get_current_parameters().get("full_name"))


@dataclass(frozen=True)
class Query:
    """What a search box's text asks for: one of ``iin``, ``certificate`` or ``words``."""

    text: str = ""
    iin: str | None = None
    certificate: str | None = None
    certificate_exact: bool = False
    words: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.iin or self.certificate or self.words)


def parse_query(text: str | None) -> Query:
    """Read a search box: an IIN (12 digits, spaces allowed), a certificate number as printed
    (with or without "№", spaces or dashes between its parts) or words of a name."""
    text = (text or "")[:MAX_QUERY].strip()
    compact = re.sub(r"\s+", "", text)
    if len(compact) == 12 and compact.isdigit():
        return Query(text=text, iin=compact)
    number = _SEPARATORS.sub("-", _NUMBER_SIGN.sub("", text)).strip("-")
    if number and any(c.isdigit() for c in number) and re.fullmatch(r"[\d-]+", number):
        whole = _CERTIFICATE.match(number)
        if whole:
            kato, year, seq = whole.groups()
            exact = f"{kato}-{year}-{int(seq):05d}"
            return Query(text=text, certificate=exact, certificate_exact=True)
        return Query(text=text, certificate=number)
    return Query(text=text, words=tuple(loose(text).split()[:MAX_TOKENS]))


def name_matches(key_column, words: tuple[str, ...]) -> ColumnElement[bool]:
    """SQL: every one of ``words`` begins a word of the search key in ``key_column``.

    ``words`` come from :func:`parse_query` (loose already). A word begins the key or follows a
    space; on PostgreSQL the key's trigram index serves both patterns (migration 0022).
    """
    return and_(
        *(
            or_(
                key_column.startswith(word, autoescape=True),
                key_column.contains(" " + word, autoescape=True),
            )
            for word in words
        )
    )


def matches(
    query: Query, *, key, name, certificate=None, iin_index=None, iin_allowed=None
) -> ColumnElement[bool]:
    """SQL: the record with these columns is what ``query`` asks for.

    ``key`` is the record's search key column and ``name`` its name; ``certificate`` and
    ``iin_index`` are given where the record has them. An IIN is compared through its blind
    index only, and only where ``iin_allowed`` (a condition) holds when it is given. A query
    with nothing searchable in it (only punctuation) matches nothing, not everything.
    """
    if query.iin:
        if iin_index is None:
            return false()
        found = iin_index == blind_index(query.iin, "iin")
        return found if iin_allowed is None else and_(found, iin_allowed)
    if query.certificate:
        if certificate is None:
            return false()
        if query.certificate_exact:
            return certificate == query.certificate
        return certificate.contains(query.certificate, autoescape=True)
    if not query.words:
        return false()
    return or_(
        name_matches(key, query.words),
        # A row the previous release wrote during a rolling upgrade has no key yet: its name is
        # compared as typed (migration 0022 gives every row present at the upgrade its key).
        and_(key.is_(None), name.contains(query.text, autoescape=True)),
    )
