"""Idempotency-Key on every API POST: one effect per key, the first answer replayed to repeats.

The key's row is inserted in the same transaction as the write it guards, before the view runs:
a repeat sent at the same moment waits on the unique index (PostgreSQL) and then finds it. The
first answer, success or refusal, is kept and replayed; a 5xx is not kept, so the client may
retry. The same key with other content is refused with 422. Keys are remembered for a day
(``core.api_models.IDEMPOTENCY_KEEP``).
"""

from __future__ import annotations

import hashlib
import re

from flask import Response, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.api_models import IdempotencyRecord
from core.db import utcnow
from portal.api.problems import ProblemRaised
from portal.extensions import db

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Visible ASCII, as the IETF draft's examples (UUIDs, random strings); no spaces, no controls.
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _refuse(status: int, detail: str) -> None:
    raise ProblemRaised(status, detail, [{"parameter": HEADER, "detail": detail}])


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode() + b"\x1f")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(
        record.response_body or "", status=record.status_code, content_type=record.content_type
    )
    if record.location:
        response.headers["Location"] = record.location
    response.headers[REPLAYED] = "true"
    return response


def _existing(user_id: int, key: str, request_hash: str) -> Response:
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if record is None:  # the other request was refused and rolled back: nothing kept yet
        _refuse(409, _("A request with this Idempotency-Key is being answered. Try again."))
    if record.request_hash != request_hash:
        _refuse(
            422,
            _("This Idempotency-Key was used for another request. Use a new key for new content."),
        )
    if record.status_code is None:
        _refuse(
            409,
            _(
                "A request with this Idempotency-Key is being answered, or its answer was lost. "
                "Look at the record before trying again with a new key."
            ),
        )
    return _replay(record)


def _caller_key(key: str) -> str:
    """The key as kept: per caller, so that one person's token and session never share answers."""
    token_id = getattr(current_user, "token_id", None)
    return f"t{token_id}:{key}" if token_id is not None else f"s:{key}"


def begin() -> Response | None:
    """Before an API POST: claim the key, or answer with the first request's answer.

    Runs after the session policy and the CSRF check, so that their refusals claim nothing.
    """
    if request.method != "POST" or not current_user.is_authenticated:
        return None  # the view refuses the anonymous caller (401) before anything is written
    key = request.headers.get(HEADER)
    if key is None:
        _refuse(400, _("Send an Idempotency-Key header (a new random value per action)."))
    if not _KEY.match(key):
        _refuse(400, _("The Idempotency-Key must be 1 to 200 visible ASCII characters."))
    user_id = current_user.id
    key = _caller_key(key)
    request_hash = _request_hash()
    found = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if found is not None:
        answer = _existing(user_id, key, request_hash)
        db.session.rollback()
        return answer
    record = IdempotencyRecord(
        user_id=user_id, key=key, request_hash=request_hash, created_at=utcnow()
    )
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # a twin was first: its answer (or "being answered") is ours
        answer = _existing(user_id, key, request_hash)
        db.session.rollback()
        return answer
    g.idempotency = (user_id, key, request_hash)
    return None


# Answers that say the caller could not act yet (signed out, no right, too fast): the same
# key must work once the caller may act, so they are not kept.
_NOT_KEPT = frozenset({401, 403, 429})


def finish(response: Response) -> Response:
    """After an API POST that claimed a key: keep its answer (refusals too), or free the key."""
    claim = g.pop("idempotency", None)
    if claim is None:
        return response
    user_id, key, request_hash = claim
    db.session.rollback()  # what the view did not commit did not happen
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if response.status_code >= 500 or response.status_code in _NOT_KEPT:
        # A claim the view committed is kept unanswered: the effect happened, so a repeat
        # gets 409 instead of doing it again. An uncommitted claim was rolled back: the key
        # is free for a retry.
        return response
    if record is None:  # the view's refusal rolled the claim back: keep the refusal
        record = IdempotencyRecord(
            user_id=user_id, key=key, request_hash=request_hash, created_at=utcnow()
        )
        db.session.add(record)
    record.status_code = response.status_code
    record.content_type = response.content_type
    record.response_body = response.get_data(as_text=True)
    record.location = response.headers.get("Location")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a twin stored its refusal first: the same answer
    return response
