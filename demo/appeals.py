"""Demo hearings and complaints in every state, written through appeals on the demo's dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from appeals import complaints, hearings, terms
from appeals.models import Hearing, LegalGround
from core import accounts, clock, places
from core.db import utcnow
from core.iin import make_iin
from core.scope import Scope
from volunteers import enrolment
from volunteers.models import PatrolUnit

SETTLEMENT = "354030100"  # Botakoz, in the demo district
APPLICANT = "applicant@demo.kz"
APPLICANT_NAME = "Нұрлан Серіков"
APPLICANT_IIN = make_iin(dt.date(1994, 4, 12), "male", 7777)
# A scan of a signed paper complaint: the first bytes of a PDF are what the portal checks.
SCAN = b"%PDF-1.4\n% demo: scan of a signed paper complaint\n%%EOF\n"
SERIALS = iter(range(7000, 7100))  # IIN serials of the demo's appeal cases (the register's
# own are 1000-1300 and 8000-9001)


@dataclass
class _Demo:
    """The demo's officials, their scopes, the settlement, and the clock of the load."""

    session: object
    now: dt.datetime
    registrar: accounts.User
    coordinator: accounts.User
    reviewer: accounts.User
    applicant: accounts.User
    settlement: places.AdminUnit
    patrol_id: int | None

    def at(self, days_ago: int, hour: int = 11) -> dt.datetime:
        """A working hour about ``days_ago`` calendar days back (the working day on or before it),
        as a UTC moment, never in the future."""
        day = clock.local_date(self.now) - dt.timedelta(days=days_ago)
        while days_ago and not terms.is_working_day(self.session, day):
            day -= dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=clock.zone()).astimezone(dt.UTC)
        return min(moment, self.now - dt.timedelta(minutes=5))

    def day(self, days_ago: int) -> dt.date:
        return clock.local_date(self.at(days_ago))

    def scope(self, user: accounts.User, role: str) -> Scope:
        return Scope.of(user, role)


def _ground(session, act_kind: str) -> list[str]:
    code = session.scalar(
        select(LegalGround.code)
        .where(LegalGround.act_kind == act_kind, LegalGround.active)
        .order_by(LegalGround.position, LegalGround.code)
        .limit(1)
    )
    return [code] if code else []


def _application(
    d: _Demo,
    name: str,
    *,
    started: int,
    kind: str = "public_assistant",
    applicant: accounts.User | None = None,
    police_refuses: bool = False,
    iin: str | None = None,
):
    """An application checked by the police and petitioned ``started`` days ago (or refused)."""
    serial = next(SERIALS)
    iin = iin or make_iin(
        dt.date(1985 + serial % 15, serial % 12 + 1, serial % 27 + 1), "male", serial
    )
    consent = enrolment.current_consent(d.session, d.day(started + 5))
    app = enrolment.submit_application(
        d.session,
        kind=kind,
        unit_id=d.settlement.id,
        patrol_unit_id=d.patrol_id if kind == "patrol_member" else None,
        iin=iin,
        full_name=name,
        phone=f"+7702{serial:07d}",
        email=None,
        address=f"{d.settlement.name_kk}, Бейбітшілік к-сі, {serial % 40 + 1}",
        is_citizen=True,
        no_criminal_record=True,
        not_on_register=True,
        consent_version=consent.version,
        applicant_id=applicant.id if applicant else None,
        actor_id=applicant.id if applicant else d.coordinator.id,
        channel="web" if applicant else "walk_in",
        today=d.day(started + 5),
    )
    enrolment.take_check(d.session, application_id=app.id, actor_id=d.coordinator.id)
    if police_refuses:
        enrolment.record_check(
            d.session,
            application_id=app.id,
            passed=False,
            reason="Ішкі істер органдарының тексеру нәтижесі бойынша талаптарға сәйкес келмейді",
            actor_id=d.coordinator.id,
        )
        return app, iin
    enrolment.record_check(
        d.session, application_id=app.id, passed=True, reason=None, actor_id=d.coordinator.id
    )
    enrolment.petition(
        d.session, application_id=app.id, actor_id=d.coordinator.id, today=d.day(started)
    )
    return app, iin


def _member(d: _Demo, name: str, *, started: int):
    """A member whose certificate was issued ``started`` days ago (applied lately, as the
    demo register's members: the consent text is only in force since 2026)."""
    app, iin = _application(d, name, started=40, kind="patrol_member")
    member = enrolment.register_applicant(
        d.session, application_id=app.id, actor_id=d.registrar.id, today=d.day(started)
    )
    return member, iin


