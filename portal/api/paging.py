"""Cursor pagination of API lists: keyset reads by a unique integer column, signed cursors."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from portal.api.problems import ProblemRaised

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SALT = "api-cursor"


class PageArgs(ma.Schema):
    """The query parameters of every list: where to go on from, and how many items."""

    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={"description": "Opaque: the next_cursor of the previous page"},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT}"},
    )


_PAGE_SCHEMAS: dict[type, type] = {}


def page_schema(item: type[ma.Schema]) -> type[ma.Schema]:
    """Return the schema of one page of ``item``s: ``items`` and ``next_cursor``."""
    if item not in _PAGE_SCHEMAS:
        name = item.__name__.removesuffix("Schema") + "Page"
        _PAGE_SCHEMAS[item] = type(
            name,
            (ma.Schema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item), required=True),
                "next_cursor": ma.fields.String(
                    required=True,
                    allow_none=True,
                    metadata={"description": "Pass as ?cursor= for the next page; null at the end"},
                ),
            },
        )
    return _PAGE_SCHEMAS[item]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _after(cursor: str | None, what: str) -> int | None:
    if not cursor:
        return None
    try:
        kind, value = _serializer().loads(cursor)
    except (BadSignature, ValueError, TypeError):
        kind, value = None, None
    if kind != what or not isinstance(value, int):
        raise ProblemRaised(
            422,
            _("This cursor is not valid for this list. Start again without it."),
            [{"parameter": "cursor", "detail": _("Not a cursor of this list.")}],
        )
    return value


def paginate(
    session: Session, stmt: Select, *, key, args: dict, ascending: bool = False, scalars=True
):
    """Read one page of ``stmt`` ordered by the unique integer column ``key``.

    Returns ``(rows, next_cursor)``; the cursor names the list (the key's table and column), so
    a cursor of another list is refused instead of silently skipping rows.
    """
    what = f"{key.class_.__tablename__}.{key.key}" if hasattr(key, "class_") else str(key)
    limit = args.get("limit") or DEFAULT_LIMIT
    after = _after(args.get("cursor"), what)
    if after is not None:
        stmt = stmt.where(key > after if ascending else key < after)
    stmt = stmt.order_by(key.asc() if ascending else key.desc()).limit(limit + 1)
    result = session.scalars(stmt) if scalars else session.execute(stmt)
    rows = list(result.unique() if scalars else result)
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    value = getattr(last, key.key) if scalars else last._mapping[key.key]
    return rows, _serializer().dumps([what, int(value)])
