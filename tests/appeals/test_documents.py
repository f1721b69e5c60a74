"""The notice, the act and the complaint decision in Kazakh and Russian; the next minutes' list."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from appeals import documents, hearings, settings
from appeals.models import OUTCOMES, Complaint, Hearing, LegalGround
from core import accounts, clock, places
from core.documents import to_text
from core.official_dates import official_date
from core.scope import Scope
from demo import minutes as demo_minutes
from demo.minutes import language
from incentives import minutes, sessions
from tests.factories import commission as cf
from tests.factories.volunteers import iin_for, make_member
from tests.pdf_reading import pdf_text

DISTRICT, VILLAGE, OTHER_REGION = "354000000", "354030100", "110000000"
NOTICE_DAY = dt.date(2026, 11, 2)  # a Monday
ACT_DAY = dt.date(2026, 11, 6)  # a Friday, after the 3 working days of Art. 73
FONTS = Path(__file__).resolve().parents[2] / "static" / "fonts"
REVIEW_KK, REVIEW_RU = "Қарағанды облысының әкімдігі", "Акимат Карагандинской области"
_serials = itertools.count(5300)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=clock.zone()).astimezone(dt.UTC)


def user(session, email: str) -> accounts.User:
    return accounts.find_by_login(session, email)


def unit_id(session, kato: str) -> int:
    return places.by_kato(session, kato).id


def text_of(blocks) -> str:
    return to_text(blocks)


def citizen(session) -> accounts.User:
    n = next(_serials)
    return accounts.create_user(
        session,
        email=f"doc.citizen{n}@example.kz",
        phone=None,
        full_name=f"Дәурен Құжатов {n}",
        unit_id=unit_id(session, VILLAGE),
        preferred_language="kk",
        password="citizen password 1",
        actor_id=None,
    )


def suspend_ground(session) -> LegalGround:
    return session.scalars(
        select(LegalGround).where(LegalGround.act_kind == "suspend").order_by(LegalGround.position)
    ).first()


def notified_suspension(session) -> tuple[Hearing, Scope]:
    """A member's suspension drafted and notified on NOTICE_DAY by the registrar."""
    person = citizen(session)
    member = make_member(session, next(_serials), applicant=person)
    registrar = user(session, "registrar@demo.kz")
    scope = Scope.of(registrar, "registrar")
    hearing = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[suspend_ground(session).code],
        grounds_text="Кезекшілікке үш рет келмеді",
        actor_id=registrar.id,
        scope=scope,
        now=at(NOTICE_DAY, 9),
    )
    hearings.notify(
        session, hearing_id=hearing.id, actor_id=registrar.id, scope=scope, now=at(NOTICE_DAY)
    )
    return hearing, scope


def adopted(session, **kw) -> Hearing:
    hearing, scope = notified_suspension(session)
    return hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Қарсылық берілмеді; негіздер расталды",
        actor_id=user(session, "registrar@demo.kz").id,
        scope=scope,
        now=at(ACT_DAY),
        **kw,
    )


@pytest.mark.parametrize("code", ["kk", "ru"])
def test_the_notice_states_grounds_deadlines_and_how_to_object(app, session, code):
    hearing, _scope = notified_suspension(session)
    lang = language(code)
    text = text_of(documents.notice_blocks(session, hearing, lang, case_link="https://p/my/7"))
    ground = suspend_ground(session)
    other = "ru" if code == "kk" else "kk"
    assert ground.text(code) in text and ground.text(other) not in text
    assert "Кезекшілікке үш рет келмеді" in text  # the free text, as typed
    assert hearing.person_name in text
    assert hearing.objection_due_on == dt.date(2026, 11, 4)
    assert hearing.earliest_act_on == dt.date(2026, 11, 5)
    due = official_date(hearing.objection_due_on, code, "nominative")
    assert lang("You may object in writing or orally until %(date)s inclusive.", date=due) in text
    earliest = official_date(hearing.earliest_act_on, code, "nominative")
    assert lang("The act will not be adopted before %(date)s.", date=earliest) in text
    assert official_date(NOTICE_DAY, code, "nominative") in text
    assert lang("on the portal: %(link)s", link="https://p/my/7") in text
    # Each document is wholly in its language: the other's date words do not appear.
    assert official_date(hearing.objection_due_on, other, "nominative") not in text


