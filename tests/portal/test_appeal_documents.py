"""The print pages and PDFs of the notice, the act and the complaint decision, and who sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from appeals import complaints, hearings
from appeals.models import Complaint, Hearing
from core import accounts, places
from core.scope import Scope
from tests.appeals.test_documents import (
    ACT_DAY,
    NOTICE_DAY,
    REVIEW_KK,
    REVIEW_RU,
    adopted,
    at,
    citizen,
    complaint_between_sittings,
    notified_suspension,
    suspend_ground,
)
from tests.conftest import login_as
from tests.factories.accounts import official
from tests.factories.volunteers import make_member
from tests.pdf_reading import pdf_text
from volunteers.models import Application

FILE_DAY = dt.date(2026, 11, 9)


def user(session, email: str) -> accounts.User:
    return accounts.find_by_login(session, email)


def decided_complaint(session, hearing: Hearing) -> Complaint:
    """The person's complaint against the act, forwarded and returned by the region's reviewer."""
    application = session.scalar(
        select(Application).where(Application.iin_index == hearing.person_key).limit(1)
    )
    complaint = complaints.file(
        session,
        actor_id=hearing.person_user_id,
        channel="portal",
        hearing_id=hearing.id,
        name=application.full_name,
        iin=application.iin,
        address="Ботақара, Абай к-сі 5",
        contact="+7 701 111 22 33",
        act_challenged=f"Акт № {hearing.act_number}",
        grounds="Кезекшілікке ауруыма байланысты келмедім",
        request="Актіні жоюды сұраймын",
        now=at(FILE_DAY),
    )
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(FILE_DAY + dt.timedelta(days=1)),
    )
    return complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="returned",
        reasons="Анықтама ескерілмеген",
        to_fix="Анықтаманы тексеріп, қайта шешу",
        actor_id=user(session, "reviewer@demo.kz").id,
        now=at(FILE_DAY + dt.timedelta(days=2)),
    )


def person_of(session, hearing: Hearing) -> str:
    return session.get(accounts.User, hearing.person_user_id).email


def outsider(session, role: str) -> str:
    """An official holding ``role`` in another region: outside the case's jurisdiction."""
    email = f"{role}.akmola@demo.kz"
    if user(session, email) is None:
        official(
            session,
            email,
            role,
            places.by_kato(session, "110000000").id,
            password="outsider password 1",
            full_name="Ақмола Қызметкері",
        )
    return email


def test_the_person_and_the_staff_read_the_notice_others_get_404(app, client, session):
    hearing, _scope = notified_suspension(session)
    other = citizen(session).email
    stranger = outsider(session, "registrar")
    session.commit()
    url = f"/appeals/hearings/{hearing.id}/notice"
    for who in (person_of(session, hearing), "registrar@demo.kz"):
        login_as(client, who)
        page = client.get(url)
        assert page.status_code == 200, who
        assert 'lang="kk"' in page.text and 'lang="ru"' in page.text
        assert suspend_ground(session).text_kk in page.text
        assert suspend_ground(session).text_ru in page.text
        assert "2026 жылғы 4 қараша" in page.text and "4 ноября 2026 года" in page.text
        assert f"/my/cases/hearings/{hearing.id}" in page.text  # where to object online
        assert "notice.pdf?lang=ru" in page.text
    for who in (other, stranger):
        login_as(client, who)
        assert client.get(url).status_code == 404, who
        assert client.get(f"{url}.pdf?lang=kk").status_code == 404, who
    # Not adopted yet: there is no act to print.
    login_as(client, "registrar@demo.kz")
    assert client.get(f"/appeals/hearings/{hearing.id}/act").status_code == 404
    assert client.get("/appeals/hearings/999999/notice").status_code == 404


def test_a_draft_is_the_officials_until_the_person_is_notified(app, client, session):
    person = citizen(session)
    member = make_member(session, 5390, applicant=person)
    registrar = user(session, "registrar@demo.kz")
    draft = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[suspend_ground(session).code],
        grounds_text="",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(NOTICE_DAY, 9),
    )
    session.commit()
    login_as(client, person.email)
    assert client.get(f"/appeals/hearings/{draft.id}/notice").status_code == 404
    login_as(client, "registrar@demo.kz")
    assert client.get(f"/appeals/hearings/{draft.id}/notice").status_code == 200


