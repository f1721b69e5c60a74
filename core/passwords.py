"""Passwords: argon2id hashing profiles, verification and the length policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import N_, DomainError

PASSWORD_MIN, PASSWORD_MAX = 12, 128

PASSWORD_PROFILES = {
    # argon2id with the library's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
    "standard": PasswordHasher(),
    # Test suites only (the portal refuses it outside TESTING): the same algorithm at its
    # cheapest, so that thousands of sign-ins do not spend minutes of the suite hashing.
    "test": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}
_hasher = PASSWORD_PROFILES["standard"]
_dummy_hashes: dict[int, str] = {}


def set_password_profile(name: str) -> None:
    """Hash new passwords with the profile ``name`` (``standard``; ``test`` for test suites)."""
    global _hasher
    _hasher = PASSWORD_PROFILES[name]


def dummy_hash() -> str:
    """Return the hash verified against when the login is unknown (same cost as a real one)."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("not-a-real-password-for-timing")
    return _dummy_hashes[key]


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short or too long (ASVS: length over composition rules)."""
    if len(password) < PASSWORD_MIN:
        raise DomainError(N_("The password must have at least %(n)s characters."), n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise DomainError(N_("The password must have at most %(n)s characters."), n=PASSWORD_MAX)


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Tell whether ``password`` matches the ``stored`` hash (a malformed hash never matches)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether ``stored`` was hashed with other parameters than the profile in use."""
    return _hasher.check_needs_rehash(stored)