@pytest.mark.parametrize("code", ["kk", "ru"])
def test_the_act_gives_reasons_the_hearing_and_the_appeal_notice(app, session, code):
    hearing = adopted(session)
    lang = language(code)
    text = text_of(documents.act_blocks(session, hearing, lang, case_link="https://p/my/7"))
    number = hearing.act_number
    assert number and text.count(number) == 1
    assert "№ №" not in text and "No. №" not in text
    assert official_date(ACT_DAY, code, "nominative") in text
    assert "Қарсылық берілмеді; негіздер расталды" in text  # act_reasons
    assert suspend_ground(session).text(code) in text
    assert lang("No objections were received.") in text
    sent = official_date(NOTICE_DAY, code, "nominative")
    assert lang("The preliminary decision was sent to the person on %(date)s.", date=sent) in text
    # The appeal notice: the configured review body (the demo region's), 3 months, how to file.
    review, other = (REVIEW_KK, REVIEW_RU) if code == "kk" else (REVIEW_RU, REVIEW_KK)
    assert review in text and other not in text
    assert (
        lang(
            "This act may be appealed to %(reviewer)s within three months of the day you learned "
            "of it (Art. 92(1) of the APPK).",
            reviewer=review,
        )
        in text
    )
    body = settings.review_body(session, hearing.unit_id)
    assert (body.how_kk if code == "kk" else body.how_ru) in text
    # No Art. 96 exception: a complaint suspends the act's execution.
    assert (
        lang(
            "Filing a complaint suspends the execution of this act until it is decided "
            "(Art. 96 of the APPK)."
        )
        in text
    )


def test_the_act_states_the_execution_exception_and_a_skipped_hearing(app, session):
    hearing, scope = notified_suspension(session)
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Қоғамдық тәртіпке тікелей қауіп",
        actor_id=user(session, "registrar@demo.kz").id,
        scope=scope,
        exception_kind="urgency",
        exception_reason="Патрульде қару алып жүрген",
        execution_exception="Қоғамдық қауіпсіздік",
        now=at(NOTICE_DAY, 15),  # before the hearing's term ended: only with the exception
    )
    for code in ("kk", "ru"):
        lang = language(code)
        text = text_of(documents.act_blocks(session, hearing, lang))
        why = lang(documents.EXCEPTION_MSGIDS["urgency"])
        reason = "Патрульде қару алып жүрген"
        assert (
            lang("No hearing was held: %(why)s. Reason: %(reason)s", why=why, reason=reason) in text
        )
        assert "Қоғамдық қауіпсіздік" in text
        assert lang("on the portal: %(link)s", link="") not in text  # no link given, none shown


