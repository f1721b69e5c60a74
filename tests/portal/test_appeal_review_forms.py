"""Staff forms of the review fixes: paper receipts, signed protocols, reasons, restored terms."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import complaint_rules, complaints, hearings
from appeals.models import AppealSetting, Complaint, Hearing, HearingProtocol
from core import clock
from core.db import utcnow
from core.places import AdminUnit
from core.scope import Scope
from portal.appeals import case_views
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import make_member, user
from tests.portal.test_appeal_pages import _citizen, _drafted, _ground

_serials = itertools.count(8700)


def _fresh(session, model, ident):
    session.rollback()
    return session.get(model, ident)


def _says(app, response, msgid: str) -> bool:
    """The page shows ``msgid`` in the page's language (Kazakh, the default)."""
    return translated(app, msgid, "kk") in response.text


def _paper_hearing(session, *, days_ago: int = 3) -> Hearing:
    """A suspension notified ``days_ago`` to a member without an account or e-mail."""
    member = make_member(session, next(_serials))
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    then = utcnow() - dt.timedelta(days=days_ago)
    found = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[_ground(session, "suspend")],
        grounds_text="Missed shifts",
        actor_id=registrar.id,
        scope=scope,
        now=then,
    )
    hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope, now=then)
    session.commit()
    return found


def _adopted(session, *, days_ago: int = 0) -> Hearing:
    member = make_member(session, next(_serials), applicant=_citizen(session))
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    then = utcnow() - dt.timedelta(days=days_ago)
    found = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[_ground(session, "suspend")],
        grounds_text="Missed shifts",
        actor_id=registrar.id,
        scope=scope,
        now=then,
    )
    hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope, now=then)
    hearings.adopt(
        session,
        hearing_id=found.id,
        act_reasons="Reasons",
        actor_id=registrar.id,
        scope=scope,
        exception_kind="urgency",
        exception_reason="Festival",
        now=then,
    )
    session.commit()
    return found


def test_paper_notice_receipt_then_a_protocol_signed_on_a_day(app, client, session):
    found = _paper_hearing(session)
    assert found.earliest_act_on is None
    url = f"/appeals/hearings/{found.id}/delivery"
    login_as(client, "coordinator@demo.kz")  # reads the case, does not act on a registrar's act
    assert client.post(url, data={"how": "post", "confirmed": "yes"}).status_code == 403
    login_as(client, "registrar@demo.kz")
    before = client.get(f"/appeals/hearings/{found.id}").text
    assert f'action="{url}"' in before
    assert 'data-testid="receipt-first"' in before  # the act waits for the receipt
    today = clock.today()
    unknown = client.post(url, data={"received_on": today.isoformat(), "how": "pigeon"})
    assert unknown.status_code == 400
    future = (today + dt.timedelta(days=1)).isoformat()
    late = client.post(url, data={"received_on": future, "how": "post", "confirmed": "yes"})
    assert late.status_code == 422 and _says(
        app, late, "Give the day the person received the notice (not later than today)."
    )
    received = (today - dt.timedelta(days=2)).isoformat()
    asked = client.post(url, data={"received_on": received, "how": "post"})
    assert asked.status_code == 422  # the confirmation page, carrying the fields
    assert _fresh(session, Hearing, found.id).delivered_on is None
    assert audit_count(session, "hearing.delivery", "hearing", found.id) == 0
    data = {"received_on": received, "how": "post", "confirmed": "yes"}
    assert client.post(url, data=data).status_code == 302
    done = _fresh(session, Hearing, found.id)
    assert done.delivered_on == today - dt.timedelta(days=2) and done.delivery_way == "post"
    assert done.earliest_act_on is not None
    assert audit_count(session, "hearing.delivery", "hearing", found.id) == 1
    assert client.post(url, data=data).status_code == 409
    assert audit_count(session, "hearing.delivery", "hearing", found.id) == 1
    page = client.get(f"/appeals/hearings/{found.id}")
    assert _says(app, page, "Notice received on") and _says(app, page, "By registered post")
    assert 'data-testid="receipt-first"' not in page.text
    # The protocol: signed before the hearing's day -> refused at the field, nothing written.
    held = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(10, 0))
    protocol = {
        "held_at": held.strftime("%Y-%m-%dT%H:%M"),
        "mode": "in_person",
        "attendees": "The person, the registrar",
        "body": "The person explained the absences",
        "confirmed": "yes",
    }
    early = (today - dt.timedelta(days=2)).isoformat()
    refused = client.post(
        f"/appeals/hearings/{found.id}/protocol", data={**protocol, "signed_on": early}
    )
    assert refused.status_code == 422 and _says(
        app, refused, "The protocol is signed on or after the hearing's day and not after today."
    )
    assert _fresh(session, Hearing, found.id).status == "notified"
    signed = client.post(
        f"/appeals/hearings/{found.id}/protocol",
        data={**protocol, "signed_on": today.isoformat()},
    )
    assert signed.status_code == 302
    session.rollback()
    row = session.scalar(select(HearingProtocol).where(HearingProtocol.hearing_id == found.id))
    assert row.signed_on == today and row.signed_late is False
    assert _says(app, client.get(f"/appeals/hearings/{found.id}"), "Protocol signed on")


