"""Domain errors: exceptions with messages fit for a user, mapped to HTTP statuses by the portal."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation; ``message`` is shown to the user.

    ``message`` is an English msgid: the portal translates it, with ``params`` substituted.
    ``status`` is the HTTP status the portal answers with.
    """

    status = 422

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    """The record does not exist, or its existence is private to the actor."""

    status = 404


class PermissionDenied(DomainError):
    """The actor may not do this, e.g. outside their jurisdiction."""

    status = 403


class Conflict(DomainError):
    """The operation clashes with the current state of a record (already done, duplicate)."""

    status = 409


def N_(message: str) -> str:
    """Mark ``message`` as a msgid for extraction; the portal translates it when shown."""
    return message
