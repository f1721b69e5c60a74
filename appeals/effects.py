"""What an adopted act and an overturned one do to the record, only through its workflow's steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from appeals.models import Complaint, Hearing
from core import audit, calendar, clock
from core.accounts import User
from core.db import utcnow
from core.errors import N_, Conflict, NotFound
from core.transitions import advance
from incentives import awards, sessions
from incentives.models import CommissionSession, Nomination
from incentives.sober_models import Initiative, InitiativeComment
from incentives.workflow import INITIATIVE, NOMINATION
from volunteers import enrolment, persons, register
from volunteers.models import Application, Member, MemberStatusChange
from volunteers.workflow import APPLICATION, MEMBER

# What each act kind concerns, and the state its subject must be in for the act.
SUBJECT_OF = {
    "refuse_registration": "application",
    "suspend": "member",
    "expel": "member",
    "refuse_reward": "nomination",
    "defer_reward": "nomination",
    "decline_initiative": "sober_initiative",
}
ACT_NEEDS = {
    "refuse_registration": ("petitioned",),
    "suspend": ("active",),
    "expel": ("active", "suspended"),
    "refuse_reward": ("rejected",),
    "defer_reward": ("deferred",),
    "decline_initiative": ("submitted", "under_review"),
}
# The register's status an executed suspension or expulsion leads to.
MEMBER_TARGET = {"suspend": "suspended", "expel": "expelled"}


@dataclass(frozen=True)
class Subject:
    """The record an act concerns, its jurisdiction and the person it burdens."""

    record: object
    unit_id: int
    person_key: str | None
    person_user_id: int | None
    person_name: str
    email: str | None


def subject(session: Session, act_kind: str, subject_id: int) -> Subject:
    """Return the record ``act_kind`` concerns and its person, or raise NotFound."""
    kind = SUBJECT_OF[act_kind]
    if kind == "application":
        app = session.get(Application, subject_id)
        if app is None:
            raise NotFound(N_("No such application."))
        return Subject(app, app.unit_id, app.iin_index, app.applicant_id, app.full_name, app.email)
    if kind == "member":
        member = session.get(Member, subject_id)
        if member is None:
            raise NotFound(N_("No such member."))
        email = session.scalar(
            select(Application.email).where(Application.id == member.application_id)
        )
        return Subject(
            member, member.unit_id, member.iin_index, member.user_id, member.full_name, email
        )
    if kind == "nomination":
        nomination = session.get(Nomination, subject_id)
        if nomination is None:
            raise NotFound(N_("No such nomination."))
        return Subject(
            nomination,
            nomination.commission.unit_id,
            awards.nominee_key(session, nomination),
            nomination.recipient_user,
            nomination.recipient or "",
            None,
        )
    initiative = session.get(Initiative, subject_id)
    if initiative is None:
        raise NotFound(N_("No such initiative."))
    author = session.get(User, initiative.submitted_by_id)
    keys = persons.keys_of(session, [initiative.submitted_by_id])[initiative.submitted_by_id]
    return Subject(
        initiative,
        initiative.unit_id,
        min(keys, default=None),
        initiative.submitted_by_id,
        author.full_name if author else "",
        None,
    )


def _event(session, action, object_type, object_id, actor_id, at=None, **payload) -> None:
    audit.record(
        session,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_id=actor_id,
        now=at,
        payload=payload,
    )


def apply_act(session: Session, hearing: Hearing, actor_id: int) -> None:
    """Execute an adopted act on its subject, through the subject workflow's own step."""
    record = subject(session, hearing.act_kind, hearing.subject_id).record
    now = hearing.adopted_at or utcnow()
    if hearing.act_kind == "refuse_registration":
        values = {
            "refused_by": "akimat",
            "live": False,
            "closed_at": now,
            "refusal_reason": hearing.act_reasons,
        }
        advance(session, APPLICATION, record, "refuse_registration", values=values)
        _event(
            session,
            "application.refuse",
            "application",
            record.id,
            actor_id,
            now,
            status=record.status,
            refused_by="akimat",
            hearing_id=hearing.id,
        )
    elif hearing.act_kind in MEMBER_TARGET:
        register.change_status(
            session,
            member_id=record.id,
            to_status=MEMBER_TARGET[hearing.act_kind],
            reason=hearing.act_reasons or "",
            actor_id=actor_id,
        )
    elif hearing.act_kind == "decline_initiative":
        before = record.status
        advance(
            session,
            INITIATIVE,
            record,
            "decline",
            values={"decided_by_id": actor_id, "decided_at": now},
        )
        _initiative_comment(session, record, actor_id, hearing.act_reasons or "", "declined", now)
        _event(
            session,
            "sober.initiative_review",
            "sober_initiative",
            record.id,
            actor_id,
            now,
            **{"from": before, "to": "declined", "hearing_id": hearing.id},
        )
    # refuse_reward / defer_reward: the commission decided; the akimat's act on the sitting
    # gives effect to it, and the nomination is already where that decision put it.