def test_the_person_is_told_the_terms_wait_for_the_paper_notice(app, client, session):
    member = make_member(session, next(_serials), applicant=_citizen(session))
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    found = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[_ground(session, "suspend")],
        grounds_text="Missed shifts",
        actor_id=registrar.id,
        scope=scope,
    )
    hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope)
    session.commit()
    assert found.earliest_act_on is not None  # an account: the notice is electronic
    login_as(client, "registrar@demo.kz")
    page = client.get(f"/appeals/hearings/{found.id}").text
    assert f"/appeals/hearings/{found.id}/delivery" not in page
    refused = client.post(
        f"/appeals/hearings/{found.id}/delivery",
        data={"received_on": clock.today().isoformat(), "how": "by_hand", "confirmed": "yes"},
    )
    assert refused.status_code == 409
    assert _fresh(session, Hearing, found.id).delivered_on is None


def test_act_receipt_is_recorded_once_from_the_act_day(app, client, session):
    found = _adopted(session, days_ago=1)
    url = f"/appeals/hearings/{found.id}/act-receipt"
    login_as(client, "registrar@demo.kz")
    assert f'action="{url}"' in client.get(f"/appeals/hearings/{found.id}").text
    act_on = _fresh(session, Hearing, found.id).act_on
    before = (act_on - dt.timedelta(days=1)).isoformat()
    refused = client.post(url, data={"received_on": before, "confirmed": "yes"})
    assert refused.status_code == 422 and _says(
        app, refused, "Give the day the person received the act (from its date, not after today)."
    )
    assert (
        client.post(url, data={"received_on": "not a day", "confirmed": "yes"}).status_code == 400
    )
    assert _fresh(session, Hearing, found.id).act_received_on is None
    data = {"received_on": clock.today().isoformat(), "confirmed": "yes"}
    assert client.post(url, data=data).status_code == 302
    assert _fresh(session, Hearing, found.id).act_received_on == clock.today()
    assert audit_count(session, "hearing.act_receipt", "hearing", found.id) == 1
    assert client.post(url, data=data).status_code == 409
    page = client.get(f"/appeals/hearings/{found.id}").text
    assert (
        translated(app, "The person received the act on", "kk") in page
        and f'action="{url}"' not in page
    )
    login_as(client, "volunteer@demo.kz")
    assert client.post(url, data=data).status_code == 403


