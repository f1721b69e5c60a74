"""Revealing personal data: a second factor, a fresh password, a stated reason, one page view.

IINs and IBANs are masked on every page. A role that may see one in full asks to reveal it:
a second factor must have been given in this session, the password within the last minutes
(``session_policy.is_fresh``, else both are asked again), a reason is stated, the reveal is
audited (``pii.reveal``: the record, the field and the reason, never the value), and the
value shows on the next render of that record's page only. That render claims a
server-side one-time token (``core.reveals``): a replayed cookie shows nothing more.
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

from core import reveals
from portal.extensions import db

_SHOWN = "pii_reveal"


def grant(object_type: str, object_id: int, field: str) -> None:
    """Let the next render of the record's page show ``field`` in full (caller commits)."""
    token = reveals.grant(
        db.session,
        user_id=current_user.id,
        object_type=object_type,
        object_id=object_id,
        field=field,
    )
    session[_SHOWN] = [object_type, str(object_id), field, token]


def take(object_type: str, object_id: int, field: str) -> bool:
    """Tell whether this render may show ``field`` in full, using up the grant if so.

    The claim is committed at once: the pages that call this are reads with no writes of
    their own, and a claim left uncommitted could be made again by a parallel request.
    Raises ``reveals.AlreadyShown`` (409) when the grant was used before.
    """
    shown = session.get(_SHOWN)
    if not shown or shown[:3] != [object_type, str(object_id), field]:
        return False
    session.pop(_SHOWN)
    shown_now = reveals.claim(
        db.session,
        token=str(shown[3]),
        user_id=current_user.id,
        object_type=object_type,
        object_id=object_id,
        field=field,
    )
    db.session.commit()
    return shown_now
