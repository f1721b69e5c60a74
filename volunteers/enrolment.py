"""Applying, vetting and registering: the application workflow and its legal deadlines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import accounts, audit, calendar, clock, notifications, places
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied, refuse_all
from core.iin import age_on, parse_iin
from core.transitions import advance, already_moved
from volunteers import register
from volunteers.models import KINDS, Application, Consent, ConsentText, PatrolUnit
from volunteers.workflow import APPLICATION

POLICE_CHECK_DAYS = 30  # calendar days from submission (domain.md §2.2)
REGISTRATION_WORKING_DAYS = 7  # working days from the petition
MIN_AGE = 18
APPLY_LEVELS = ("settlement", "rural_okrug", "district", "city")


class InvalidTransition(Conflict):
    """The application is not in a state that allows this step."""


def current_consent(session: Session, today: dt.date) -> ConsentText:
    """Return the consent text in force on ``today``."""
    text = session.scalar(
        select(ConsentText)
        .where(ConsentText.effective_from <= today)
        .order_by(ConsentText.effective_from.desc())
        .limit(1)
    )
    if text is None:
        raise DomainError(N_("No consent text is in force; the administrator must add one."))
    return text


def get_application(session: Session, application_id: int) -> Application:
    """Return the application or raise NotFound."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(N_("No such application."))
    return app


def _require(app: Application, *states: str) -> None:
    if app.status not in states:
        raise InvalidTransition(
            N_("The application is “%(status)s”; this step is not possible now."),
            status=app.status,
        )


def _not_done_yet(session: Session, app: Application, step: str) -> None:
    """Refuse a step already taken (a double click, a second tab) with the 409 naming who."""
    transition = APPLICATION.steps[step]
    if app.status == transition.target and app.status not in transition.sources:
        raise already_moved(session, APPLICATION, app.id, app.status)


def _event(session, app, action, actor_id, **extra) -> None:
    audit.record(
        session,
        action=action,
        object_type="application",
        object_id=app.id,
        actor_id=actor_id,
        # No IIN, not even masked: the audit chain never holds personal data (issue 17).
        payload={"status": app.status, **extra},
    )


def _notify(session: Session, app: Application) -> None:
    user = session.get(accounts.User, app.applicant_id) if app.applicant_id else None
    if user is None and not app.email:
        return
    notifications.queue_message(
        session,
        user_id=user.id if user else None,
        email=(user.email if user else None) or app.email,
        kind="application.status",
        params={"application_id": app.id, "status": app.status, "reason": app.refusal_reason or ""},
        language=user.preferred_language if user else "kk",
    )


DECLARATIONS = ("is_citizen", "no_criminal_record", "not_on_register")


def application_problems(
    session: Session, values: dict, today: dt.date | None = None
) -> list[DomainError]:
    """Return every rule the application's ``values`` break, each tied to its input.

    Only the inputs present in ``values`` are checked: a form passes the ones it accepted, so
    that the applicant learns of every problem in one round, not one per submission (issue 19).
    ``consent_version`` is checked under the name ``consent``, the box the applicant ticks.
    """
    today = today or clock.today()
    problems: list[DomainError] = []

    def check(name: str, rule) -> None:
        if name in values:
            try:
                rule(values[name])
            except DomainError as exc:
                problems.append(exc if exc.field else exc.at(name))

    def kind(value):
        if value not in KINDS:
            raise DomainError(
                N_("Choose whether you apply as a public assistant or a patrol member.")
            )

    def iin(value):
        if age_on(parse_iin(value), today) < MIN_AGE:
            raise DomainError(N_("Applicants must be at least %(n)s years old."), n=MIN_AGE)

    def declared(value):
        if not value:
            raise DomainError(N_("Confirm this declaration: it is required to apply."))

    def consent(value):
        if value != current_consent(session, today).version:
            raise DomainError(N_("Consent to the processing of personal data is required."))

    def unit(value):
        found = session.get(places.AdminUnit, value) if value is not None else None
        if found is None or found.level not in APPLY_LEVELS:
            raise DomainError(N_("Choose the settlement or district from the list."))

    def patrol(value):
        if value is None:
            return
        home = values.get("unit_id")
        found = session.get(PatrolUnit, value)
        if found is None or (
            home is not None
            and not places.within(session, found.unit_id, [home])
            and not places.within(session, home, [found.unit_id])
        ):
            raise DomainError(N_("Choose a patrol unit of the chosen settlement or district."))

    def text(message):
        def rule(value):
            if not " ".join((value or "").split()):
                raise DomainError(message)

        return rule

    check("kind", kind)
    check("unit_id", unit)
    if not any(p.field == "unit_id" for p in problems):
        check("patrol_unit_id", patrol)
    check("iin", iin)
    check("full_name", text(N_("Enter the full name.")))
    check("phone", accounts.normalize_phone)
    check("email", accounts.normalize_email)
    check("address", text(N_("Enter the address.")))
    for name in DECLARATIONS:
        check(name, declared)
    if "consent_version" in values:
        try:
            consent(values["consent_version"])
        except DomainError as exc:
            problems.append(exc.at("consent"))
    return problems


