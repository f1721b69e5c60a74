"""Amounts past any budget are refused with a message, never a 500 (issue 17, finding 11)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core import money
from core.errors import DomainError
from incentives import nominations
from tests.conftest import login_as, translated
from tests.factories.commission import setup
from tests.factories.sober import supported_initiative

TOO_LARGE = "The amount is too large: at most %(max)s."


def test_one_range_check_for_typed_and_computed_amounts(app, session):
    for text in ("99999999999999999999", "-99999999999999999999", "9223372036854775808"):
        with pytest.raises(DomainError):
            money.parse_tenge(text)
    assert money.within_range(money.MAX_TIYN) == money.MAX_TIYN
    with pytest.raises(DomainError):
        money.within_range(-money.MAX_TIYN - 1)
    # A trillion MCI typed is within a trillion tenge, but not once multiplied by the MCI.
    typed = Decimal(money.parse_tenge("999999999999")) / 100
    with pytest.raises(DomainError):
        nominations.amount_in_tiyn(session, amount=typed, unit="mci", year=2026)


@pytest.mark.parametrize(
    ("unit", "amount"),
    [("tenge", "99999999999999999999"), ("mci", "99999999999"), ("tenge", "1e309")],
)
def test_nominating_an_initiative_for_a_huge_amount_is_refused(app, client, session, unit, amount):
    s = setup(session)
    initiative = supported_initiative(session, s)
    session.commit()
    login_as(client, "coordinator@demo.kz")
    response = client.post(
        f"/commission/initiatives/{initiative.id}/nominate",
        data={
            "nominate-recipient": "team",
            "nominate-justification": "Ауыл жастары үшін",
            "nominate-reward_form": "valuable_gift",
            "nominate-unit": unit,
            "nominate-amount": amount,
        },
    )
    assert 400 <= response.status_code < 500
    if amount != "1e309":
        limit = money.format_tiyn(money.MAX_TIYN)
        assert translated(app, TOO_LARGE, "kk", max=limit) in response.text
