"""Long lists a page at a time: the rows, the page number and the count the pager shows."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy
from sqlalchemy import select

from core.places import AdminUnit
from portal.extensions import db
from portal.paging import page_of

SIZE = 10


@contextlib.contextmanager
def _statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", count)


def _units(first: int):
    """The first ``first`` admin units of the demo tree, in id order."""
    ids = db.session.scalars(select(AdminUnit.id).order_by(AdminUnit.id).limit(first)).all()
    assert len(ids) == first, "the demo tree has too few units for this test"
    return select(AdminUnit).where(AdminUnit.id.in_(ids)).order_by(AdminUnit.id), ids


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("rows", "asked", "page", "pages", "statements"),
    [
        (0, "1", 1, 1, 1),  # nothing to list: the read says so
        (7, "1", 1, 1, 1),  # fits on one page: no count
        (SIZE, "1", 1, 1, 1),  # exactly one page: the extra row is not there, no count
        (SIZE + 1, "1", 1, 2, 2),  # more than a page: counted
        (25, "2", 2, 3, 2),  # a full middle page: counted
        (25, "3", 3, 3, 1),  # the last page, short: the total follows from it
        (25, "99", 3, 3, 3),  # past the end: counted, then the last page
        (25, "0", 1, 3, 2),  # below the first: the first
        (25, "x", 1, 3, 2),  # unreadable: the first
        (25, "99999999999999999999", 1, 3, 2),  # past what an id may be: the first
    ],
)
def test_a_page_tells_the_total_itself_when_it_is_the_last(
    app, rows, asked, page, pages, statements
):
    with app.test_request_context(f"/?page={asked}"):
        query, ids = _units(rows)
        with _statements() as seen:
            found = page_of(query, size=SIZE)
        assert (found.page, found.pages, found.total) == (page, pages, rows)
        assert [u.id for u in found.rows] == ids[(page - 1) * SIZE : page * SIZE]
        assert len(seen) == statements, seen


@pytest.mark.both_databases
def test_rows_and_a_separate_count_page_the_same_way(app):
    with app.test_request_context("/?page=2"):
        _, ids = _units(23)
        rows = select(AdminUnit.id, AdminUnit.kato).where(AdminUnit.id.in_(ids))
        count = select(AdminUnit.id).where(AdminUnit.id.in_(ids))
        found = page_of(rows.order_by(AdminUnit.id), size=SIZE, rows=True, count=count)
        assert (found.page, found.pages, found.total) == (2, 3, 23)
        assert [r.id for r in found.rows] == ids[SIZE : 2 * SIZE]
