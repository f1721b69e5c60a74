"""Long lists one page at a time: the page asked for, its rows, and the count the pager needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import request, url_for
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


def requested_page(pages: int, param: str = "page") -> int:
    """Return the page number ``?<param>=`` asks for, within 1 to ``pages`` (a page past the
    end is the last one)."""
    return min(_asked(param), pages)


def _asked(param: str) -> int:
    """Return the page number ``?<param>=`` asks for, from 1 (a missing or unreadable number,
    or one past what an id may be, is the first)."""
    return max(request.args.get(param, 1, type=arg_int), 1)


def page_of(
    query: Select,
    *,
    size: int = PAGE_SIZE,
    param: str = "page",
    rows=False,
    count: Select | None = None,
) -> Page:
    """Run the page that ``?<param>=`` asks for of ``query`` (ordered by the caller), with the
    count the pager needs.

    A page past the end shows the last one; ``rows=True`` returns result rows (for queries of
    several entities) instead of scalars. ``count`` is a select of the same rows to count
    instead, when ``query`` joins or computes what the count does not need.

    The page is read first, one row longer than it shows. When it comes back no longer than a
    page, it is the last one and tells the total itself: a list that fits on one page (one
    person's records, a filtered list, most lists of a district) costs one statement, not a
    count and then its rows (issue 16). Only a list with more rows, or a page asked for past
    the end, is counted.
    """
    run = db.session.execute if rows else db.session.scalars
    counted = query if count is None else count
    return read_page(
        lambda skip, take: run(query.offset(skip).limit(take)).all(),
        lambda: db.session.scalar(
            select(func.count()).select_from(counted.order_by(None).subquery())
        ),
        size=size,
        param=param,
    )


def read_page(
    read: Callable[[int, int], list],
    count: Callable[[], int],
    *,
    size: int = PAGE_SIZE,
    param: str = "page",
) -> Page:
    """Return the page ``?<param>=`` asks for of a list that ``read(skip, take)`` reads a
    slice of and ``count()`` counts, as ``page_of`` does: for a list a domain function reads
    (an agenda's items).

    The page is read one row longer than it shows; ``count`` runs only when that does not
    tell the total (more rows after the page, or a page past the end).
    """
    asked = _asked(param)
    skip = (asked - 1) * size
    found = read(skip, size + 1)
    if len(found) <= size and (found or asked == 1):  # the last page, or an empty list
        return Page(found, asked, asked, skip + len(found))
    total = count()
    if found:  # a full page with more after it
        return Page(found[:size], asked, pages_for(total, size), total)
    # Past the end: the last page instead.
    pages = pages_for(total, size)
    number = requested_page(pages, param)
    return Page(read((number - 1) * size, size), number, pages, total)


def listing(found: Page, name: str = "rows") -> dict:
    """Return what a template with a pager needs of ``found``: its rows under ``name``, the
    ``page``, the ``pages``, the ``total`` and the request's other ``args``."""
    return {
        name: found.rows,
        "page": found.page,
        "pages": found.pages,
        "total": found.total,
        "args": other_args(),
    }


def other_args(param: str = "page") -> dict:
    """Return the request's query arguments but the page number, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != param}


_ROW_ID = 2147483647  # an id no row has, replaced by ``{}`` in the pattern below


def row_link(endpoint: str, key: str) -> str:
    """Return ``endpoint``'s URL with ``{}`` for the row's ``key``: ``pattern.format(row.id)``.

    One URL built per page instead of one per row: ``url_for`` for each of 50 rows was a tenth
    of a list page's CPU (issue 16).
    """
    return url_for(endpoint, **{key: _ROW_ID}).replace(str(_ROW_ID), "{}")