def _drafted(d: _Demo, act_kind: str, subject_id: int, days_ago: int, text: str) -> Hearing:
    return hearings.draft(
        d.session,
        act_kind=act_kind,
        subject_id=subject_id,
        grounds=_ground(d.session, act_kind),
        grounds_text=text,
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=d.at(days_ago, 10),
    )


def _notified(d: _Demo, act_kind: str, subject_id: int, days_ago: int, text: str) -> Hearing:
    hearing = _drafted(d, act_kind, subject_id, days_ago, text)
    hearings.notify(
        d.session,
        hearing_id=hearing.id,
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=d.at(days_ago, 12),
    )
    if hearing.earliest_act_on is None:  # a walk-in without e-mail: handed over on paper
        hearings.record_delivery(
            d.session,
            hearing_id=hearing.id,
            received_on=d.day(days_ago),
            how="by_hand",
            actor_id=d.registrar.id,
            scope=d.scope(d.registrar, "registrar"),
            now=d.at(days_ago, 13),
        )
    return hearing


def _adopted(d: _Demo, act_kind: str, subject_id: int, days_ago: int, text: str) -> Hearing:
    """Notified ``days_ago``, adopted on the first day the act may be (3 working days on)."""
    hearing = _notified(d, act_kind, subject_id, days_ago, text)
    adopt_at = dt.datetime.combine(
        hearing.earliest_act_on, dt.time(11), tzinfo=clock.zone()
    ).astimezone(dt.UTC)
    return hearings.adopt(
        d.session,
        hearing_id=hearing.id,
        act_reasons="Адам белгіленген мерзімде қарсылық білдірмеді; негіздер расталды.",
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=adopt_at,
    )


def _complaint(
    d: _Demo,
    name: str,
    iin: str,
    *,
    at: dt.datetime,
    hearing: Hearing | None = None,
    kind: str = "act",
    application_id: int | None = None,
    by_person: bool = False,
):
    """A complaint: filed by the person on the portal, else entered by staff from paper."""
    staff = d.coordinator if kind == "police" else d.registrar
    role = "coordinator" if kind == "police" else "registrar"
    return complaints.file(
        d.session,
        actor_id=d.applicant.id if by_person else staff.id,
        channel="portal" if by_person else "paper",
        hearing_id=hearing.id if hearing else None,
        kind=kind,
        subject_type=None if hearing else "application",
        subject_id=None if hearing else application_id,
        name=name,
        iin=iin,
        address=f"{d.settlement.name_kk}, Бейбітшілік к-сі, 7",
        contact="+77020000000",
        act_challenged="Тіркеуден бас тарту туралы шешім"
        if kind != "act" or hearing.act_kind == "refuse_registration"
        else "Тізілімдегі мәртебені өзгерту туралы акт",
        grounds="Шешім менің түсініктемелерімді ескермей қабылданды; дәлелдер толық емес.",
        request="Шешімнің күшін жоюды және істі қайта қарауды сұраймын.",
        attachments=()
        if by_person
        else (complaints.Upload("complaint.pdf", "application/pdf", SCAN, "Қол қойылған шағым"),),
        now=at,
        scope=None if by_person else d.scope(staff, role),
    )


def _forward(d: _Demo, complaint, at: dt.datetime):
    return complaints.forward(
        d.session,
        complaint_id=complaint.id,
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=at,
    )


def _decide(d: _Demo, complaint, outcome: str, at: dt.datetime, reasons: str, to_fix=None):
    return complaints.decide(
        d.session,
        complaint_id=complaint.id,
        outcome=outcome,
        reasons=reasons,
        actor_id=d.reviewer.id,
        to_fix=to_fix,
        now=at,
    )


def _applicant(session, password: str, unit_id: int) -> accounts.User:
    user = accounts.find_by_login(session, APPLICANT)
    if user is None:
        user = accounts.create_user(
            session,
            email=APPLICANT,
            phone=None,
            full_name=APPLICANT_NAME,
            preferred_language="kk",
            unit_id=unit_id,
            password=password,
            actor_id=None,
        )
    return user