def test_the_act_print_and_pdf_in_both_languages(app, client, session):
    hearing = adopted(session)
    session.commit()
    login_as(client, person_of(session, hearing))
    page = client.get(f"/appeals/hearings/{hearing.id}/act")
    assert page.status_code == 200
    assert hearing.act_number in page.text
    assert REVIEW_KK in page.text and REVIEW_RU in page.text  # the appeal notice, both languages
    assert "2026 жылғы 6 қараша" in page.text and "6 ноября 2026 года" in page.text
    for code in ("kk", "ru"):
        response = client.get(f"/appeals/hearings/{hearing.id}/act.pdf?lang={code}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=act-{hearing.id}-{code}.pdf"
        )
        shown = pdf_text(response.data)
        assert response.data.startswith(b"%PDF-")
        assert hearing.act_number in shown
        assert suspend_ground(session).text(code).split()[0] in shown
    assert client.get(f"/appeals/hearings/{hearing.id}/act.pdf?lang=de").status_code == 404
    assert hearing.act_on == ACT_DAY


def test_the_decision_reads_for_the_complainant_the_reviewer_and_the_body(app, client, session):
    hearing = adopted(session)
    complaint = decided_complaint(session, hearing)
    other = citizen(session).email
    stranger = outsider(session, "reviewer")
    session.commit()
    url = f"/appeals/complaints/{complaint.id}/decision"
    for who in (person_of(session, hearing), "reviewer@demo.kz", "registrar@demo.kz"):
        login_as(client, who)
        page = client.get(url)
        assert page.status_code == 200, who
        assert complaint.number in page.text
        assert "Анықтаманы тексеріп, қайта шешу" in page.text  # what to fix
        assert "Анықтама ескерілмеген" in page.text  # the reasons
        response = client.get(f"{url}.pdf?lang=ru")
        assert response.status_code == 200 and response.data.startswith(b"%PDF-")
        assert complaint.number in pdf_text(response.data)
    for who in (other, stranger):
        login_as(client, who)
        assert client.get(url).status_code == 404, who
        assert client.get(f"{url}.pdf?lang=kk").status_code == 404, who


def test_an_undecided_complaint_has_no_decision_page(app, client, session):
    hearing = adopted(session)
    application = session.scalar(
        select(Application).where(Application.iin_index == hearing.person_key).limit(1)
    )
    complaint = complaints.file(
        session,
        actor_id=hearing.person_user_id,
        channel="portal",
        hearing_id=hearing.id,
        name=application.full_name,
        iin=application.iin,
        address="Ботақара",
        contact=None,
        act_challenged="Акт",
        grounds="Келіспеймін",
        request="Жоюды сұраймын",
        now=at(FILE_DAY),
    )
    session.commit()
    login_as(client, person_of(session, hearing))
    assert client.get(f"/appeals/complaints/{complaint.id}/decision").status_code == 404


@pytest.mark.parametrize("path", ["notice", "act", "notice.pdf", "act.pdf"])
def test_signed_out_visitors_are_sent_to_sign_in(app, client, path):
    response = client.get(f"/appeals/hearings/1/{path}")
    assert response.status_code in (302, 401)


def test_the_secretarys_minutes_list_the_complaints_since_the_previous_sitting(app, session):
    from portal.commission.session_views import minutes_texts

    first, second, _nomination = complaint_between_sittings(session)
    session.commit()
    with app.test_request_context():
        from portal.extensions import db

        kk, ru = minutes_texts(db.session.get(type(second), second.id))
        earlier = minutes_texts(db.session.get(type(first), first.id))
        db.session.rollback()
    assert "Ш-2026-00077" in kk and "Ш-2026-00077" in ru
    # Listed by number and nomination; the complainant is not named in the minutes.
    assert "Айбек Сапаров" not in kk and "Айбек Сапаров" not in ru
    assert "Ш-2026-00077" not in earlier[0]
