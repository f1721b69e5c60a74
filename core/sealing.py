"""Personal data sealed at rest: AES-GCM with rotating keys, and keyed blind indexes for lookups.

A sealed value is ``s1.<key id>.<base64url(nonce + ciphertext + tag)>``. The column's purpose
("iin", "iban", …) is bound as associated data, so a value copied into another column does not
open. Equality in SQL (duplicate checks, recusal by person, search by IIN) compares a blind index:
HMAC-SHA256 under a separate key of the normalised value, never the plain value.

The keys come from the environment (``PORTAL_DATA_KEYS``: ``id:base64key`` pairs, the first
one seals, all of them open; ``PORTAL_INDEX_KEY``). This module keeps the process's keyring:
domain code seals and opens without knowing where the keys came from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, String
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator

PREFIX = "s1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_NONCE = 12


class SealingError(RuntimeError):
    """The keys are missing or malformed, or a value was sealed with a key no longer held."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_key() -> str:
    """Return a fresh 256-bit key as base64url text (for ``keys new`` and the demo)."""
    return _b64encode(secrets.token_bytes(32))


@dataclass(frozen=True)
class Keyring:
    """The data keys (the first one seals) and the blind-index key."""

    keys: tuple[tuple[str, bytes], ...]
    index_key: bytes

    def __post_init__(self):
        # One cipher object per key, made once: a list page opens hundreds of values.
        object.__setattr__(self, "_ciphers", {k: AESGCM(raw) for k, raw in self.keys})

    @classmethod
    def parse(cls, data_keys: str, index_key: str) -> Keyring:
        """Read ``"k2:BASE64,k1:BASE64"`` and the index key; refuse anything malformed."""
        pairs = []
        for item in (data_keys or "").replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            key_id, _, encoded = item.partition(":")
            if not _KEY_ID.match(key_id):
                raise SealingError(f"data key id {key_id!r} must be 1-16 letters, digits, - or _")
            raw = _b64decode(encoded.strip())
            if len(raw) != 32:
                raise SealingError(f"data key {key_id!r} must be 32 bytes (base64url)")
            pairs.append((key_id, raw))
        if not pairs:
            raise SealingError("PORTAL_DATA_KEYS holds no key")
        if len({k for k, _ in pairs}) != len(pairs):
            raise SealingError("PORTAL_DATA_KEYS names a key id twice")
        index = _b64decode((index_key or "").strip())
        if len(index) < 32:
            raise SealingError("PORTAL_INDEX_KEY must be at least 32 bytes (base64url)")
        return cls(keys=tuple(pairs), index_key=index)

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def seal(self, plain: str | bytes, purpose: str) -> str:
        key_id = self.keys[0][0]
        raw = plain.encode("utf-8") if isinstance(plain, str) else plain
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[key_id].encrypt(nonce, raw, f"{purpose}|{key_id}".encode())
        return f"{PREFIX}.{key_id}.{_b64encode(nonce + sealed)}"

    def open_bytes(self, sealed: str, purpose: str) -> bytes:
        prefix, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if prefix != PREFIX or not body:
            raise SealingError(f"a {purpose} value in the database is not sealed")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealingError(f"a {purpose} value is sealed with key {key_id!r}, not configured")
        raw = _b64decode(body)
        try:
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], f"{purpose}|{key_id}".encode())
        except InvalidTag:
            raise SealingError(f"a {purpose} value does not open: altered or wrong key") from None

    def open(self, sealed: str, purpose: str) -> str:
        return self.open_bytes(sealed, purpose).decode("utf-8")

    def blind(self, normalised: str, purpose: str) -> str:
        mac = hmac.new(self.index_key, f"{purpose}\x00{normalised}".encode(), hashlib.sha256)
        return mac.hexdigest()


_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    """Install the process's keyring (the app factory and the worker call this)."""
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise SealingError("no data keys configured: set PORTAL_DATA_KEYS and PORTAL_INDEX_KEY")
    return _keyring


def blind_index(value: str | None, purpose: str) -> str | None:
    """Return the blind index of an already normalised value (None stays None)."""
    if value is None or value == "":
        return None
    return keyring().blind(value, purpose)


def is_sealed_with_current(sealed: str | None) -> bool:
    """Tell whether a stored value is sealed with the current key (rotation skips it)."""
    return sealed is None or sealed.startswith(f"{PREFIX}.{keyring().current_id}.")


# Comparisons a sealed column may take: whether it is NULL. A value would be compared with
# ciphertexts, which differ for the same value (random nonces), and silently match nothing.
_ALLOWED = {operators.is_, operators.is_not}


def _is_a_column(other) -> bool:
    if hasattr(other, "__clause_element__"):  # an ORM attribute
        other = other.__clause_element__()
    return isinstance(other, ColumnElement) and not isinstance(other, BindParameter)


class _NoCompare(TypeDecorator.Comparator):
    def operate(self, op, *other, **kwargs):
        # ``column in [columns]`` (SQLAlchemy does it when it reuses a cached statement) asks
        # ``==`` between column objects and only wants to know whether they are the same one.
        same_objects = op in (operators.eq, operators.ne) and all(map(_is_a_column, other))
        if op not in _ALLOWED and not same_objects:
            raise TypeError(
                f"a sealed column cannot be compared with {op.__name__}: use its blind index"
            )
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op, other, **kwargs):
        raise TypeError("a sealed column cannot be compared: use its blind index")


class Sealed(TypeDecorator):
    """A text column stored sealed; the ORM reads and writes the plain text."""

    impl = String
    cache_ok = True
    comparator_factory = _NoCompare

    def __init__(self, purpose: str, length: int = 255):
        super().__init__(length)
        self.purpose = purpose

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring().seal(value, self.purpose)

    def process_result_value(self, value, dialect):
        return None if value is None else keyring().open(value, self.purpose)


class SealedBytes(TypeDecorator):
    """A binary column (an uploaded file) stored sealed."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _NoCompare

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring().seal(value, self.purpose).encode("ascii")

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return keyring().open_bytes(bytes(value).decode("ascii"), self.purpose)
