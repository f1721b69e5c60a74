"""The person's own cases: the draft, objections, an oral hearing, remarks, complaints."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import func, select

from appeals import complaints, hearings
from appeals.models import Complaint, Hearing, HearingObjection, LegalGround
from core import accounts
from core.scope import Scope
from tests.conftest import audit_count, login_as, wait_for_jobs
from tests.factories.volunteers import fields, iin_for, user
from volunteers import enrolment
from volunteers.models import Application

_serials = itertools.count(8600)


def _person(session) -> accounts.User:
    n = next(_serials)
    return accounts.create_user(
        session,
        email=f"applicant{n}@example.kz",
        phone=None,
        full_name=f"Айбек Сапаров {n}",
        unit_id=user(session, "volunteer@demo.kz").unit_id,
        preferred_language="en",
        password="applicant password 1",
        actor_id=None,
    )


def _petitioned(session, person) -> Application:
    coordinator = user(session, "coordinator@demo.kz")
    today = dt.date.today()
    app = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(next(_serials)),
            applicant_id=person.id,
            email=person.email,
            channel="web",
            actor_id=person.id,
            today=today,
        ),
    )
    enrolment.take_check(session, application_id=app.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=app.id, actor_id=coordinator.id, today=today)
    return app


def _notified(session) -> tuple[accounts.User, Application, Hearing]:
    person = _person(session)
    app = _petitioned(session, person)
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    code = session.scalar(
        select(LegalGround.code)
        .where(LegalGround.act_kind == "refuse_registration")
        .order_by(LegalGround.code)
    )
    found = hearings.draft(
        session,
        act_kind="refuse_registration",
        subject_id=app.id,
        grounds=[code],
        grounds_text="Registered at another address",
        actor_id=registrar.id,
        scope=scope,
    )
    hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope)
    session.commit()
    return person, app, found


def _adopt(session, hearing_id: int) -> None:
    registrar = user(session, "registrar@demo.kz")
    hearings.adopt(
        session,
        hearing_id=hearing_id,
        act_reasons="The objection does not change the address",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        exception_kind="person_waived",
        exception_reason="The person asked not to wait",
    )
    session.commit()


def _count(session, model, **where) -> int:
    session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return session.scalar(stmt)


def test_the_person_reads_the_draft_and_objects(app, client, session):
    person, _application, found = _notified(session)
    login_as(client, person.email)
    cases = client.get("/my/cases")
    assert cases.status_code == 200 and f"/my/cases/hearings/{found.id}" in cases.text
    page = client.get(f"/my/cases/hearings/{found.id}")
    assert page.status_code == 200
    assert "Registered at another address" in page.text
    empty = client.post(f"/my/cases/hearings/{found.id}/objection", data={"body": ""})
    assert empty.status_code == 400
    assert _count(session, HearingObjection, hearing_id=found.id) == 0
    sent = client.post(f"/my/cases/hearings/{found.id}/objection", data={"body": "I live here"})
    assert sent.status_code == 302
    assert _count(session, HearingObjection, hearing_id=found.id) == 1
    assert audit_count(session, "hearing.objection", "hearing", found.id) == 1
    oral = client.post(f"/my/cases/hearings/{found.id}/oral")
    assert oral.status_code == 302
    session.rollback()
    assert session.get(Hearing, found.id).oral_requested_at is not None
    again = client.post(f"/my/cases/hearings/{found.id}/oral")
    assert again.status_code == 409
    assert audit_count(session, "hearing.oral_request", "hearing", found.id) == 1


def test_another_person_sees_nothing(app, client, session):
    _person_one, _application, found = _notified(session)
    stranger = _person(session)
    session.commit()
    login_as(client, stranger.email)
    assert f"/my/cases/hearings/{found.id}" not in client.get("/my/cases").text
    assert client.get(f"/my/cases/hearings/{found.id}").status_code == 404
    posted = client.post(f"/my/cases/hearings/{found.id}/objection", data={"body": "Mine"})
    assert posted.status_code == 404
    assert _count(session, HearingObjection, hearing_id=found.id) == 0
    assert client.get(f"/my/cases/complaints/new?hearing={found.id}").status_code == 404


def test_a_draft_is_not_shown_before_the_notice(app, client, session):
    person = _person(session)
    application = _petitioned(session, person)
    registrar = user(session, "registrar@demo.kz")
    code = session.scalar(
        select(LegalGround.code).where(LegalGround.act_kind == "refuse_registration")
    )
    found = hearings.draft(
        session,
        act_kind="refuse_registration",
        subject_id=application.id,
        grounds=[code],
        grounds_text="Draft",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
    )
    session.commit()
    login_as(client, person.email)
    assert client.get(f"/my/cases/hearings/{found.id}").status_code == 404


def test_remarks_on_the_protocol(app, client, session):
    person, _application, found = _notified(session)
    registrar = user(session, "registrar@demo.kz")
    hearings.request_oral(session, hearing_id=found.id, actor_id=person.id)
    hearings.record_protocol(
        session,
        hearing_id=found.id,
        held_at=found.notified_at,
        mode="video",
        attendees="Both",
        body="The person explained the address",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
    )
    session.commit()
    login_as(client, person.email)
    page = client.get(f"/my/cases/hearings/{found.id}")
    assert "The person explained the address" in page.text and "/remarks" in page.text
    assert client.post(f"/my/cases/hearings/{found.id}/remarks", data={}).status_code == 400
    added = client.post(f"/my/cases/hearings/{found.id}/remarks", data={"body": "Add the lease"})
    assert added.status_code == 302
    again = client.post(f"/my/cases/hearings/{found.id}/remarks", data={"body": "More"})
    assert again.status_code == 409
    session.rollback()
    assert session.get(Hearing, found.id).protocol.remarks == "Add the lease"


def test_the_person_files_a_complaint_and_sees_the_decision(app, client, session):
    person, application, found = _notified(session)
    _adopt(session, found.id)
    login_as(client, person.email)
    page = client.get(f"/my/cases/hearings/{found.id}")
    assert f"/my/cases/complaints/new?hearing={found.id}" in page.text
    url = f"/my/cases/complaints/new?hearing={found.id}"
    form = client.get(url)
    assert form.status_code == 200 and person.full_name in form.text
    content = {
        "name": person.full_name,
        "iin": application.iin,
        "address": "Botakara, Abai st 5",
        "act_challenged": "The refusal to register me",
        "grounds": "I do live at the address",
        "request": "Register me",
    }
    unsigned = client.post(url, data=content)
    assert unsigned.status_code == 400
    assert _count(session, Complaint, hearing_id=found.id) == 0
    wrong_iin = client.post(url, data={**content, "iin": "12345", "confirmed": "yes"})
    assert wrong_iin.status_code == 400
    assert _count(session, Complaint, hearing_id=found.id) == 0
    filed = client.post(url, data={**content, "confirmed": "yes"})
    assert filed.status_code == 302, filed.text
    session.rollback()
    complaint = session.scalar(select(Complaint).where(Complaint.hearing_id == found.id))
    assert complaint.channel == "portal" and complaint.status == "registered"
    twice = client.post(url, data={**content, "confirmed": "yes"})
    assert twice.status_code == 409
    assert _count(session, Complaint, hearing_id=found.id) == 1
    mine = client.get(f"/my/cases/complaints/{complaint.id}")
    assert mine.status_code == 200 and complaint.number in mine.text
    # The staff side: forwarded, then decided by the region's reviewer (once the messages of
    # the filing are sent: SQLite takes one writer at a time).
    wait_for_jobs(app)
    session.rollback()
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
    )
    complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="cancel",
        reasons="The address is confirmed by the lease",
        actor_id=user(session, "reviewer@demo.kz").id,
    )
    session.commit()
    decided = client.get(f"/my/cases/complaints/{complaint.id}")
    assert "The address is confirmed by the lease" in decided.text
    assert "Act cancelled" in decided.text
    stranger = _person(session)
    session.commit()
    login_as(client, stranger.email)
    assert client.get(f"/my/cases/complaints/{complaint.id}").status_code == 404