def load_appeals(session, password: str) -> list[str]:
    """Load once (nothing when a hearing exists); return the demo logins added (the person's).

    Hearings drafted, notified (with an objection; with an oral hearing asked for), heard,
    withdrawn and adopted (one by exception); complaints registered (one in time, one late to
    forward, one about inaction), granted in full, under review (one in time, one overdue),
    decided (cancelled, not satisfied, returned) and two about police refusals.
    """
    if session.scalar(select(func.count()).select_from(Hearing)):
        return []
    settlement = places.by_kato(session, SETTLEMENT)
    d = _Demo(
        session=session,
        now=utcnow(),
        registrar=accounts.find_by_login(session, "registrar@demo.kz"),
        coordinator=accounts.find_by_login(session, "coordinator@demo.kz"),
        reviewer=accounts.find_by_login(session, "reviewer@demo.kz"),
        applicant=_applicant(session, password, settlement.id),
        settlement=settlement,
        patrol_id=session.scalar(
            select(PatrolUnit.id).where(PatrolUnit.unit_id == settlement.id).limit(1)
        ),
    )
    _hearings_in_each_state(d)
    _complaints_in_each_stage(d)
    session.flush()
    return [APPLICANT]


def _hearings_in_each_state(d: _Demo) -> None:
    # Drafted eight days ago and never sent: late (a red flag and a red line on the to-do).
    app, _iin = _application(d, "Асхат Бекенов", started=12)
    _drafted(d, "refuse_registration", app.id, 8, "Құжаттар толық ұсынылмаған.")
    # Notified this morning; the person's objection came on paper.
    member, _iin = _member(d, "Дәурен Омаров", started=200)
    notified = _notified(
        d, "suspend", member.id, 0, "Кезекшілік кестесін үш рет ескертусіз бұзған."
    )
    hearings.object(
        d.session,
        hearing_id=notified.id,
        body="Кезекшілікке ауырып келе алмадым, анықтама қоса беріледі.",
        channel="paper",
        actor_id=d.registrar.id,
        now=d.now - dt.timedelta(minutes=1),
    )
    # The demo applicant's own case: notified yesterday, an oral hearing asked for.
    own, _iin = _application(
        d,
        APPLICANT_NAME,
        started=9,
        kind="patrol_member",
        applicant=d.applicant,
        iin=APPLICANT_IIN,
    )
    asked = _notified(d, "refuse_registration", own.id, 1, "Денсаулық туралы анықтама жоқ.")
    hearings.request_oral(d.session, hearing_id=asked.id, actor_id=d.applicant.id, now=d.at(1, 15))
    # Heard orally four days ago by video, the protocol signed that day.
    member, _iin = _member(d, "Ержан Исаев", started=300)
    heard = _notified(d, "expel", member.id, 6, "Куәлікті жеке мақсатта пайдаланған.")
    hearings.record_protocol(
        d.session,
        hearing_id=heard.id,
        held_at=d.at(4, 15),
        mode="video",
        attendees="Динара Оспанова (тіркеуші), Ержан Исаев",
        body="Адам түсініктеме берді; куәлікті пайдалану жағдайы талқыланды.",
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=d.at(4, 17),
    )
    # Withdrawn: the breach was not confirmed.
    member, _iin = _member(d, "Арман Ким", started=250)
    withdrawn = _notified(d, "suspend", member.id, 20, "Түнгі патрульге келмеген.")
    hearings.withdraw(
        d.session,
        hearing_id=withdrawn.id,
        reason="Патрульге келмеу себебі дәлелді деп танылды.",
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=d.at(17),
    )
    # Adopted without a hearing: the person asked to skip it (Art. 73(2)).
    app, _iin = _application(d, "Тимур Қасымов", started=18)
    waived = _drafted(d, "refuse_registration", app.id, 15, "Өтініш беруші тізілімде бар.")
    hearings.adopt(
        d.session,
        hearing_id=waived.id,
        act_reasons="Адам тыңдаудан жазбаша бас тартты; ол басқа ауданның тізілімінде тұр.",
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        exception_kind="person_waived",
        exception_reason="Адамның 2026 жылғы өтініші, тыңдаудан бас тарту туралы.",
        now=d.at(15, 16),
    )


