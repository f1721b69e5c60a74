"""The administration page of retention rules, and running the erasure from it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from core import jobruns, signups
from tests.conftest import audit_count, login_as, wait_for_jobs
from tests.factories.volunteers import fields, iin_for, user
from volunteers import enrolment, retention
from volunteers.models import Application


def test_admin_edits_a_rule_and_it_is_audited(app, client, session):
    login_as(client, "admin@demo.kz")
    page = client.get("/admin/retention")
    assert page.status_code == 200 and "94-V" in page.text
    assert client.get("/admin/retention/application_refused").status_code == 200
    response = client.post(
        "/admin/retention/application_refused",
        data={"months": "18", "action": "erase", "legal_basis": "Решение акимата № 7"},
    )
    assert response.status_code == 302
    session.rollback()
    rule = retention.rules(session)["application_refused"]
    assert (rule.months, rule.action, rule.legal_basis) == (18, "erase", "Решение акимата № 7")
    assert audit_count(session, "retention.rule_update", "retention_rule", "application_refused")
    for bad in ({"months": "1201"}, {"months": "-1"}, {"months": "x"}, {"legal_basis": ""}):
        data = {"months": "6", "action": "anonymise", "legal_basis": "Basis", **bad}
        assert client.post("/admin/retention/application_refused", data=data).status_code == 400
    assert client.get("/admin/retention/forever").status_code == 404
    session.rollback()
    assert retention.rules(session)["application_refused"].months == 18


def test_non_admin_gets_403(app, client, session):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/admin/retention").status_code == 403
    assert client.get("/admin/retention/member_expired").status_code == 403
    data = {"months": "0", "action": "erase", "legal_basis": "x"}
    assert client.post("/admin/retention/member_expired", data=data).status_code == 403
    assert client.post("/admin/retention/run").status_code == 403
    session.rollback()
    assert retention.rules(session)["member_expired"].months == 36


def test_run_now_erases_what_is_due_and_a_second_run_does_nothing(app, client, session):
    coordinator = user(session, "coordinator@demo.kz")
    refused = enrolment.submit_application(session, **fields(session, iin=iin_for(7201)))
    enrolment.take_check(session, application_id=refused.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=refused.id, passed=False, reason="x", actor_id=coordinator.id
    )
    refused.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    # A sign-up whose code lapsed yesterday: a name and an address nobody will use.
    signups.begin_signup(
        session,
        email="lapsed@example.kz",
        phone=None,
        full_name="Ұмытылған Тіркелу",
        preferred_language="kk",
        unit_id=coordinator.unit_id,
        password="a long enough password",
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    )
    session.commit()
    login_as(client, "admin@demo.kz")
    results = []
    for _ in range(2):
        response = client.post("/admin/retention/run")
        assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
        wait_for_jobs(app)
        session.rollback()
        run = session.scalars(
            select(jobruns.JobRun)
            .where(jobruns.JobRun.kind == "retention.apply")
            .order_by(jobruns.JobRun.id.desc())
        ).first()
        assert run.status == "succeeded"
        results.append(json.loads(run.result))
    assert results[0]["applications"] == 1
    assert results[0]["by_kind"] == {"application_refused": 1}
    assert results[1]["applications"] == 0
    assert (results[0]["signups_lapsed"], results[1]["signups_lapsed"]) == (1, 0)
    assert session.scalar(select(func.count()).select_from(signups.SignupRequest)) == 0
    assert session.get(Application, refused.id).erased_at is not None
    assert audit_count(session, "application.erase", "application", refused.id) == 1
