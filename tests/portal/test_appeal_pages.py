"""Staff pages of hearings and complaints: steps, confirmations, rights, bad input, repeats."""

from __future__ import annotations

import io
import itertools

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import complaints, hearings
from appeals.models import Complaint, Hearing, HearingObjection, LegalGround
from core import accounts
from core.scope import Scope
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import make_member, user
from volunteers.models import Member

_serials = itertools.count(8100)
PDF = b"%PDF-1.4 signed paper complaint"


def _ground(session, act_kind: str) -> str:
    return session.scalar(
        select(LegalGround.code).where(LegalGround.act_kind == act_kind).order_by(LegalGround.code)
    )


def _citizen(session) -> accounts.User:
    n = next(_serials)
    person = accounts.create_user(
        session,
        email=f"person{n}@example.kz",
        phone=None,
        full_name=f"Азамат Тестов {n}",
        unit_id=user(session, "volunteer@demo.kz").unit_id,
        preferred_language="en",
        password="citizen password 1",
        actor_id=None,
    )
    return person


def _member(session) -> Member:
    member = make_member(session, next(_serials), applicant=_citizen(session))
    session.commit()
    return member


def _count(session, model, **where) -> int:
    session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return session.scalar(stmt)


def _hearing(session, member_id: int) -> Hearing:
    session.rollback()
    return session.scalar(
        select(Hearing).where(Hearing.subject_id == member_id).order_by(Hearing.id.desc())
    )


def _drafted(session, act_kind="suspend", notify=True) -> Hearing:
    member = _member(session)
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    found = hearings.draft(
        session,
        act_kind=act_kind,
        subject_id=member.id,
        grounds=[_ground(session, act_kind)],
        grounds_text="Three shifts missed without a reason",
        actor_id=registrar.id,
        scope=scope,
    )
    if notify:
        hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope)
    session.commit()
    return found


def test_member_page_sends_suspension_through_a_hearing(app, client, session):
    member = _member(session)
    login_as(client, "registrar@demo.kz")
    page = client.get(f"/volunteers/members/{member.id}")
    assert page.status_code == 200
    assert f"/appeals/hearings/new?act_kind=suspend&amp;subject_id={member.id}" in page.text
    # The old direct step is refused with 409 and changes nothing.
    refused = client.post(
        f"/volunteers/members/{member.id}/status", data={"status": "suspended", "reason": "x"}
    )
    assert refused.status_code == 409
    refusal = (
        "A member is suspended or expelled only by an act adopted after a hearing: "
        "prepare a preliminary decision first."
    )
    assert translated(app, refusal, "kk") in refused.text
    session.rollback()
    assert session.get(Member, member.id).status == "active"