def _complaints_in_each_stage(d: _Demo) -> None:
    reasons = "Шағымда келтірілген дәлелдер тексерілді."
    # Registered today, in time.
    app, iin = _application(d, "Бекзат Нұрмағамбетов", started=16)
    act = _adopted(d, "refuse_registration", app.id, 12, "Мекенжайы расталмаған.")
    _complaint(d, "Бекзат Нұрмағамбетов", iin, hearing=act, at=d.at(0, 9))
    # Registered three weeks ago and never forwarded: late (red flag).
    member, iin = _member(d, "Қайрат Әбдірахманов", started=400)
    act = _adopted(d, "suspend", member.id, 30, "Кезекшілік кезінде тәртіп бұзған.")
    _complaint(d, "Қайрат Әбдірахманов", iin, hearing=act, at=d.at(21))
    # Inaction: petitioned a month ago, not registered within the 7 working days.
    app, iin = _application(d, "Санжар Сейітов", started=30)
    _complaint(d, "Санжар Сейітов", iin, kind="inaction", application_id=app.id, at=d.at(2))
    # Granted in full by the issuing body within its 3 working days.
    app, iin = _application(d, "Айдос Жақсылықов", started=29)
    act = _adopted(d, "refuse_registration", app.id, 25, "Қылмыстық жауапкершілік туралы мәлімет.")
    granted = _complaint(d, "Айдос Жақсылықов", iin, hearing=act, at=d.at(16))
    complaints.grant_in_full(
        d.session,
        complaint_id=granted.id,
        reasons="Мәлімет басқа адамға қатысты болып шықты; бас тарту қате.",
        actor_id=d.registrar.id,
        scope=d.scope(d.registrar, "registrar"),
        now=d.at(15),
    )
    # The demo applicant's second application: refused, complained of on the portal, under
    # review at the regional akimat (in time).
    own, iin = _application(d, APPLICANT_NAME, started=24, applicant=d.applicant, iin=APPLICANT_IIN)
    act = _adopted(d, "refuse_registration", own.id, 20, "Ұсынылған анықтама жарамсыз.")
    reviewed = _complaint(d, APPLICANT_NAME, iin, hearing=act, at=d.at(10), by_person=True)
    _forward(d, reviewed, d.at(9))
    # Forwarded two months ago and not decided in 20 working days: overdue (red flag).
    member, iin = _member(d, "Мұрат Тоқтаров", started=500)
    act = _adopted(d, "expel", member.id, 70, "Қайталап тәртіп бұзған.")
    late = _complaint(d, "Мұрат Тоқтаров", iin, hearing=act, at=d.at(60))
    _forward(d, late, d.at(58))
    # Decided: cancelled (the application goes back to the registrar), not satisfied,
    # returned to fix.
    app, iin = _application(d, "Ислам Петров", started=64)
    act = _adopted(d, "refuse_registration", app.id, 60, "Құжаттар толық емес.")
    cancelled = _complaint(d, "Ислам Петров", iin, hearing=act, at=d.at(50))
    _forward(d, cancelled, d.at(49))
    _decide(d, cancelled, "cancel", d.at(40), reasons + " Бас тартуға негіз жоқ.")
    member, iin = _member(d, "Нұрлан Оспанов", started=450)
    act = _adopted(d, "suspend", member.id, 55, "Патрульдің үш кезекшілігін өткізіп алған.")
    unsatisfied = _complaint(d, "Нұрлан Оспанов", iin, hearing=act, at=d.at(45))
    _forward(d, unsatisfied, d.at(44))
    _decide(d, unsatisfied, "unsatisfied", d.at(35), reasons + " Бұзушылықтар расталды.")
    member, iin = _member(d, "Алексей Ким", started=350)
    act = _adopted(d, "expel", member.id, 52, "Күш қолдану шегінен асқан.")
    returned = _complaint(d, "Алексей Ким", iin, hearing=act, at=d.at(42))
    _forward(d, returned, d.at(41))
    _decide(
        d,
        returned,
        "returned",
        d.at(30),
        reasons + " Іс материалдары толық емес.",
        to_fix="Куәгерлердің түсініктемелерін алып, тыңдауды қайта өткізу.",
    )
    # Police refusals: one complaint registered, one decided by the police hierarchy.
    app, iin = _application(d, "Ерлан Бекенов", started=10, police_refuses=True)
    _complaint(d, "Ерлан Бекенов", iin, kind="police", application_id=app.id, at=utcnow())
    app, iin = _application(d, "Дмитрий Серіков", started=10, police_refuses=True)
    police = _complaint(
        d, "Дмитрий Серіков", iin, kind="police", application_id=app.id, at=utcnow()
    )
    complaints.record_police_outcome(
        d.session,
        complaint_id=police.id,
        outcome="unsatisfied",
        reasons="Облыстық полиция департаментінің жауабы: тексеру нәтижесі өзгеріссіз.",
        actor_id=d.coordinator.id,
        scope=d.scope(d.coordinator, "coordinator"),
    )