def test_reasons_are_stated_only_on_a_sitting_hearing(app, client, session):
    from tests.appeals.test_sitting_hearings import _closed_sitting
    from tests.factories import commission as cf

    s, sitting, _unfunded, refused = _closed_sitting(session)
    drafted = hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW
    )
    session.commit()
    target = next(h for h in drafted if h.subject_id == refused.id)
    url = f"/appeals/hearings/{target.id}/reasons"
    login_as(client, "secretary@demo.kz")
    assert f'action="{url}"' in client.get(f"/appeals/hearings/{target.id}").text
    assert client.post(url, data={"reasons": " "}).status_code == 400
    assert _fresh(session, Hearing, target.id).stated_reasons is None
    assert client.post(url, data={"reasons": "The objection was read out"}).status_code == 302
    assert _fresh(session, Hearing, target.id).stated_reasons == "The objection was read out"
    assert client.post(url, data={"reasons": "Considered again"}).status_code == 302
    assert _fresh(session, Hearing, target.id).stated_reasons == "Considered again"
    assert audit_count(session, "hearing.reasons", "hearing", target.id) == 2
    assert "Considered again" in client.get(f"/appeals/hearings/{target.id}").text
    # A registrar's suspension is no sitting's hearing: 409, nothing written.
    other = _drafted(session)
    login_as(client, "registrar@demo.kz")
    conflict = client.post(f"/appeals/hearings/{other.id}/reasons", data={"reasons": "x"})
    assert conflict.status_code == 409
    assert _fresh(session, Hearing, other.id).stated_reasons is None
    assert audit_count(session, "hearing.reasons", "hearing", other.id) == 0


def _late_complaint(session) -> Complaint:
    found = _adopted(session, days_ago=200)
    registrar = user(session, "registrar@demo.kz")
    person = session.get(Hearing, found.id)
    from volunteers.models import Member

    filed = complaints.file(
        session,
        actor_id=registrar.id,
        channel="paper",
        hearing_id=found.id,
        name=person.person_name,
        iin=session.get(Member, found.subject_id).iin,
        address="Botakara, Abai st 5",
        contact=None,
        act_challenged="The suspension",
        grounds="I was abroad",
        request="Cancel it",
        restored_reason="I was abroad for work",
        attachments=[complaints.Upload("scan.pdf", "application/pdf", b"%PDF-1.4 signed")],
        scope=Scope.of(registrar, "registrar"),
    )
    session.commit()
    assert complaint_rules.filed_late(filed)
    return filed


def test_restoring_a_late_complaints_term(app, client, session):
    filed = _late_complaint(session)
    url = f"/appeals/complaints/{filed.id}/restore-term"
    login_as(client, "registrar@demo.kz")
    page = client.get(f"/appeals/complaints/{filed.id}").text
    assert f'action="{url}"' in page
    assert f"/appeals/complaints/{filed.id}/grant" not in page  # a 409 while late
    assert client.post(url, data={"reasons": ""}).status_code == 400
    asked = client.post(url, data={"reasons": "Abroad for work: proven"})
    assert asked.status_code == 422 and "Abroad for work: proven" in asked.text
    assert _fresh(session, Complaint, filed.id).term_restored_reasons is None
    login_as(client, "coordinator@demo.kz")  # reads the complaint, is not the issuing body
    denied = client.post(url, data={"reasons": "x", "confirmed": "yes"})
    assert denied.status_code == 403
    login_as(client, "volunteer@demo.kz")
    assert client.post(url, data={"reasons": "x", "confirmed": "yes"}).status_code == 403
    login_as(client, "registrar@demo.kz")
    data = {"reasons": "Abroad for work: proven", "confirmed": "yes"}
    assert client.post(url, data=data).status_code == 302
    restored = _fresh(session, Complaint, filed.id)
    assert restored.term_restored_reasons == "Abroad for work: proven"
    assert not complaint_rules.filed_late(restored)
    assert audit_count(session, "complaint.restore_term", "complaint", filed.id) == 1
    assert client.post(url, data=data).status_code == 409
    assert audit_count(session, "complaint.restore_term", "complaint", filed.id) == 1
    page = client.get(f"/appeals/complaints/{filed.id}").text
    assert "Abroad for work: proven" in page and f'action="{url}"' not in page


def test_a_late_forwarded_complaint_offers_the_reviewer_only_unconsidered(app, client, session):
    filed = _late_complaint(session)
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=filed.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
    )
    session.commit()
    login_as(client, "reviewer@demo.kz")
    page = client.get(f"/appeals/complaints/{filed.id}").text
    assert 'value="unconsidered"' in page and 'value="cancel"' not in page
    assert f"/appeals/complaints/{filed.id}/restore-term" in page
    decision = {"outcome": "cancel", "reasons": "Proven", "confirmed": "yes"}
    refused = client.post(f"/appeals/complaints/{filed.id}/decide", data=decision)
    assert refused.status_code == 400  # not a choice of the form while late
    assert _fresh(session, Complaint, filed.id).status == "forwarded"