def submit_application(
    session: Session,
    *,
    kind: str,
    unit_id: int,
    patrol_unit_id: int | None,
    iin: str,
    full_name: str,
    phone: str | None,
    email: str | None,
    address: str,
    is_citizen: bool,
    no_criminal_record: bool,
    not_on_register: bool,
    consent_version: str | None,
    applicant_id: int | None,
    actor_id: int | None,
    channel: str = "web",
    today: dt.date | None = None,
) -> Application:
    """Record an application with its consent; a coordinator may enter a walk-in one.

    Every broken rule is reported at once (``Invalid``), each tied to its input.
    """
    today = today or clock.today()
    values = {
        "kind": kind,
        "unit_id": unit_id,
        "patrol_unit_id": patrol_unit_id,
        "iin": iin,
        "full_name": full_name,
        "phone": phone,
        "email": email,
        "address": address,
        "is_citizen": is_citizen,
        "no_criminal_record": no_criminal_record,
        "not_on_register": not_on_register,
        "consent_version": consent_version,
    }
    refuse_all(application_problems(session, values, today))
    parsed = parse_iin(iin)
    consent = current_consent(session, today)
    app = Application(
        kind=kind,
        status="submitted",
        live=True,
        unit_id=unit_id,
        patrol_unit_id=patrol_unit_id,
        applicant_id=applicant_id,
        entered_by_id=actor_id if channel == "walk_in" else None,
        channel=channel,
        iin=parsed.value,
        full_name=" ".join(full_name.split()),
        birth_date=parsed.birth_date,
        phone=accounts.normalize_phone(phone),
        email=accounts.normalize_email(email),
        address=" ".join(address.split()),
        is_citizen=True,
        no_criminal_record=True,
        not_on_register=True,
        submitted_at=utcnow(),
        police_due_on=today + dt.timedelta(days=POLICE_CHECK_DAYS),
    )
    _insert_live(session, app)
    session.add(Consent(application_id=app.id, version=consent.version, channel=channel))
    session.flush()
    _event(session, app, "application.submit", actor_id, kind=kind, channel=channel)
    _notify(session, app)
    return app


def _insert_live(session: Session, app: Application) -> None:
    """Insert a live application; the database's unique index decides duplicates."""
    duplicate = N_("An application or membership of this kind already exists for this IIN.")
    if session.scalar(
        select(Application.id).where(
            Application.iin_index == app.iin_index,
            Application.kind == app.kind,
            Application.live,
        )
    ):
        raise Conflict(duplicate)
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
    except IntegrityError:
        # Lost a race with a concurrent submission of the same IIN and kind.
        raise Conflict(duplicate) from None


def take_check(session: Session, *, application_id: int, actor_id: int) -> Application:
    """A coordinator takes the police check of a submitted application."""
    app = get_application(session, application_id)
    _not_done_yet(session, app, "take_check")
    _require(app, "submitted")
    advance(session, APPLICATION, app, "take_check", values={"check_by_id": actor_id})
    _event(session, app, "application.take_check", actor_id)
    _notify(session, app)
    return app


