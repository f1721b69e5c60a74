"""Long lists one page at a time: the page asked for, its rows, and the count the pager needs."""

from __future__ import annotations

import dataclasses

from flask import request
from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.forms import arg_int

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (from 1), how many pages and rows in all."""

    rows: list
    page: int
    pages: int
    total: int


def pages_for(total: int, size: int = PAGE_SIZE) -> int:
    """Return how many pages ``total`` rows fill (at least one, for the empty list)."""
    return max(1, -(-total // size))


def page_of(query: Select, *, size: int = PAGE_SIZE, param: str = "page", rows=False) -> Page:
    """Count ``query`` and run the page that ``?<param>=`` asks for (ordered by the caller).

    A page past the end shows the last one; ``rows=True`` returns result rows (for queries of
    several entities) instead of scalars.
    """
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = pages_for(total, size)
    number = min(max(request.args.get(param, 1, type=arg_int), 1), pages)
    run = db.session.execute if rows else db.session.scalars
    found = run(query.offset((number - 1) * size).limit(size)).all()
    return Page(found, number, pages, total)


def other_args(param: str = "page") -> dict:
    """Return the request's query arguments but the page number, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != param}