def _initiative_comment(session, initiative, actor_id, body, to_status, now) -> None:
    session.add(
        InitiativeComment(
            initiative_id=initiative.id, author_id=actor_id, body=body, to_status=to_status, at=now
        )
    )
    session.flush()
    session.expire(initiative, ["comments"])


OTHER_APPLICATION_LIVE = N_(
    "The person has another application under way: the old one cannot be restored."
)


def _relive(session: Session, application: Application) -> None:
    """Make an application live again, unless the person has another live one (409)."""
    try:
        with session.begin_nested():
            session.execute(
                Application.__table__.update()
                .where(Application.id == application.id)
                .values(live=True)
            )
    except IntegrityError:
        raise Conflict(OTHER_APPLICATION_LIVE) from None
    session.expire(application, ["live"])


def _complaint_act_kind(session: Session, complaint: Complaint) -> str | None:
    if complaint.act_kind:
        return complaint.act_kind
    hearing = session.get(Hearing, complaint.hearing_id) if complaint.hearing_id else None
    return hearing.act_kind if hearing else None


# Why an overturn could not be carried out on the record (audited as "complaint.overturn_blocked").
BLOCKED_OTHER_APPLICATION = "other_live_application"
BLOCKED_STEP_REFUSED = "step_refused"


def overturn(
    session: Session, complaint: Complaint, actor_id: int, *, now: dt.datetime | None = None
) -> bool:
    """Undo an overturned act: its subject goes back to the issuing body to decide again.

    Only through the subject workflow's steps (reopen, stay, put on the next agenda). An
    inaction complaint has nothing to undo: the body must now decide the pending record.
    When the record cannot be moved back (the person has another application under way), the
    decision stands; the record stays as it is and "complaint.overturn_blocked" is audited with
    the reason code, for the issuing body to act on. Return whether the record was moved back.
    """
    if complaint.kind == "inaction":
        return False
    now = now or complaint.decided_at or utcnow()
    try:
        with session.begin_nested():
            _overturn(session, complaint, actor_id, now)
    except Conflict as exc:
        reason = (
            BLOCKED_OTHER_APPLICATION
            if exc.message == OTHER_APPLICATION_LIVE
            else BLOCKED_STEP_REFUSED
        )
        _event(
            session,
            "complaint.overturn_blocked",
            "complaint",
            complaint.id,
            actor_id,
            now,
            reason=reason,
            subject_type=complaint.subject_type,
            subject_id=complaint.subject_id,
        )
        return False
    return True


def _overturn(session: Session, complaint: Complaint, actor_id: int, now: dt.datetime) -> None:
    today = clock.local_date(now)
    kind = _complaint_act_kind(session, complaint)
    if complaint.subject_type == "application":
        app = session.get(Application, complaint.subject_id)
        if app is None or app.status != "refused":
            return
        if app.refused_by == "akimat":
            values = {
                "refused_by": None,
                "refusal_reason": None,
                "closed_at": None,
                "registration_due_on": calendar.add_working_days(
                    session, today, enrolment.REGISTRATION_WORKING_DAYS
                ),
            }
            advance(session, APPLICATION, app, "reopen", values=values)
            action = "application.petition"
        else:
            values = {
                "refused_by": None,
                "refusal_reason": None,
                "closed_at": None,
                "check_outcome": None,
                "checked_at": None,
                "police_due_on": today + dt.timedelta(days=enrolment.POLICE_CHECK_DAYS),
            }
            advance(session, APPLICATION, app, "reopen_check", values=values)
            action = "application.take_check"
        _relive(session, app)
        _event(
            session,
            action,
            "application",
            app.id,
            actor_id,
            now,
            status=app.status,
            complaint_id=complaint.id,
        )
    elif complaint.subject_type == "member":
        member = session.get(Member, complaint.subject_id)
        # Only the challenged act is undone: an expulsion stayed back to an earlier suspension
        # leaves that suspension (a separate act) as it is.
        if member is not None and member.status == MEMBER_TARGET.get(kind or ""):
            _stay_member(session, member, complaint, actor_id, now)
    elif complaint.subject_type == "nomination":
        _reopen_nomination(session, complaint, actor_id, now)
    elif complaint.subject_type == "sober_initiative":
        initiative = session.get(Initiative, complaint.subject_id)
        if initiative is not None and initiative.status == "declined" and kind:
            advance(
                session,
                INITIATIVE,
                initiative,
                "reopen",
                values={"decided_by_id": None, "decided_at": None},
            )
            _initiative_comment(session, initiative, actor_id, "", "under_review", now)
            _event(
                session,
                "sober.initiative_review",
                "sober_initiative",
                initiative.id,
                actor_id,
                now,
                **{"from": "declined", "to": "under_review", "complaint_id": complaint.id},
            )


def status_before_act(session: Session, member: Member) -> str:
    """Return the status the member had before the act that put them where they are: an
    expulsion of a suspended member goes back to "suspended", anything else to "active"."""
    before = session.scalar(
        select(MemberStatusChange.from_status)
        .where(
            MemberStatusChange.member_id == member.id,
            MemberStatusChange.to_status == member.status,
        )
        .order_by(MemberStatusChange.id.desc())
        .limit(1)
    )
    return "suspended" if member.status == "expelled" and before == "suspended" else "active"