def record_check(
    session: Session, *, application_id: int, passed: bool, reason: str | None, actor_id: int
) -> Application:
    """Record the outcome: passed, or refused with a written reason (never medical details)."""
    app = get_application(session, application_id)
    _require(app, "police_check")
    recorded = InvalidTransition(N_("The outcome of the check is already recorded."))
    if app.check_outcome is not None:
        raise recorded
    reason = (reason or "").strip()
    if not passed and not reason:
        raise DomainError(N_("A refusal needs a written reason."))
    now = utcnow()
    # Guarded by "no outcome yet": of two coordinators recording at once, one wins.
    once = [Application.check_outcome.is_(None)]
    values = {"checked_at": now, "check_by_id": actor_id}
    if passed:
        values["check_outcome"] = "passed"
        advance(
            session, APPLICATION, app, "record_pass", values=values, where=once, refused=recorded
        )
        _event(session, app, "application.check_passed", actor_id)
        return app
    values.update(
        check_outcome="refused",
        refused_by="police",
        refusal_reason=reason,
        live=False,
        closed_at=now,
    )
    advance(session, APPLICATION, app, "refuse", values=values, where=once, refused=recorded)
    _event(session, app, "application.refuse", actor_id)
    _notify(session, app)
    return app


def petition(
    session: Session, *, application_id: int, actor_id: int, today: dt.date | None = None
) -> Application:
    """Petition the akimat to register an applicant who passed the check."""
    today = today or clock.today()
    app = get_application(session, application_id)
    _not_done_yet(session, app, "petition")
    _require(app, "police_check")
    not_passed = InvalidTransition(N_("Record a passed check before petitioning the akimat."))
    if app.check_outcome != "passed":
        raise not_passed
    advance(
        session,
        APPLICATION,
        app,
        "petition",
        values={
            "petitioned_at": utcnow(),
            "registration_due_on": calendar.add_working_days(
                session, today, REGISTRATION_WORKING_DAYS
            ),
        },
        where=[Application.check_outcome == "passed"],
        refused=not_passed,
    )
    _event(session, app, "application.petition", actor_id, due=app.registration_due_on.isoformat())
    _notify(session, app)
    return app


def register_applicant(
    session: Session,
    *,
    application_id: int,
    actor_id: int,
    coordinator_id: int | None = None,
    today: dt.date | None = None,
):
    """Register a petitioned applicant in the akimat's register and issue the certificate."""
    today = today or clock.today()
    app = get_application(session, application_id)
    _not_done_yet(session, app, "register")
    _require(app, "petitioned")
    # The step first: of twenty registrars' clicks one registers, and only it takes a
    # certificate number; the others get a 409 before anything is written.
    advance(session, APPLICATION, app, "register", values={"registered_at": utcnow()})
    member = register.create_member(
        session,
        application=app,
        coordinator_id=coordinator_id or app.check_by_id,
        actor_id=actor_id,
        today=today,
    )
    _event(
        session,
        app,
        "application.register",
        actor_id,
        member_id=member.id,
        certificate=member.certificate_no,
    )
    _notify(session, app)
    return member


def withdraw_application(
    session: Session, *, application_id: int, actor_id: int, channel: str = "web"
) -> Application:
    """The applicant withdraws before registration."""
    app = get_application(session, application_id)
    if app.applicant_id != actor_id:
        raise PermissionDenied(N_("Only the applicant can withdraw the application."))
    _not_done_yet(session, app, "withdraw")
    _require(app, "submitted", "police_check", "petitioned")
    advance(session, APPLICATION, app, "withdraw", values={"live": False, "closed_at": utcnow()})
    _event(session, app, "application.withdraw", actor_id, channel=channel)
    return app


def withdraw_consent(
    session: Session, *, application_id: int, actor_id: int, channel: str = "web"
) -> Application:
    """Record withdrawal of consent; processing stops: the application or membership ends."""
    app = get_application(session, application_id)
    if app.applicant_id != actor_id:
        raise PermissionDenied(N_("Only the applicant can withdraw the consent."))
    live = [c for c in app.consents if c.withdrawn_at is None]
    if not live:
        raise Conflict(N_("The consent is already withdrawn."))
    if APPLICATION.can(app, "withdraw"):
        advance(
            session, APPLICATION, app, "withdraw", values={"live": False, "closed_at": utcnow()}
        )
    for consent in live:
        consent.withdrawn_at = utcnow()
        consent.withdrawal_channel = channel
    member = register.member_of_application(session, app.id)
    if member is not None and member.status in ("active", "suspended"):
        register.change_status(
            session,
            member_id=member.id,
            to_status="withdrawn",
            reason="consent withdrawn",
            actor_id=actor_id,
        )
    app.live = False
    app.closed_at = app.closed_at or utcnow()
    _event(session, app, "consent.withdraw", actor_id, channel=channel)
    return app
