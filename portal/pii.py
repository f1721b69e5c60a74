"""Revealing personal data: a fresh password, a stated reason, one page view.

IINs and IBANs are masked on every page. A role that may see one in full asks to reveal it:
the password must have been entered within the last minutes (``session_policy.is_fresh``,
else it is asked again),
a reason is stated, the reveal is audited (``pii.reveal``: the record, the field and the
reason, never the value), and the value shows on the next render of that record's page only.
"""

from __future__ import annotations

import time

from flask import session

_SHOWN = "pii_reveal"
# A granted reveal not used within this many seconds lapses.
_SHOWN_FOR = 120


def grant(object_type: str, object_id: int, field: str) -> None:
    """Let the next render of the record's page show ``field`` in full."""
    session[_SHOWN] = [object_type, str(object_id), field, time.time()]


def take(object_type: str, object_id: int, field: str) -> bool:
    """Tell whether this render may show ``field`` in full, using up the grant if so."""
    shown = session.get(_SHOWN)
    if not shown or shown[:3] != [object_type, str(object_id), field]:
        return False
    session.pop(_SHOWN)
    return time.time() - float(shown[3]) < _SHOWN_FOR