def _options(page: str, name: str) -> set[str]:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return set(re.findall(r'<option[^>]*value="(\d+)"', select_html)) - {"0"}


def test_the_review_body_form_offers_only_units_above(app, client, session):
    login_as(client, "admin@demo.kz")
    page = client.get("/appeals/review-bodies").text
    jurisdictions, reviewing = _options(page, "unit_id"), _options(page, "review_unit_id")
    paths = dict(
        session.execute(
            select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(map(int, jurisdictions)))
        ).all()
    )
    above = {i for path in paths.values() for i in path.strip("/").split("/")[:-1]}
    assert reviewing and reviewing == above & jurisdictions
    leaf = min(jurisdictions - reviewing, key=int)
    parent = next(p for p in paths[int(leaf)].strip("/").split("/")[:-1] if p in reviewing)
    saved = session.scalar(select(func.count()).select_from(AppealSetting))
    fields = {"body_kk": "x", "body_ru": "x", "how_kk": "x", "how_ru": "x"}
    below = client.post(
        "/appeals/review-bodies", data={**fields, "unit_id": leaf, "review_unit_id": leaf}
    )
    assert below.status_code == 400  # not among the choices
    same = client.post(
        "/appeals/review-bodies", data={**fields, "unit_id": parent, "review_unit_id": parent}
    )
    assert same.status_code == 422  # the domain: strictly above
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AppealSetting)) == saved


def _link(found: Hearing) -> str:
    return f'href="/appeals/hearings/{found.id}"'


def test_the_case_list_pages(app, client, session, monkeypatch):
    older, newer = _drafted(session), _drafted(session)
    monkeypatch.setattr(case_views, "PAGE_SIZE", 1)
    login_as(client, "registrar@demo.kz")
    first = client.get("/appeals?type=hearing")
    assert first.status_code == 200
    assert _link(newer) in first.text and _link(older) not in first.text
    assert "page=2" in first.text
    second = client.get("/appeals?type=hearing&page=2")
    assert second.status_code == 200
    assert _link(older) in second.text and _link(newer) not in second.text
    assert client.get("/appeals?type=hearing&page=x").status_code == 200


@pytest.mark.parametrize("path", ["delivery", "act-receipt", "reasons"])
def test_unknown_hearing_is_not_found(app, client, path):
    login_as(client, "registrar@demo.kz")
    assert client.post(f"/appeals/hearings/999999/{path}", data={}).status_code == 404


def test_ten_parallel_receipts_and_restorations_take_effect_once(pg_app):
    """Ten clicks at once on PostgreSQL: one receipt, one restored term; the rest are 409s."""
    with Session(engine_of(pg_app)) as session:
        hearing_id = _paper_hearing(session).id
        complaint_id = _late_complaint(session).id
        session.rollback()  # no transaction the steps' locks would wait for
        staff = pg_app.test_client()
        login_as(staff, "registrar@demo.kz")
        clients = [same_browser(staff) for _ in range(10)]
        received = {"received_on": clock.today().isoformat(), "how": "by_hand", "confirmed": "yes"}
        answers = race(
            10,
            lambda i: (
                clients[i]
                .post(f"/appeals/hearings/{hearing_id}/delivery", data=received)
                .status_code
            ),
        )
        assert sorted(answers) == [302] + [409] * 9, answers
        session.rollback()
        assert audit_count(session, "hearing.delivery", "hearing", hearing_id) == 1
        session.rollback()  # its read would hold the audit table's lock the steps take
        restore = {"reasons": "Abroad for work", "confirmed": "yes"}
        answers = race(
            10,
            lambda i: (
                clients[i]
                .post(f"/appeals/complaints/{complaint_id}/restore-term", data=restore)
                .status_code
            ),
        )
        assert sorted(answers) == [302] + [409] * 9, answers
        session.rollback()
        assert audit_count(session, "complaint.restore_term", "complaint", complaint_id) == 1
