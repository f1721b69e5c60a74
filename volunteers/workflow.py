"""The volunteer workflows' states and allowed steps, applied only through ``core.transitions``.

Each step names where a record may come from and where it goes; the domain modules check the
rules that need words (a refusal's reason, the check-in window) and then call
``core.transitions.advance`` with the step, which is one guarded UPDATE: a request that lost a
race (a double click, two coordinators) gets a 409 and changes nothing.
"""

from __future__ import annotations

from core.transitions import Workflow
from volunteers.activity_models import (
    CONTRIBUTION_STATUSES,
    SHIFT_STATUSES,
    SIGNUP_STATUSES,
    Contribution,
    Shift,
    Signup,
)
from volunteers.models import APPLICATION_STATUSES, MEMBER_STATUSES, Application, Member

# submitted → police_check → (refused | petitioned → registered), or withdrawn before the
# register. "record_pass" keeps the state and records the passed check once (guarded by
# ``check_outcome IS NULL``); the petition needs it. The import of a paper register creates
# rows already "registered" (volunteers.importing: history loaded, not a step taken here).
APPLICATION = Workflow(
    name="application",
    model=Application,
    states=APPLICATION_STATUSES,
    initial=("submitted",),
    transitions={
        "take_check": ("submitted", "police_check"),
        "record_pass": ("police_check", "police_check"),
        "refuse": ("police_check", "refused"),
        "petition": ("police_check", "petitioned"),
        "register": ("petitioned", "registered"),
        "withdraw": (("submitted", "police_check", "petitioned"), "withdrawn"),
        # After a hearing (appeals.effects only): the akimat refuses to register; a complaint
        # overturns an akimat refusal (back to the petition) or a police refusal (re-check).
        "refuse_registration": ("petitioned", "refused"),
        "reopen": ("refused", "petitioned"),
        "reopen_check": ("refused", "police_check"),
    },
)

# The akimat's register: an entry is created active; a suspended member may be reinstated;
# expelled, withdrawn and expired are final (the person may apply again).
MEMBER = Workflow(
    name="member",
    model=Member,
    states=MEMBER_STATUSES,
    initial=("active",),
    transitions={
        "suspend": ("active", "suspended"),
        "reinstate": ("suspended", "active"),
        "expel": (("active", "suspended"), "expelled"),
        "withdraw": (("active", "suspended"), "withdrawn"),
        "expire": (("active", "suspended"), "expired"),
        # A complaint stays the execution of a suspension or expulsion (Art. 96), or overturns it.
        "stay": (("suspended", "expelled"), "active"),
        # ... and an expulsion of a suspended member stays or is overturned back to suspended.
        "unexpel": ("expelled", "suspended"),
    },
)

# The register's decisions by the status they lead to (the member page offers these).
MEMBER_STEP_TO = {
    step.target: name
    for name, step in MEMBER.steps.items()
    if name not in ("stay", "unexpel")  # only appeals.effects takes these
}

SHIFT = Workflow(
    name="shift",
    model=Shift,
    states=SHIFT_STATUSES,
    initial=("planned",),
    transitions={"cancel": ("planned", "cancelled")},
)

SIGNUP = Workflow(
    name="signup",
    model=Signup,
    states=SIGNUP_STATUSES,
    initial=("signed_up",),
    transitions={
        "check_in": ("signed_up", "checked_in"),
        "complete": (("signed_up", "checked_in"), "completed"),
        # A check-out taken back within minutes (a double tap): on shift again, as before.
        "undo_check_out": ("completed", "checked_in"),
        "no_show": ("signed_up", "no_show"),
        "cancel": ("signed_up", "cancelled"),
    },
)

# Four eyes: logged by one, confirmed or rejected by another; a confirmed correction
# supersedes the record it corrects.
CONTRIBUTION = Workflow(
    name="contribution",
    model=Contribution,
    states=CONTRIBUTION_STATUSES,
    initial=("logged",),
    transitions={
        "confirm": ("logged", "confirmed"),
        "reject": ("logged", "rejected"),
        "supersede": ("confirmed", "superseded"),
    },
)
