"""Demo and scale data loaders for the demo region; production code never imports them.

The loaders take a SQLAlchemy session and write through the domain packages; the caller commits.
The names below are what the CLI and the tests use; the rest lives in the modules.
"""

from demo.accounts import DEMO_PASSWORD, load_accounts
from demo.budget import (
    ADOPTION_NUMBER,
    BUDGET_CODE,
    BUDGET_DISTRICTS,
    BUDGET_YEAR,
    load_budget,
)
from demo.register import FIRST_F, FIRST_M, SURNAMES, load_register

__all__ = [
    "ADOPTION_NUMBER",
    "BUDGET_CODE",
    "BUDGET_DISTRICTS",
    "BUDGET_YEAR",
    "DEMO_PASSWORD",
    "FIRST_F",
    "FIRST_M",
    "SURNAMES",
    "load_accounts",
    "load_budget",
    "load_register",
]
