"""The body reviewing complaints per jurisdiction: the nearest configured ancestor applies."""

from __future__ import annotations

import pytest

from appeals import settings
from core.errors import DomainError, PermissionDenied
from tests.conftest import audit_count
from tests.factories.volunteers import unit, user

VILLAGE, DISTRICT, REGION, OTHER_REGION = "354030100", "354000000", "350000000", "110000000"


def _set(session, unit_kato, *, review=None, reviewer=None, actor="admin@demo.kz"):
    return settings.set_review_body(
        session,
        unit_id=unit(session, unit_kato).id,
        review_unit_id=unit(session, review).id if review else None,
        reviewer_id=reviewer,
        body_kk="Бұқар жырау ауданының әкімдігі",
        body_ru="Акимат Бухар-Жырауского района",
        how_kk="Шағым порталда беріледі.",
        how_ru="Жалоба подаётся на портале.",
        actor_id=user(session, actor).id,
    )


def test_the_nearest_configured_unit_names_the_review_body(app, session):
    region, district = unit(session, REGION), unit(session, DISTRICT)
    # The demo: the region's akimat reviews complaints against each of its districts' acts.
    body = settings.review_body(session, unit(session, VILLAGE).id)
    assert body is not None and (body.set_on, body.unit_id) == (district.id, region.id)
    reviewer = user(session, "reviewer@demo.kz")
    assert settings.is_reviewer(session, body, reviewer)
    assert not settings.is_reviewer(session, body, user(session, "registrar@demo.kz"))

    official = user(session, "chair@demo.kz")
    row = _set(session, DISTRICT, reviewer=official.id)
    body = settings.review_body(session, unit(session, VILLAGE).id)
    assert (body.set_on, body.unit_id, body.reviewer_id) == (row.unit_id, None, official.id)
    assert body.name_ru == "Акимат Бухар-Жырауского района"
    assert settings.is_reviewer(session, body, official)
    assert not settings.is_reviewer(session, body, reviewer)  # the district names its official
    assert settings.review_body(session, region.id) is None  # above: nothing configured
    # The demo's setting and this change of it.
    assert audit_count(session, "appeal_setting.save", "appeal_setting", row.unit_id) == 2


def test_nothing_configured_up_the_tree_is_none(app, session):
    assert settings.review_body(session, unit(session, OTHER_REGION).id) is None
    assert not settings.is_reviewer(session, None, user(session, "reviewer@demo.kz"))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, DomainError),  # neither a unit nor an official
        ({"review": OTHER_REGION}, DomainError),  # not a unit above the jurisdiction
        ({"review": VILLAGE}, DomainError),  # a unit below reviews nothing
        ({"review": DISTRICT}, DomainError),  # nor the unit itself (Art. 91(4): a higher body)
        ({"review": REGION, "actor": "registrar@demo.kz"}, PermissionDenied),
    ],
)
def test_bad_settings_are_refused(app, session, kwargs, error):
    with pytest.raises(error):
        _set(session, DISTRICT, **kwargs)
    session.rollback()
    body = settings.review_body(session, unit(session, DISTRICT).id)
    assert (body.set_on, body.unit_id) == (unit(session, DISTRICT).id, unit(session, REGION).id)
