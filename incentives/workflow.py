"""The reward workflows' states and allowed steps, applied only through ``core.transitions``."""

from __future__ import annotations

from core.transitions import Workflow
from incentives.models import (
    NOMINATION_STATUSES,
    SESSION_STATUSES,
    CommissionSession,
    Nomination,
)

# A session is planned, opened with its attendance, closed with its outcomes, and its minutes
# are then made final; only final minutes may carry the akimat's act (see incentives.sessions).
SESSION = Workflow(
    name="commission_session",
    model=CommissionSession,
    states=SESSION_STATUSES,
    initial=("planned",),
    transitions={
        "open": ("planned", "open"),
        "close": ("open", "closed"),
        "finalize": ("closed", "minutes_final"),
    },
)

NOMINATION = Workflow(
    name="nomination",
    model=Nomination,
    states=NOMINATION_STATUSES,
    initial=("draft",),
    transitions={
        "submit": ("draft", "submitted"),
        "put_on_agenda": (("submitted", "deferred"), "on_agenda"),
        "approve": ("on_agenda", "approved"),
        "reject": ("on_agenda", "rejected"),
        "defer": ("on_agenda", "deferred"),
    },
)