def test_the_act_records_the_objections_and_the_oral_hearing(app, session):
    hearing, scope = notified_suspension(session)
    person = hearing.person_user_id
    hearings.object(
        session,
        hearing_id=hearing.id,
        body="Мен ауырдым, анықтама бар",
        channel="portal",
        actor_id=person,
        now=at(NOTICE_DAY, 12),
    )
    hearings.request_oral(session, hearing_id=hearing.id, actor_id=person, now=at(NOTICE_DAY, 13))
    registrar = user(session, "registrar@demo.kz")
    hearings.record_protocol(
        session,
        hearing_id=hearing.id,
        held_at=at(dt.date(2026, 11, 3), 11),
        mode="video",
        attendees="Сапар Айбек; тіркеуші",
        body="Қатысушы анықтаманы көрсетті",
        actor_id=registrar.id,
        scope=scope,
        now=at(dt.date(2026, 11, 3), 15),
    )
    hearings.add_remarks(
        session, hearing_id=hearing.id, body="Ескерту", actor_id=person, now=at(ACT_DAY, 9)
    )
    later = dt.date(2026, 11, 10)
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Анықтама кезекшіліктің бір күнін ғана ақтайды",
        actor_id=registrar.id,
        scope=scope,
        now=at(later),
    )
    for code in ("kk", "ru"):
        lang = language(code)
        text = text_of(documents.act_blocks(session, hearing, lang))
        held = lang(
            "An oral hearing was held on %(date)s %(mode)s; the protocol was signed on %(signed)s.",
            date=official_date(dt.date(2026, 11, 3), code, "nominative"),
            mode=lang("by videoconference"),
            signed=official_date(hearing.protocol.signed_on, code, "nominative"),
        )
        assert held in text
        assert lang("The person made remarks on the protocol.") in text
        considered = lang(
            "Objections received: %(count)s (after the term: %(late)s). They were considered "
            "in the reasons above.",
            count=1,
            late=0,
        )
        assert considered in text and lang("No objections were received.") not in text
        assert "Анықтама кезекшіліктің бір күнін ғана ақтайды" in text
        assert official_date(later, code, "nominative") in text
        # The objection's own words are the case file's, not the act's.
        assert "Мен ауырдым, анықтама бар" not in text


def test_an_act_without_a_review_body_states_the_six_month_term(app, session):
    other = unit_id(session, OTHER_REGION)
    assert settings.review_body(session, other) is None
    for code in ("kk", "ru"):
        lang = language(code)
        text = text_of(documents.appeal_notice(session, other, "Әкімдік", lang))
        assert (
            lang(
                "This act may be appealed within six months of the day you learned of it "
                "(Art. 92(1-1) of the APPK): the body that reviews complaints is not named."
            )
            in text
        )
        assert REVIEW_KK not in text and REVIEW_RU not in text


@pytest.mark.parametrize("outcome", [*OUTCOMES, "granted"])
def test_the_decision_states_each_outcome_reasons_and_the_court_term(app, session, outcome):
    hearing = adopted(session)
    complaint = Complaint(
        number="Ш-2026-00042",
        kind="act",
        hearing_id=hearing.id,
        subject_type="member",
        subject_id=hearing.subject_id,
        act_kind="suspend",
        unit_id=hearing.unit_id,
        person_key=hearing.person_key,
        complainant_name=hearing.person_name,
        complainant_iin=iin_for(5299),
        complainant_address="Ботақара",
        act_challenged=f"Акт {hearing.act_number}",
        grounds="Ауырдым",
        request="Актіні жоюды сұраймын",
        channel="portal",
        registered_on=dt.date(2026, 11, 9),
        status="granted" if outcome == "granted" else "decided",
        outcome=None if outcome == "granted" else outcome,
        outcome_reasons="Анықтама ұсынылды",
        to_fix="Анықтаманы тексеру" if outcome == "returned" else None,
        decided_by_id=user(session, "admin@demo.kz").id,
        decided_at=at(dt.date(2026, 11, 20)),
    )
    for code in ("kk", "ru"):
        lang = language(code)
        text = text_of(documents.decision_blocks(session, complaint, lang))
        assert lang(documents.OUTCOME_MSGIDS[outcome]) in text
        assert "Анықтама ұсынылды" in text and "Ш-2026-00042" in text
        assert text.count("Ш-2026-00042") == 1
        assert official_date(dt.date(2026, 11, 20), code, "nominative") in text
        assert official_date(dt.date(2026, 11, 9), code, "nominative") in text
        assert ("Анықтаманы тексеру" in text) == (outcome == "returned")
        court = lang(
            "You may bring a claim to court within one month of receiving this decision "
            "(Art. 136(1) of the APPK)."
        )
        assert court in text
        if outcome != "granted":
            assert (REVIEW_KK if code == "kk" else REVIEW_RU) in text


