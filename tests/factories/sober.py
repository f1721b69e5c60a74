"""Sober-village records: an initiative the district supported."""

from __future__ import annotations

import sober
from core import accounts, places
from core.scope import Scope
from tests.factories.commission import Setup


def supported_initiative(session, s: Setup):
    """The volunteer's initiative in Botakara, reviewed and supported by the coordinator."""
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    initiative = sober.submit_initiative(
        session,
        unit_id=places.by_kato(session, "354030100").id,
        title="Жастар кеші алкогольсіз",
        description="Ауылда алкогольсіз мерекелер",
        measures="Спорт жарыстары, ата-аналар кеңесі",
        team="Ботақара жастар ұйымы",
        requested_incentive="Спорт құралдары",
        proposer_role="activist",
        actor_id=volunteer.id,
        home_unit_id=volunteer.unit_id,
    )
    for status in ("under_review", "supported"):
        sober.review_initiative(
            session,
            initiative_id=initiative.id,
            to_status=status,
            comment="Қолдаймыз",
            actor_id=s.coordinator_id,
            scope=Scope.within([s.unit_id]),
        )
    return initiative
