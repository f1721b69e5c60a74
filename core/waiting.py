"""A to-do line's figures: how many records wait on someone, and how many of them are late."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, literal
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Waiting:
    """One line of a to-do list: how many records wait, and how many of them are late."""

    key: str
    count: int
    overdue: int = 0


def counts(stmt: Select, late=None) -> Select:
    """The statement counting ``stmt``'s rows and, of them, those ``late`` (0 without it)."""
    return stmt.order_by(None).with_only_columns(
        func.count(),
        func.count().filter(late) if late is not None else literal(0),
        maintain_column_froms=True,
    )


def counted(session: Session, key: str, stmt: Select, late=None) -> Waiting:
    """Count the rows of ``stmt``, and those of them that are ``late``, in one statement."""
    total, overdue = session.execute(counts(stmt, late)).one()
    return Waiting(key, total, overdue or 0)
