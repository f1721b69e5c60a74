"""Domain errors: exceptions with messages fit for a user, mapped to HTTP statuses by the portal."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation; ``message`` is shown to the user.

    ``message`` is an English msgid: the portal translates it, with ``params`` substituted.
    ``status`` is the HTTP status the portal answers with. ``field`` names the input the
    refusal is about (``None``: the operation as a whole), so that a form shows it there.
    """

    status = 422
    field: str | None = None

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def at(self, field: str) -> DomainError:
        """Tie the refusal to the input named ``field``; return it, for ``raise err.at(...)``."""
        self.field = field
        return self


class Invalid(DomainError):
    """Several inputs are wrong at once: ``errors`` holds one refusal per problem, all in one round.

    A form shows each at its field; anything that only reads ``message`` sees the first one.
    """

    def __init__(self, errors: list[DomainError]):
        if not errors:
            raise ValueError("Invalid needs at least one error")
        first = errors[0]
        super().__init__(first.message, **first.params)
        self.errors = list(errors)
        self.field = first.field

    @property
    def status(self) -> int:
        """The most serious status of the errors (a conflict outranks invalid input)."""
        return max(e.status for e in self.errors)


def refuse_all(errors: list[DomainError]) -> None:
    """Raise the one error of ``errors``, ``Invalid`` for several, nothing for none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise Invalid(errors)


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