def test_the_act_pdf_opens_and_holds_the_text(app, session):
    hearing = adopted(session)
    blocks = documents.act_blocks(session, hearing, language("kk"))
    data = documents.pdf(blocks, fonts=FONTS, title="act", created=hearing.adopted_at)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    shown = pdf_text(data)
    assert hearing.act_number in shown
    assert "Қарсылық берілмеді; негіздер расталды" in shown
    assert suspend_ground(session).text_kk.split()[0] in shown
    assert REVIEW_RU not in shown  # the Kazakh act only


def complaint_between_sittings(session):
    """Two sittings of a commission and, filed between them, a complaint about a decision of
    the first: (first, second, the nomination's id)."""
    s = cf.setup(session)
    first, item = cf.approved_item(session, s)
    complaint = Complaint(
        number="Ш-2026-00077",
        kind="inaction",
        subject_type="nomination",
        subject_id=item.nomination_id,
        unit_id=s.unit_id,
        person_key="k" * 64,
        complainant_name="Айбек Сапаров",
        complainant_iin=iin_for(5298),
        complainant_address="Ботақара",
        act_challenged="Комиссияның шешімі",
        grounds="Келіспеймін",
        request="Қайта қарауды сұраймын",
        channel="paper",
        filed_at=first.closed_at + dt.timedelta(days=3),
        registered_on=dt.date(2026, 10, 19),
        term_ends_on=dt.date(2027, 1, 19),
        forward_due_on=dt.date(2026, 10, 22),
    )
    session.add(complaint)
    session.flush()
    member, ids = cf.nominee(session)
    nomination = cf.nominate(session, s, member, ids)
    second = cf.plan_sitting(session, s, [nomination.id], held_on=dt.date(2026, 11, 16))
    cf.open_sitting(session, s, second, cf.FOUR)
    cf.vote_all(session, s, second, dict.fromkeys(cf.FOUR, "for"))
    sessions.close(
        session,
        session_id=second.id,
        actor_id=s.users["secretary"],
        now=first.closed_at + dt.timedelta(days=30),
    )
    return first, second, item.nomination_id


@pytest.mark.both_databases
def test_the_next_sittings_minutes_list_complaints_about_the_previous_decisions(app, session):
    first, second, nomination_id = complaint_between_sittings(session)
    lines = documents.complaints_for_minutes(session, second)
    assert [c.number for c in lines] == ["Ш-2026-00077"]
    assert documents.complaints_for_minutes(session, first) == []  # none before the first
    for code in ("kk", "ru"):
        lang = language(code)
        text = text_of(minutes.compose(session, second, lang, lines))
        line = lang(
            "Complaint No. %(number)s of %(date)s about the decision on nomination No. "
            "%(nomination)s",
            number="Ш-2026-00077",
            date=official_date(dt.date(2026, 10, 19), code, "locative"),
            nomination=nomination_id,
        )
        assert lang("Complaints about the commission's decisions") in text and line in text
        assert (
            "Айбек Сапаров"
            not in text.split(lang("Complaints about the commission's decisions"))[1]
        )
        # The first sitting's minutes do not list it.
        assert "Ш-2026-00077" not in text_of(minutes.compose(session, first, lang))
    # The demo's frozen minutes are composed the same way.
    kk, ru = demo_minutes.texts(session, second)
    assert "Ш-2026-00077" in kk and "Ш-2026-00077" in ru
    assert "Ш-2026-00077" not in demo_minutes.texts(session, first)[0]


@pytest.mark.both_databases
def test_a_complaint_filed_after_the_sitting_closed_waits_for_the_next_minutes(app, session):
    _first, second, _nomination_id = complaint_between_sittings(session)
    late = session.scalars(select(Complaint).where(Complaint.number == "Ш-2026-00077")).one()
    late.filed_at = second.closed_at + dt.timedelta(hours=1)
    session.flush()
    assert documents.complaints_for_minutes(session, second) == []
