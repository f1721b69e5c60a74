"""The hearing and complaint workflows: states and steps, applied only by ``core.transitions``."""

from __future__ import annotations

from appeals.models import COMPLAINT_STATUSES, HEARING_STATUSES, Complaint, Hearing
from core.transitions import Workflow

# A hearing is drafted, the person notified (objections, an oral hearing on request), heard
# when an oral hearing's protocol is recorded, and the act adopted; or withdrawn. Adoption
# straight from "drafted" needs a recorded exception (Art. 73(4)): appeals.hearings checks it.
HEARING = Workflow(
    name="hearing",
    model=Hearing,
    states=HEARING_STATUSES,
    initial=("drafted",),
    transitions={
        "notify": ("drafted", "notified"),
        "record_protocol": ("notified", "heard"),
        "adopt": (("drafted", "notified", "heard"), "adopted"),
        "withdraw": (("drafted", "notified", "heard"), "withdrawn"),
        # Keeps the state, guarded by "not yet asked": one request, and none after adoption.
        "request_oral": ("notified", "notified"),
        # Art. 66: the paper delivery of the notice, recorded once; the terms run from it.
        "record_delivery": ("notified", "notified"),
        # A sitting's hearing: the secretary states how the objections were considered.
        "state_reasons": ("notified", "notified"),
        "state_reasons_heard": ("heard", "heard"),
        # Art. 92(1): the day a paper copy of the adopted act was received, recorded once.
        "record_act_receipt": ("adopted", "adopted"),
    },
)

# A complaint is registered, then granted in full by the issuing body (within 3 working days)
# or forwarded to the reviewing body, which decides; a police complaint's outcome is recorded.
COMPLAINT = Workflow(
    name="complaint",
    model=Complaint,
    states=COMPLAINT_STATUSES,
    initial=("registered",),
    transitions={
        "grant": ("registered", "granted"),
        "forward": ("registered", "forwarded"),
        "decide": ("forwarded", "decided"),
        "record_police_outcome": ("registered", "decided"),
    },
)
