"""The reward workflows' states and allowed steps, applied only through ``core.transitions``."""

from __future__ import annotations

from core.transitions import Workflow
from incentives.inquiry_models import INQUIRY_STATUSES, Inquiry
from incentives.models import (
    NOMINATION_STATUSES,
    PAYOUT_STATUSES,
    SESSION_STATUSES,
    CommissionSession,
    Nomination,
    Payout,
)
from incentives.sober_models import (
    DECLARATION_STATUSES,
    INITIATIVE_STATUSES,
    Initiative,
    SoberDeclaration,
)

# A session is planned, opened with its attendance, closed with its outcomes, and its minutes
# are then made final; only final minutes may carry the akimat's act and the signed scan, each
# recorded once (steps that keep the state, guarded by "not yet recorded"; CHECK constraints
# of the table refuse an act or a scan on anything but final minutes).
SESSION = Workflow(
    name="commission_session",
    model=CommissionSession,
    states=SESSION_STATUSES,
    initial=("planned",),
    transitions={
        # Steps that keep the state lock the row so they cannot cross a step that moves it:
        # the agenda changes only while planned, a vote is cast only while open.
        "edit_agenda": ("planned", "planned"),
        "record_vote": ("open", "open"),
        "open": ("planned", "open"),
        "close": ("open", "closed"),
        "finalize": ("closed", "minutes_final"),
        "record_act": ("minutes_final", "minutes_final"),
        "attach_scan": ("minutes_final", "minutes_final"),
    },
)

# A nomination is drafted, submitted, put on a planned session's agenda and decided when the
# session closes; a deferred one may go on a later agenda (it never holds a commitment).
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
        # A complaint overturned the refusal (appeals.effects): decided again at a sitting.
        "reopen": ("rejected", "submitted"),
    },
)


# ---- inquiries, sober settlements and their initiatives ----


# A deputy's inquiry: answered (again, if need be) until the deputy closes it; a follow-up
# reopens it from any state with a new deadline.
INQUIRY = Workflow(
    name="inquiry",
    model=Inquiry,
    states=INQUIRY_STATUSES,
    initial=("open",),
    transitions={
        "answer": (("open", "answered"), "answered"),
        "close": (("open", "answered"), "closed"),
        "follow_up": (INQUIRY_STATUSES, "open"),
    },
)

# A settlement's declaration: confirmed by the police and akimat, or revoked with a reason;
# after a revocation the community declares again in a new record.
SOBER_DECLARATION = Workflow(
    name="sober_declaration",
    model=SoberDeclaration,
    states=DECLARATION_STATUSES,
    initial=("declared",),
    transitions={
        "confirm": ("declared", "confirmed"),
        "revoke": (("declared", "confirmed"), "revoked"),
    },
)

# An initiative is reviewed, then supported (the commission may be asked to reward it) or
# declined with a reason.
INITIATIVE = Workflow(
    name="sober_initiative",
    model=Initiative,
    states=INITIATIVE_STATUSES,
    initial=("submitted",),
    transitions={
        "start_review": ("submitted", "under_review"),
        "support": ("under_review", "supported"),
        "decline": (("submitted", "under_review"), "declined"),
        # A complaint overturned the decline (appeals.effects): reviewed again.
        "reopen": ("declined", "under_review"),
    },
)

# ---- PAYOUT (incentives.payouts) ----------------------------------------------------------------
# A payout is the record of one outcome for an approved item, inserted once in its state and
# never moved: paid (cash, by payment order), handed over (non-cash), failed (the bank returned
# it; it may be retried) or voided (the commitment released). Which outcome an item gets is the
# guarded step: the unique index of live outcomes lets one INSERT win, and the database's
# ``payout_legal_order`` trigger refuses a paid, handed-over or failed row before final minutes
# and the akimat's act. "pending" stays a legal value of the column and has no step into it.
PAYOUT = Workflow(
    name="payout",
    model=Payout,
    states=PAYOUT_STATUSES,
    initial=("paid", "handed_over", "failed", "voided"),
    transitions={},
)
