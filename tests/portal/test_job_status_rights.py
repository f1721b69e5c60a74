"""A job run's status shows each reader what their role and jurisdiction may see (issue 17, 6)."""

from __future__ import annotations

import datetime as dt
import json

from core import jobruns, places
from core.scope import Scope
from tests.conftest import login_as, wait_for_jobs
from tests.factories.accounts import official
from tests.factories.commission import close_session, nominate, nominee, pay_item, setup

KARAGANDA, ABAI_REGION = "350000000", "100000000"


def _admin(session, email: str, kato: str):
    unit = places.by_kato(session, kato)
    return official(
        session, email, "admin", unit.id, password="regional admin 17", full_name="Әкімші"
    )


def _flagged_person(session) -> str:
    """Two cash rewards paid to one person within 30 days in Karaganda region: a red flag
    that names them. Returns the name."""
    s = setup(session)
    member, ids = nominee(session, contributions=4)
    first = nominate(session, s, member, ids[:2], mci=10)
    second = nominate(session, s, member, ids[2:], mci=10)
    items = close_session(session, s, [first.id, second.id], final=True, act=True).items
    pay_item(session, items[0], dt.date(2026, 10, 20))
    pay_item(session, items[1], dt.date(2026, 11, 5))
    return member.full_name


def _nightly_flags(app) -> int:
    from portal import jobs
    from portal.extensions import db

    with app.app_context():
        run = jobs.submit("oversight.flags", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    return run_id


def test_nightly_flags_run_shows_each_admin_only_their_region(app, client, session):
    name = _flagged_person(session)
    _admin(session, "admin.karaganda@demo.kz", KARAGANDA)
    _admin(session, "admin.abai@demo.kz", ABAI_REGION)
    session.commit()
    run_id = _nightly_flags(app)

    login_as(client, "admin.abai@demo.kz")
    status = client.get(f"/jobs/{run_id}/status.json")
    assert status.status_code == 200
    assert name not in status.text
    result = status.get_json()["result"]
    assert result["counts"]["payouts_within_30_days"] == 0
    assert all(row["unit_id"] is None for row in result["rows"])
    page = client.get(f"/jobs/{run_id}")
    assert page.status_code == 200 and name not in page.text

    for admin in ("admin.karaganda@demo.kz", "admin@demo.kz"):
        login_as(client, admin)
        result = client.get(f"/jobs/{run_id}/status.json").get_json()["result"]
        assert result["counts"]["payouts_within_30_days"] == 1, admin
        assert any(row["params"].get("name") == name for row in result["rows"]), admin


def test_a_result_that_cannot_be_placed_is_shown_only_to_who_covers_the_run(app, session):
    """The books' reconciliation of the whole country names lines of every region."""
    _admin(session, "admin.abai@demo.kz", ABAI_REGION)
    run = jobruns.create_run(session, kind="budget.reconcile", requested_by_id=None, unit_id=None)
    drifts = {"ok": False, "drifts": [{"check": "line_ledger", "object_id": 7}]}
    jobruns.finish(session, run.id, result=json.dumps(drifts))
    session.commit()
    session.refresh(run)
    regional = Scope.within([places.by_kato(session, ABAI_REGION).id])
    national = Scope.within([places.by_kato(session, places.COUNTRY_KATO).id])
    assert jobruns.result_for(session, run, regional) is None
    assert jobruns.result_for(session, run, national) == drifts
