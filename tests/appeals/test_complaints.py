"""Complaints: required content, own cases only, terms, registration days, grant and forward."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from appeals import complaints, hearings
from appeals.complaint_rules import filed_late
from appeals.models import Complaint, ComplaintAttachment
from core import calendar
from core.audit import AuditEvent
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.notifications import Notification
from core.scope import Scope
from core.transitions import AlreadyMoved
from tests.appeals.complaint_factory import (
    FILE_DAY,
    NOTICE_DAY,
    OTHER_REGION,
    PDF,
    REGION,
    adopt_act,
    at,
    citizen,
    configure_review,
    field_errors,
    file_against,
    form,
    forwarded,
    ground,
    member_of,
    no_review_body,
    suspension,
    unit_id,
    user,
)
from tests.conftest import audit_count
from tests.factories.accounts import official
from tests.factories.volunteers import iin_for
from volunteers.models import Member

# Both databases: guarded steps, counters, CHECK constraints and dates per dialect.
pytestmark = pytest.mark.both_databases


# ---- filing -----------------------------------------------------------------------------------


def test_filing_registers_numbers_stays_execution_and_tells_the_person(app, session):
    configure_review(session)
    hearing, member, person = suspension(session)
    assert member.status == "suspended"
    complaint = file_against(session, hearing, person)
    session.commit()
    assert complaint.status == "registered"
    assert complaint.number == f"Ш-{FILE_DAY.year}-00001"
    assert complaint.registered_on == FILE_DAY
    assert complaint.forward_due_on == dt.date(2026, 11, 12)  # 3 working days
    assert complaint.term_ends_on == dt.date(2027, 2, 8)  # 6 Feb 2027 is a Saturday
    assert complaint.subject_type == "member" and complaint.subject_id == member.id
    assert complaint.act_kind == "suspend" and complaint.person_user_id == person.id
    # Art. 96: filing suspends the execution of the suspension.
    session.expire_all()
    assert session.get(Member, member.id).status == "active"
    assert session.get(Complaint, complaint.id).execution_stayed
    assert audit_count(session, "complaint.file", "complaint", complaint.id) == 1
    payload = session.scalar(
        select(AuditEvent.payload).where(
            AuditEvent.action == "complaint.file", AuditEvent.object_id == str(complaint.id)
        )
    )
    assert complaint.complainant_iin not in payload and "Абай" not in payload
    note = session.scalar(
        select(Notification).where(
            Notification.kind == "complaint_registered", Notification.user_id == person.id
        )
    )
    assert json.loads(note.params)["number"] == complaint.number
    second = file_against(
        session, *suspension(session)[::2], now=at(FILE_DAY, 11)
    )  # another person's
    assert second.number == f"Ш-{FILE_DAY.year}-00002"


def test_an_act_with_a_reasoned_exception_is_executed_despite_the_complaint(app, session):
    configure_review(session)
    person = citizen(session)
    member = member_of(session, person)
    hearing = adopt_act(
        session, "expel", member.id, execution_exception="Қоғамдық қауіпсіздік үшін шұғыл"
    )
    complaint = file_against(session, hearing, person)
    session.commit()
    session.expire_all()
    assert session.get(Member, member.id).status == "expelled"
    assert not session.get(Complaint, complaint.id).execution_stayed


def test_every_missing_part_of_the_content_is_named_at_once(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    with pytest.raises(DomainError) as caught:
        file_against(
            session,
            hearing,
            person,
            name=" ",
            iin="123",
            address="",
            act_challenged="",
            grounds=" ",
            request="",
        )
    assert field_errors(caught.value) == {
        "name",
        "iin",
        "address",
        "act_challenged",
        "grounds",
        "request",
    }
    assert caught.value.status == 422
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Complaint)) == 0


def test_a_person_complains_only_about_their_own_case(app, session):
    configure_review(session)
    hearing, _member, _person = suspension(session)
    stranger = citizen(session)
    with pytest.raises(PermissionDenied):
        file_against(session, hearing, stranger)
    # The typed IIN must be that of the person the act concerns.
    hearing2, _member2, person2 = suspension(session)
    with pytest.raises(DomainError) as caught:
        file_against(session, hearing2, person2, iin=iin_for(9999))
    assert field_errors(caught.value) == {"iin"}


def test_only_an_adopted_act_is_challenged(app, session):
    person = citizen(session)
    member = member_of(session, person)
    registrar = user(session, "registrar@demo.kz")
    draft = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[ground(session, "suspend")],
        grounds_text="",
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(NOTICE_DAY),
    )
    with pytest.raises(Conflict):
        file_against(session, draft, person)
    with pytest.raises(NotFound):
        complaints.file(session, **form(session, None, person, hearing_id=10**6))


def test_staff_enter_a_paper_complaint_in_their_scope_with_the_signed_scan(app, session):
    configure_review(session)
    hearing, member, _person = suspension(session)
    registrar = user(session, "registrar@demo.kz")
    paper = form(
        session,
        hearing,
        registrar,
        channel="paper",
        scope=Scope.of(registrar, "registrar"),
        contact="aibek@example.kz",
    )
    with pytest.raises(DomainError) as caught:
        complaints.file(session, **paper)
    assert field_errors(caught.value) == {"attachments"}
    with pytest.raises(DomainError) as caught:
        complaints.file(
            session,
            **paper,
            attachments=[complaints.Upload("x.exe", "application/pdf", b"MZ\x90\x00")],
        )
    assert field_errors(caught.value) == {"attachments"}
    scan = complaints.Upload("scan.pdf", "application/pdf", PDF, "Қолы қойылған шағым")
    complaint = complaints.file(session, **paper, attachments=[scan])
    session.commit()
    assert complaint.channel == "paper" and complaint.entered_by_id == registrar.id
    attached = session.scalars(
        select(ComplaintAttachment).where(ComplaintAttachment.complaint_id == complaint.id)
    ).all()
    assert [a.label for a in attached] == ["Қолы қойылған шағым"]
    # A coordinator is not the body that suspended; a registrar of another region sees nothing.
    coordinator = user(session, "coordinator@demo.kz")
    hearing2, _m, _p = suspension(session)
    with pytest.raises(PermissionDenied):
        complaints.file(
            session,
            **form(
                session,
                hearing2,
                coordinator,
                channel="paper",
                scope=Scope.of(coordinator, "coordinator"),
            ),
            attachments=[scan],
        )
    far = official(
        session,
        "registrar.akmola@demo.kz",
        "registrar",
        unit_id(session, OTHER_REGION),
        password="registrar password 1",
        full_name="Ақмола Тіркеуші",
    )
    with pytest.raises(NotFound):
        complaints.file(
            session,
            **form(session, hearing2, far, channel="paper", scope=Scope.of(far, "registrar")),
            attachments=[scan],
        )
    assert member.status == "active"


def test_a_second_submission_of_a_live_complaint_is_a_conflict(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    first = file_against(session, hearing, person)
    with pytest.raises(Conflict) as caught:
        file_against(session, hearing, person, now=at(FILE_DAY, 10, 1))
    assert caught.value.params == {"number": first.number}


# ---- the term to complain ---------------------------------------------------------------------


def test_a_late_complaint_is_registered_late_and_stays_nothing(app, session):
    configure_review(session)
    hearing, member, person = suspension(session)
    late = at(dt.date(2027, 2, 9))
    complaint = file_against(
        session, hearing, person, now=late, restored_reason="Ауруханада жаттым, анықтама бар"
    )
    assert complaint.status == "registered"
    assert complaint.term_ends_on == dt.date(2027, 2, 8)
    assert filed_late(complaint)
    assert complaint.late_restored_reason == "Ауруханада жаттым, анықтама бар"
    # Art. 96 does not apply to a complaint out of term until the term is restored.
    assert complaint.execution_stayed is False
    assert session.get(Member, member.id).status == "suspended"


def test_an_act_that_named_no_review_body_gives_six_months(app, session):
    no_review_body(session)
    hearing, _member, person = suspension(session)  # nothing configured: the act named nobody
    complaint = file_against(session, hearing, person, now=at(dt.date(2027, 2, 9)))
    assert complaint.term_ends_on == dt.date(2027, 5, 6)
    assert complaint.late_restored_reason is None


# ---- the day of registration and the deadlines ------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "registered", "forward_due"),
    [
        (at(dt.date(2026, 11, 6), 17, 59), dt.date(2026, 11, 6), dt.date(2026, 11, 11)),
        # After working hours on Friday: the next Monday.
        (at(dt.date(2026, 11, 6), 18, 30), dt.date(2026, 11, 9), dt.date(2026, 11, 12)),
        # On Independence Day (a Wednesday): Thursday; the 3 days skip no holiday after it.
        (at(dt.date(2026, 12, 16), 10), dt.date(2026, 12, 17), dt.date(2026, 12, 22)),
        # On Monday 14 December: the 3 working days jump over the 16th.
        (at(dt.date(2026, 12, 14), 10), dt.date(2026, 12, 14), dt.date(2026, 12, 18)),
    ],
)
def test_the_registration_day_and_the_forwarding_deadline(
    app, session, filed, registered, forward_due
):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person, now=filed)
    assert complaint.registered_on == registered
    assert complaint.forward_due_on == forward_due


def test_a_transferred_working_day_registers_and_counts(app, session):
    calendar.set_day(
        session,
        day=dt.date(2026, 11, 7),
        kind="working",
        name_kk="Жұмыс күні",
        name_ru="Рабочий день",
    )
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person, now=at(dt.date(2026, 11, 7), 11))
    assert complaint.registered_on == dt.date(2026, 11, 7)  # a Saturday made working
    assert complaint.forward_due_on == dt.date(2026, 11, 11)


def test_the_review_deadline_counts_20_working_days_over_a_holiday(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person, now=at(dt.date(2026, 11, 30)))
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(dt.date(2026, 12, 1)),
    )
    assert complaint.forwarded_on == dt.date(2026, 12, 1)
    assert complaint.review_due_on == dt.date(2026, 12, 30)  # 29th without the 16th


# ---- granting in full and forwarding ----------------------------------------------------------


def test_the_issuing_body_grants_in_full_before_forwarding(app, session):
    configure_review(session)
    hearing, member, person = suspension(session)
    complaint = file_against(session, hearing, person)
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    with pytest.raises(DomainError):
        complaints.grant_in_full(
            session, complaint_id=complaint.id, reasons=" ", actor_id=registrar.id, scope=scope
        )
    complaints.grant_in_full(
        session,
        complaint_id=complaint.id,
        reasons="Анықтама расталды",
        actor_id=registrar.id,
        scope=scope,
        now=at(FILE_DAY, 15),
    )
    session.commit()
    assert complaint.status == "granted"
    assert audit_count(session, "complaint.grant", "complaint", complaint.id) == 1
    session.expire_all()
    assert session.get(Member, member.id).status == "active"
    with pytest.raises(AlreadyMoved):
        complaints.forward(session, complaint_id=complaint.id, actor_id=registrar.id, scope=scope)


def test_forwarding_names_the_review_body_and_ends_granting(app, session):
    complaint, _hearing, _member = forwarded(session)
    session.commit()
    assert complaint.status == "forwarded"
    assert complaint.review_unit_id == unit_id(session, REGION)
    assert complaint.forwarded_on == dt.date(2026, 11, 10)
    assert complaint.review_due_on == dt.date(2026, 12, 8)
    assert audit_count(session, "complaint.forward", "complaint", complaint.id) == 1
    registrar = user(session, "registrar@demo.kz")
    with pytest.raises(AlreadyMoved):
        complaints.grant_in_full(
            session,
            complaint_id=complaint.id,
            reasons="Кеш",
            actor_id=registrar.id,
            scope=Scope.of(registrar, "registrar"),
        )
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "complaint_forwarded")
        )
        == 1
    )


def test_forwarding_needs_a_configured_review_body(app, session):
    no_review_body(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person)
    registrar = user(session, "registrar@demo.kz")
    with pytest.raises(Conflict):
        complaints.forward(
            session,
            complaint_id=complaint.id,
            actor_id=registrar.id,
            scope=Scope.of(registrar, "registrar"),
        )
    assert complaint.status == "registered"


def test_a_complaint_forwarded_the_evening_it_came_is_never_forwarded_before_its_registration(
    app, session
):
    configure_review(session)
    hearing, _member, person = suspension(session)
    sunday_night = at(dt.date(2026, 11, 8), 22, 30)
    complaint = file_against(session, hearing, person, now=sunday_night)
    assert complaint.registered_on == dt.date(2026, 11, 9)
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(dt.date(2026, 11, 8), 22, 45),
    )
    assert complaint.forwarded_on == dt.date(2026, 11, 9)
    assert complaint.review_due_on == calendar.add_working_days(session, dt.date(2026, 11, 9), 20)
