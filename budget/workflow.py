"""The budget's workflows: states and allowed steps, applied only through ``core.transitions``."""

from __future__ import annotations

from budget.models import DECISION_STATUSES, MaslikhatDecision
from core.transitions import Workflow

# A maslikhat decision is entered with its amendments and changes nothing until a second
# finance officer verifies it; the verification applies every amendment once, in the same
# transaction as the step (budget.appropriations.verify_decision).
DECISION = Workflow(
    name="maslikhat_decision",
    model=MaslikhatDecision,
    states=DECISION_STATUSES,
    initial=("entered",),
    transitions={"verify": ("entered", "verified")},
)