def _stay_member(session, member: Member, complaint: Complaint, actor_id, now) -> None:
    """Put a suspended or expelled member back where they were before the act (a stay or an
    overturned act): active, or suspended when a suspended member was expelled."""
    previous = member.status
    restored = status_before_act(session, member)
    step = "unexpel" if restored == "suspended" else "stay"
    advance(session, MEMBER, member, step, values={"status_reason": None})
    session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=previous,
            to_status=restored,
            reason="",
            actor_id=actor_id,
            at=now,
        )
    )
    application = session.get(Application, member.application_id)
    if application is not None and not application.live:
        _relive(session, application)
    _event(
        session,
        "member.suspended" if restored == "suspended" else "member.active",
        "member",
        member.id,
        actor_id,
        now,
        **{"from": previous, "to": restored, "complaint_id": complaint.id},
    )


def _reopen_nomination(session, complaint: Complaint, actor_id, now: dt.datetime) -> None:
    """An overturned refusal or deferral: the nomination goes to the commission's next sitting."""
    nomination = session.get(Nomination, complaint.subject_id)
    if nomination is None:
        return
    today = clock.local_date(now)
    if nomination.status == "rejected":
        advance(session, NOMINATION, nomination, "reopen")
        _event(
            session,
            "nomination.submit",
            "nomination",
            nomination.id,
            actor_id,
            now,
            complaint_id=complaint.id,
        )
    if not NOMINATION.can(nomination, "put_on_agenda"):
        return
    sitting = session.scalar(
        select(CommissionSession)
        .where(
            CommissionSession.commission_id == nomination.commission_id,
            CommissionSession.status == "planned",
            CommissionSession.held_on >= today,
        )
        .order_by(CommissionSession.held_on, CommissionSession.id)
        .limit(1)
    )
    # With no sitting planned, the nomination waits among those the next agenda is made of.
    if sitting is not None:
        sessions.add_to_agenda(
            session, session_id=sitting.id, nomination_ids=[nomination.id], actor_id=actor_id
        )


def _mark_stayed(session: Session, complaint: Complaint, stayed: bool, actor_id: int, at) -> None:
    """Flip the complaint's stay flag once (guarded) and audit it; a lost race is a 409."""
    done = session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.execution_stayed.is_(not stayed))
        .values(execution_stayed=stayed)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(N_("The execution of this act was already changed by this complaint."))
    set_committed_value(complaint, "execution_stayed", stayed)
    action = "complaint.stay_execution" if stayed else "complaint.resume_execution"
    _event(
        session, action, "complaint", complaint.id, actor_id, at, hearing_id=complaint.hearing_id
    )


def route_spent(session: Session, complaint: Complaint) -> bool:
    """Tell whether another complaint against the same act was already granted or decided: the
    pre-trial route is then spent (Art. 91(5)) and a repeat filing stays nothing."""
    if complaint.hearing_id is None:
        return False
    return (
        session.scalar(
            select(Complaint.id)
            .where(
                Complaint.hearing_id == complaint.hearing_id,
                Complaint.id != complaint.id,
                Complaint.status.in_(("granted", "decided")),
            )
            .limit(1)
        )
        is not None
    )


def stay_execution(
    session: Session, complaint: Complaint, actor_id: int, *, now: dt.datetime | None = None
) -> bool:
    """Suspend the execution of a suspension or expulsion complained against (Art. 96).

    Return whether anything was stayed: an act with a recorded execution exception, an act
    that is not a member's, or one not (or no longer) executed keeps as it is.
    """
    hearing = session.get(Hearing, complaint.hearing_id) if complaint.hearing_id else None
    if hearing is None or hearing.act_kind not in MEMBER_TARGET or hearing.execution_exception:
        return False
    if route_spent(session, complaint):
        return False
    member = session.get(Member, hearing.subject_id)
    if member is None or member.status != MEMBER_TARGET[hearing.act_kind]:
        return False
    now = now or complaint.filed_at or utcnow()
    _mark_stayed(session, complaint, True, actor_id, now)
    _stay_member(session, member, complaint, actor_id, now)
    return True


def resume_execution(
    session: Session, complaint: Complaint, actor_id: int, *, now: dt.datetime | None = None
) -> bool:
    """Execute again an act whose execution this complaint stayed (the complaint failed)."""
    if not complaint.execution_stayed:
        return False
    hearing = session.get(Hearing, complaint.hearing_id) if complaint.hearing_id else None
    _mark_stayed(session, complaint, False, actor_id, now or complaint.decided_at or utcnow())
    member = session.get(Member, hearing.subject_id) if hearing else None
    if hearing is None or member is None:
        return False
    target = MEMBER_TARGET[hearing.act_kind]
    # The stay put the member back where they were before the act (active, or suspended).
    if (
        member.status == target
        or member.status not in MEMBER.step("suspend" if target == "suspended" else "expel").sources
    ):
        return False
    register.change_status(
        session,
        member_id=member.id,
        to_status=MEMBER_TARGET[hearing.act_kind],
        reason=hearing.act_reasons or "",
        actor_id=actor_id,
    )
    return True
