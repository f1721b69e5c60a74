"""An application's broken rules come back together, each tied to its input (issue 19)."""

from __future__ import annotations

import pytest

from core.errors import Invalid
from core.iin import InvalidIIN
from tests.factories.volunteers import fields, iin_for
from volunteers import enrolment


def test_every_broken_rule_is_reported_at_once_at_its_input(app, session):
    bad = fields(
        session,
        kind="sheriff",
        phone="12-34",
        consent_version=None,
        not_on_register=False,
        address="  ",
    )
    with pytest.raises(Invalid) as refused:
        enrolment.submit_application(session, **bad)
    session.rollback()
    assert [e.field for e in refused.value.errors] == [
        "kind",
        "phone",
        "address",
        "not_on_register",
        "consent",
    ]
    assert refused.value.status == 422


def test_one_broken_rule_is_raised_as_itself(app, session):
    wrong = iin_for(7020)[:11] + str((int(iin_for(7020)[11]) + 1) % 10)
    with pytest.raises(InvalidIIN) as refused:
        enrolment.submit_application(session, **fields(session, iin=wrong))
    session.rollback()
    assert refused.value.field == "iin"


def test_a_subset_of_inputs_is_checked_alone(app, session):
    problems = enrolment.application_problems(session, {"iin": "12345", "kind": "public_assistant"})
    assert [p.field for p in problems] == ["iin"]
