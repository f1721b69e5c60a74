"""Imports every model module so the metadata is complete (for Alembic and tests)."""

from appeals import models as appeal_models  # noqa: F401
from budget import models as budget_models  # noqa: F401
from core import (  # noqa: F401
    accounts,
    api_models,
    audit,
    calendar,
    jobruns,
    mfa,
    notifications,
    password_resets,
    payout_accounts,
    places,
    reveals,
    signups,
    uploads,
)
from incentives import (
    inquiry_models,  # noqa: F401
    sober_models,  # noqa: F401
)
from incentives import models as incentive_models  # noqa: F401
from portal import releases  # noqa: F401  (schema_release)
from volunteers import (
    activity_models,  # noqa: F401
    calendar_feeds,  # noqa: F401
    retention,  # noqa: F401
)
from volunteers import models as volunteer_models  # noqa: F401