def test_draft_notify_object_adopt_through_the_pages(app, client, session):
    member = _member(session)
    login_as(client, "registrar@demo.kz")
    url = f"/appeals/hearings/new?act_kind=suspend&subject_id={member.id}"
    form = client.get(url)
    assert form.status_code == 200 and _ground(session, "suspend") in form.text
    # Bad input: no ground chosen -> 400 at the field, nothing written.
    bad = client.post(
        "/appeals/hearings/new",
        data={"act_kind": "suspend", "subject_id": member.id, "grounds_text": "Facts"},
    )
    assert bad.status_code == 400
    assert _count(session, Hearing, subject_id=member.id) == 0
    made = client.post(
        "/appeals/hearings/new",
        data={
            "act_kind": "suspend",
            "subject_id": member.id,
            "grounds": _ground(session, "suspend"),
            "grounds_text": "Three shifts missed",
        },
    )
    assert made.status_code == 302
    found = _hearing(session, member.id)
    assert found.status == "drafted"
    assert audit_count(session, "hearing.draft", "hearing", found.id) == 1
    # Notify: the confirmation page first; an unconfirmed POST changes nothing.
    assert client.get(f"/appeals/hearings/{found.id}/notify/confirm").status_code == 200
    assert client.post(f"/appeals/hearings/{found.id}/notify").status_code == 422
    assert _hearing(session, member.id).status == "drafted"
    done = client.post(f"/appeals/hearings/{found.id}/notify", data={"confirmed": "yes"})
    assert done.status_code == 302
    assert _hearing(session, member.id).status == "notified"
    again = client.post(f"/appeals/hearings/{found.id}/notify", data={"confirmed": "yes"})
    assert again.status_code == 409
    assert audit_count(session, "hearing.notify", "hearing", found.id) == 1
    # A paper objection entered by staff.
    empty = client.post(f"/appeals/hearings/{found.id}/objections", data={"channel": "paper"})
    assert empty.status_code == 400
    assert _count(session, HearingObjection, hearing_id=found.id) == 0
    entered = client.post(
        f"/appeals/hearings/{found.id}/objections",
        data={"channel": "paper", "body": "I was ill, here is the certificate"},
    )
    assert entered.status_code == 302
    assert _count(session, HearingObjection, hearing_id=found.id) == 1
    # Adoption before the hearing term ends without an exception: refused, nothing changes.
    early = client.post(
        f"/appeals/hearings/{found.id}/adopt",
        data={"act_reasons": "The illness does not cover all three", "confirmed": "yes"},
    )
    assert early.status_code == 409
    assert _hearing(session, member.id).status == "notified"
    assert session.get(Member, member.id).status == "active"
    data = {
        "act_reasons": "The illness does not cover all three",
        "exception_kind": "urgency",
        "exception_reason": "Public order at the festival",
    }
    asked = client.post(f"/appeals/hearings/{found.id}/adopt", data=data)
    assert asked.status_code == 422 and "Public order at the festival" in asked.text
    adopted = client.post(f"/appeals/hearings/{found.id}/adopt", data={**data, "confirmed": "yes"})
    assert adopted.status_code == 302
    session.rollback()
    assert _hearing(session, member.id).status == "adopted"
    assert session.get(Member, member.id).status == "suspended"
    page = client.get(f"/appeals/hearings/{found.id}")
    assert page.status_code == 200 and "Public order at the festival" in page.text


def test_withdraw_needs_a_reason_and_confirmation(app, client, session):
    found = _drafted(session)
    login_as(client, "registrar@demo.kz")
    assert client.post(f"/appeals/hearings/{found.id}/withdraw", data={}).status_code == 400
    asked = client.post(f"/appeals/hearings/{found.id}/withdraw", data={"reason": "Mistake"})
    assert asked.status_code == 422
    assert _hearing(session, found.subject_id).status == "notified"
    done = client.post(
        f"/appeals/hearings/{found.id}/withdraw", data={"reason": "Mistake", "confirmed": "yes"}
    )
    assert done.status_code == 302
    assert _hearing(session, found.subject_id).status == "withdrawn"
    again = client.post(
        f"/appeals/hearings/{found.id}/withdraw", data={"reason": "Mistake", "confirmed": "yes"}
    )
    assert again.status_code == 409


def test_who_may_open_the_hearing_pages(app, client, session):
    found = _drafted(session)
    login_as(client, "volunteer@demo.kz")
    assert client.get(f"/appeals/hearings/{found.id}").status_code == 403
    assert client.get("/appeals").status_code == 403
    login_as(client, "deputy@demo.kz")
    assert client.get("/appeals").status_code == 403
    # A coordinator of the district reads it but does not act on a registrar's act.
    login_as(client, "coordinator@demo.kz")
    assert client.get(f"/appeals/hearings/{found.id}").status_code == 200
    refused = client.post(f"/appeals/hearings/{found.id}/withdraw", data={"reason": "x"})
    assert refused.status_code == 403
    login_as(client, "registrar@demo.kz")
    listed = client.get("/appeals?type=hearing&status=notified")
    assert listed.status_code == 200 and found.person_name in listed.text


