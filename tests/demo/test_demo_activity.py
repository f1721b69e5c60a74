"""The demo's patrol work: months of shifts and contributions in every state, loaded once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import demo
from demo import activity as demo_activity
from tests.conftest import login_as, translated
from volunteers.activity_models import Contribution, Shift, Signup


@pytest.mark.demo_data  # the first load is the demo template's (demo_loads)
def test_demo_activity_covers_every_state_and_loads_once(app, client, session, demo_loads):
    from portal.extensions import db

    assert demo_loads["activity"] > 100  # shifts planned
    with app.app_context():
        assert demo_activity.load_activity(db.session, demo.DEMO_PASSWORD) == 0
    session.rollback()
    assert {s for (s,) in session.execute(select(Signup.status).distinct())} >= {
        "completed",
        "no_show",
        "signed_up",
        "cancelled",
    }
    assert {s for (s,) in session.execute(select(Contribution.status).distinct())} == {
        "logged",
        "confirmed",
        "rejected",
    }
    assert session.scalar(select(Shift.id).where(Shift.status == "cancelled"))
    # Four eyes held throughout: nobody decided what they logged.
    for logged_by, decided_by in session.execute(
        select(Contribution.logged_by_id, Contribution.decided_by_id).where(
            Contribution.decided_by_id.is_not(None)
        )
    ):
        assert logged_by != decided_by
    login_as(client, "volunteer@demo.kz")
    mine = client.get("/my/shifts")
    assert mine.status_code == 200 and translated(app, "Check in", "kk") in mine.text
    points = client.get("/my/contributions")
    assert points.status_code == 200 and "Q" in points.text
    client.post("/logout")
    login_as(client, "coordinator2@demo.kz")
    assert client.get("/contributions/queue").status_code == 200


@pytest.mark.demo_data  # the first load is the demo template's (demo_loads)
def test_demo_commission_has_a_finalised_session_with_payouts_and_an_open_one(
    app, session, demo_loads
):
    from budget import ledger
    from demo import commission as demo_commission
    from incentives.models import CommissionSession, Payout
    from portal.extensions import db

    assert demo_loads["commission"]  # the extra demo logins it made
    with app.app_context():
        assert demo_commission.load_commission(db.session, demo.DEMO_PASSWORD) == []
    session.rollback()
    statuses = dict(
        session.execute(select(CommissionSession.status, CommissionSession.act_number)).all()
    )
    assert set(statuses) == {"minutes_final", "open"}
    assert statuses["minutes_final"]  # the akimat's act is recorded
    assert {p.status for p in session.scalars(select(Payout))} == {"paid", "handed_over"}
    assert ledger.reconcile(session) == []