def test_paper_complaint_forward_and_review(app, client, session):
    found = _drafted(session)
    registrar = user(session, "registrar@demo.kz")
    hearings.adopt(
        session,
        hearing_id=found.id,
        act_reasons="Reasons",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        exception_kind="urgency",
        exception_reason="Festival",
    )
    session.commit()
    login_as(client, "registrar@demo.kz")
    url = f"/appeals/complaints/new?hearing={found.id}"
    assert client.get(url).status_code == 200
    fields = {
        "name": found.person_name,
        "iin": session.get(Member, found.subject_id).iin,
        "address": "Botakara, Abai st 5",
        "act_challenged": "The suspension",
        "grounds": "I was ill",
        "request": "Cancel it",
    }
    unsigned = client.post(url, data=fields)
    assert unsigned.status_code == 400
    assert _count(session, Complaint, hearing_id=found.id) == 0
    filed = client.post(
        url,
        data={**fields, "confirmed": "yes", "attachments": (io.BytesIO(PDF), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302, filed.text
    session.rollback()
    complaint = session.scalar(select(Complaint).where(Complaint.hearing_id == found.id))
    assert complaint.status == "registered" and len(complaint.attachments) == 1
    assert session.get(Member, found.subject_id).status == "active"  # execution suspended
    page = client.get(f"/appeals/complaints/{complaint.id}")
    assert page.status_code == 200 and complaint.number in page.text
    download = client.get(
        f"/appeals/complaints/{complaint.id}/attachments/{complaint.attachments[0].id}"
    )
    assert download.status_code == 200 and download.data == PDF
    assert client.post(f"/appeals/complaints/{complaint.id}/forward").status_code == 422
    forwarded = client.post(
        f"/appeals/complaints/{complaint.id}/forward", data={"confirmed": "yes"}
    )
    assert forwarded.status_code == 302
    # The author of the act may not review it (Art. 97(2)).
    decision = {"outcome": "cancel", "reasons": "The illness is proven", "confirmed": "yes"}
    assert (
        client.post(f"/appeals/complaints/{complaint.id}/decide", data=decision).status_code == 403
    )
    login_as(client, "reviewer@demo.kz")
    assert "/decide" in client.get(f"/appeals/complaints/{complaint.id}").text
    returned = client.post(
        f"/appeals/complaints/{complaint.id}/decide",
        data={"outcome": "returned", "reasons": "x", "confirmed": "yes"},
    )
    assert returned.status_code == 422  # returned needs what to fix
    session.rollback()
    assert session.get(Complaint, complaint.id).status == "forwarded"
    decided = client.post(f"/appeals/complaints/{complaint.id}/decide", data=decision)
    assert decided.status_code == 302
    session.rollback()
    assert session.get(Complaint, complaint.id).outcome == "cancel"
    assert session.get(Member, found.subject_id).status == "active"
    again = client.post(f"/appeals/complaints/{complaint.id}/decide", data=decision)
    assert again.status_code == 409
    assert audit_count(session, "complaint.decide", "complaint", complaint.id) == 1


def test_initiative_review_no_longer_declines_directly(app, client, session):
    import sober
    from tests.factories.volunteers import unit

    coordinator = user(session, "coordinator@demo.kz")
    initiative = sober.submit_initiative(
        session,
        unit_id=unit(session, "354030100").id,
        title="Sober village",
        description="d",
        measures="m",
        team="t",
        requested_incentive="r",
        proposer_role="activist",
        actor_id=user(session, "volunteer@demo.kz").id,
        home_unit_id=coordinator.unit_id,
    )
    session.commit()
    login_as(client, "coordinator@demo.kz")
    page = client.get(f"/sober/initiatives/{initiative.id}")
    assert 'value="declined"' not in page.text
    assert "act_kind=decline_initiative" in page.text
    refused = client.post(
        f"/sober/initiatives/{initiative.id}/review",
        data={"to_status": "declined", "comment": "No"},
    )
    assert refused.status_code == 409
    session.rollback()
    assert session.get(type(initiative), initiative.id).status == "submitted"


def test_review_bodies_and_grounds_pages(app, client, session):
    login_as(client, "admin@demo.kz")
    assert client.get("/appeals/grounds").status_code == 200
    page = client.get("/appeals/review-bodies")
    assert page.status_code == 200
    bad = client.post("/appeals/review-bodies", data={"body_kk": "x"})
    assert bad.status_code == 400
    login_as(client, "registrar@demo.kz")
    assert client.get("/appeals/review-bodies").status_code == 403


def test_ten_parallel_notices_and_decisions_take_effect_once(pg_app):
    """A double click (or ten) on PostgreSQL: one notice, one decision; the rest are 409s."""
    with Session(engine_of(pg_app)) as session:
        _race_notice_and_decision(pg_app, session)


def _race_notice_and_decision(pg_app, session) -> None:
    found = _drafted(session, notify=False)
    hearing_id = found.id  # read once: the threads must not touch this session
    session.rollback()  # and it holds no transaction the steps' locks would wait for
    staff = pg_app.test_client()
    login_as(staff, "registrar@demo.kz")
    clients = [same_browser(staff) for _ in range(10)]
    answers = race(
        10,
        lambda i: (
            clients[i]
            .post(f"/appeals/hearings/{hearing_id}/notify", data={"confirmed": "yes"})
            .status_code
        ),
    )
    assert sorted(answers) == [302] + [409] * 9, answers
    session.rollback()
    assert audit_count(session, "hearing.notify", "hearing", found.id) == 1
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    hearings.adopt(
        session,
        hearing_id=found.id,
        act_reasons="Reasons",
        actor_id=registrar.id,
        scope=scope,
        exception_kind="urgency",
        exception_reason="Festival",
    )
    member = session.get(Member, found.subject_id)
    complaint = complaints.file(
        session,
        actor_id=registrar.id,
        channel="paper",
        hearing_id=found.id,
        name=found.person_name,
        iin=member.iin,
        address="Botakara",
        contact=None,
        act_challenged="The suspension",
        grounds="Ill",
        request="Cancel",
        attachments=[complaints.Upload("scan.pdf", "application/pdf", PDF)],
        scope=scope,
    )
    complaints.forward(session, complaint_id=complaint.id, actor_id=registrar.id, scope=scope)
    session.commit()
    complaint_id = complaint.id
    session.rollback()
    reviewer = pg_app.test_client()
    login_as(reviewer, "reviewer@demo.kz")
    clients = [same_browser(reviewer) for _ in range(10)]
    decision = {"outcome": "unsatisfied", "reasons": "Not proven", "confirmed": "yes"}
    answers = race(
        10,
        lambda i: (
            clients[i].post(f"/appeals/complaints/{complaint_id}/decide", data=decision).status_code
        ),
    )
    assert sorted(answers) == [302] + [409] * 9, answers
    session.rollback()
    assert audit_count(session, "complaint.decide", "complaint", complaint.id) == 1


def test_police_refusal_complaint_and_its_outcome(app, client, session):
    from tests.factories.volunteers import fields, iin_for
    from volunteers import enrolment

    coordinator = user(session, "coordinator@demo.kz")
    iin = iin_for(next(_serials))
    application = enrolment.submit_application(session, **fields(session, iin=iin))
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session,
        application_id=application.id,
        passed=False,
        reason="A record found",
        actor_id=coordinator.id,
    )
    session.commit()
    login_as(client, "coordinator@demo.kz")
    page = client.get(f"/volunteers/applications/{application.id}")
    url = f"/appeals/complaints/new?application={application.id}&kind=police"
    assert url.replace("&", "&amp;") in page.text
    filed = client.post(
        url,
        data={
            "name": application.full_name,
            "iin": iin,
            "address": "Botakara",
            "act_challenged": "The police refusal",
            "grounds": "The record was expunged",
            "request": "Check again",
            "confirmed": "yes",
            "attachments": (io.BytesIO(PDF), "scan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302, filed.text
    session.rollback()
    complaint = session.scalar(
        select(Complaint).where(Complaint.subject_id == application.id, Complaint.kind == "police")
    )
    # Not the akimat's to forward or grant: the police hierarchy's outcome is recorded.
    assert (
        client.post(
            f"/appeals/complaints/{complaint.id}/forward", data={"confirmed": "yes"}
        ).status_code
        == 409
    )
    outcome = {
        "outcome": "cancel",
        "reasons": "The regional police cancelled it",
        "confirmed": "yes",
    }
    recorded = client.post(f"/appeals/complaints/{complaint.id}/police", data=outcome)
    assert recorded.status_code == 302
    session.rollback()
    assert session.get(Complaint, complaint.id).status == "decided"
    assert audit_count(session, "complaint.police_outcome", "complaint", complaint.id) == 1
