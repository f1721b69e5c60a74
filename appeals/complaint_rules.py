"""The rules of a complaint: what it concerns, its term, its content, who acts and who reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appeals import settings, terms
from appeals.hearings import ACT_ROLES
from appeals.models import OUTCOMES, Complaint, Hearing
from appeals.workflow import COMPLAINT
from core import accounts, clock
from core.account_models import RoleGrant
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied, refuse_all
from core.scope import Scope
from core.transitions import already_moved
from volunteers import persons
from volunteers.models import Application

TERM_MONTHS = terms.COMPLAINT_MONTHS
TERM_MONTHS_NO_NOTICE = terms.COMPLAINT_MONTHS_NO_NOTICE
LIVE = ("registered", "forwarded")
POLICE_ROLES = ("coordinator",)
MAX_TEXT = 10_000
MAX_FILES = 10
MAX_FILE_BYTES = 5 * 1024 * 1024
# A scan or photo of the signed paper, or evidence: PDF, JPEG or PNG, told by the first bytes.
FILE_SIGNATURES = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
LATE_FIRST = N_(
    "The complaint was filed after its term: restore the term for a good reason first, or "
    "leave the complaint unconsidered (Art. 95)."
)


@dataclass(frozen=True)
class Upload:
    """A file sent with a complaint, before it is stored."""

    filename: str
    content_type: str
    content: bytes
    label: str = ""


@dataclass(frozen=True)
class Subject:
    """What a complaint concerns and whose case it is."""

    kind: str
    subject_type: str
    subject_id: int
    act_kind: str | None
    unit_id: int
    person_key: str | None
    person_user_id: int | None
    term_from: dt.date
    term_months: int
    hearing: Hearing | None = None


@dataclass(frozen=True)
class InactionCandidate:
    """An application of the person whose legal deadline passed without a decision."""

    application_id: int
    kind: str  # "inaction" (the akimat did not register) or "police" (no check outcome)
    due_on: dt.date
    status: str
    unit_id: int


def clean_text(
    value: str | None,
    field: str,
    missing: str | None,
    errors: list[DomainError],
    limit: int = MAX_TEXT,
) -> str:
    """Return ``value`` stripped; add to ``errors`` when it is missing or longer than ``limit``."""
    cleaned = (value or "").strip()
    if not cleaned and missing is not None:
        errors.append(DomainError(missing).at(field))
    elif len(cleaned) > limit:
        errors.append(DomainError(N_("A text is longer than %(n)s characters."), n=limit).at(field))
    return cleaned


def local_day(moment: dt.datetime) -> dt.date:
    """Return the local date of an aware moment (terms count in local days)."""
    return clock.local_date(moment)


def _act_gave_notice(session: Session, hearing: Hearing) -> bool:
    """Tell whether the act named the body that reviews complaints (Arts. 79-80).

    What the act said when adopted counts (``hearing.appeal_notice_given``, recorded then), not
    today's settings; a hearing adopted before that record existed falls back to the review
    body configured for its jurisdiction. Without the notice the longer term of Art. 92(1-1)
    applies.
    """
    if hearing.appeal_notice_given is not None:
        return hearing.appeal_notice_given
    return settings.review_body(session, hearing.unit_id) is not None


def filed_late(complaint: Complaint) -> bool:
    """Tell whether the complaint was filed after its term ended (and the term not restored).

    Restoring the term (appeals.complaints.restore_term) moves ``term_ends_on`` to the filing
    day, so a restored complaint is no longer late.
    """
    return local_day(complaint.filed_at) > complaint.term_ends_on


def subject_of(
    session: Session,
    *,
    kind: str,
    hearing_id: int | None,
    subject_type: str | None,
    subject_id: int | None,
    today: dt.date,
) -> Subject:
    """Return what the complaint concerns, whose case it is and from when its term runs.

    An act: the adopted act of a hearing. Inaction: a petitioned application past its
    registration deadline (Art. 91(2)). Police: a police refusal, or a missed police deadline.
    """
    if kind == "act":
        hearing = session.get(Hearing, hearing_id) if hearing_id else None
        if hearing is None:
            raise NotFound(N_("No such act."))
        if hearing.status != "adopted":
            raise Conflict(N_("Only an adopted act can be challenged by a complaint."))
        # The term runs from when the person learnt of the act (Art. 92(1)): its electronic
        # notice on adoption, or the recorded receipt of a paper act once that is recorded.
        learnt = max(hearing.act_on or local_day(hearing.adopted_at), local_day(hearing.adopted_at))
        received = getattr(hearing, "act_received_on", None)
        learnt = max(learnt, received) if received else learnt
        return Subject(
            kind=kind,
            subject_type=hearing.subject_type,
            subject_id=hearing.subject_id,
            act_kind=hearing.act_kind,
            unit_id=hearing.unit_id,
            person_key=hearing.person_key,
            person_user_id=hearing.person_user_id,
            term_from=learnt,
            term_months=TERM_MONTHS
            if _act_gave_notice(session, hearing)
            else TERM_MONTHS_NO_NOTICE,
            hearing=hearing,
        )
    if kind not in ("inaction", "police"):
        raise DomainError(N_("Choose what the complaint is about."))
    if subject_type != "application" or subject_id is None:
        raise DomainError(N_("Choose the application the complaint is about."))
    app = session.get(Application, subject_id)
    if app is None:
        raise NotFound(N_("No such application."))
    if kind == "police":
        refused = app.status == "refused" and app.check_outcome == "refused"
        if refused and app.refused_by in (None, "police"):
            # The police's act is not written by the portal and need not name a higher
            # body: the person gets the longer term rather than lose it to that omission.
            start, months = (
                local_day(app.checked_at or app.closed_at or utcnow()),
                TERM_MONTHS_NO_NOTICE,
            )
        elif app.status in ("submitted", "police_check") and police_overdue(session, app, today):
            start, months = app.police_due_on, TERM_MONTHS
        else:
            raise Conflict(
                N_("There is no police refusal and no missed police deadline to complain about.")
            )
    else:
        if not (
            app.status == "petitioned"
            and app.registration_due_on is not None
            and app.registration_due_on < today
        ):
            raise Conflict(
                N_("The deadline for the decision has not passed: there is no inaction yet.")
            )
        start, months = app.registration_due_on, TERM_MONTHS
    return Subject(
        kind=kind,
        subject_type="application",
        subject_id=app.id,
        act_kind=None,
        unit_id=app.unit_id,
        person_key=app.iin_index,
        person_user_id=app.applicant_id,
        term_from=start,
        term_months=months,
    )


def police_overdue(session: Session, app: Application, today: dt.date) -> bool:
    """Tell whether the police's deadline passed: a term ending on a day off runs to the next
    working day (Art. 64(3))."""
    if app.police_due_on is None:
        return False
    return terms.on_or_after(session, app.police_due_on) < today


def issuing_roles(kind: str, act_kind: str | None) -> tuple[str, ...]:
    """Return the roles that act for the body whose act or inaction is complained of."""
    if kind == "police":
        return POLICE_ROLES
    return ACT_ROLES[act_kind or "refuse_registration"]


def is_own_case(session: Session, subject: Subject, user_id: int) -> bool:
    """Tell whether the account ``user_id`` is the person the subject concerns."""
    if subject.person_user_id is not None and subject.person_user_id == user_id:
        return True
    return subject.person_key is not None and subject.person_key in persons.keys_of(
        session, [user_id]
    ).get(user_id, set())


def check_files(files: Sequence[Upload], errors: list[DomainError]) -> None:
    """Add to ``errors`` what is wrong with the files: too many, empty, too big, wrong type."""
    if len(files) > MAX_FILES:
        errors.append(DomainError(N_("Attach at most %(n)s files."), n=MAX_FILES).at("attachments"))
    for upload in files:
        if not upload.content or len(upload.content) > MAX_FILE_BYTES:
            errors.append(
                DomainError(
                    N_("Each file must be between 1 byte and %(mb)s MB."),
                    mb=MAX_FILE_BYTES // (1024 * 1024),
                ).at("attachments")
            )
        elif not upload.content.startswith(FILE_SIGNATURES):
            errors.append(DomainError(N_("Attach PDF, JPEG or PNG files only.")).at("attachments"))


def authors(session: Session, complaint: Complaint) -> set[int]:
    """Return the accounts of the officials whose act the complaint challenges (Art. 97(2)).

    For inaction there is no act: the officials who should have decided (the holders of the
    registration roles over the complaint's unit) are its authors.
    """
    if complaint.kind == "inaction":
        return inaction_authors(session, complaint.unit_id)
    hearing = session.get(Hearing, complaint.hearing_id) if complaint.hearing_id else None
    if hearing is None:
        return set()
    return {u for u in (hearing.drafted_by_id, hearing.adopted_by_id) if u is not None}


def inaction_authors(session: Session, unit_id: int) -> set[int]:
    """Return the accounts holding a role that registers volunteers over ``unit_id``."""
    chain = settings.ancestors(session, unit_id)
    return set(
        session.scalars(
            select(RoleGrant.user_id).where(
                RoleGrant.role.in_(ACT_ROLES["refuse_registration"]),
                RoleGrant.revoked_at.is_(None),
                RoleGrant.unit_id.in_(chain),
            )
        )
    )


def is_reviewer(session: Session, complaint: Complaint, user: accounts.User) -> bool:
    """Tell whether ``user`` is the body the complaint was forwarded to (named, or by role)."""
    if not user.is_active:
        return False
    if complaint.reviewer_id is not None and complaint.reviewer_id == user.id:
        return True
    return complaint.review_unit_id is not None and accounts.holds(
        session, user, "reviewer", complaint.review_unit_id
    )


def is_complainant(session: Session, complaint: Complaint, user_id: int) -> bool:
    """Tell whether the account ``user_id`` is the complainant (by account or person key)."""
    if complaint.person_user_id == user_id:
        return True
    return complaint.person_key in persons.keys_of(session, [user_id]).get(user_id, set())


def can_review(session: Session, complaint: Complaint, user: accounts.User) -> bool:
    """Tell whether ``user`` may decide the complaint: its review body, never the act's author."""
    return (
        complaint.status == "forwarded"
        and is_reviewer(session, complaint, user)
        and user.id not in authors(session, complaint)
        and not is_complainant(session, complaint, user.id)
    )


def inaction_candidates(
    session: Session, *, person_user_id: int, today: dt.date
) -> list[InactionCandidate]:
    """Return the person's applications whose legal deadline passed without a decision.

    Silence past the term counts as a refusal (Art. 76, 91(2)): a missed police deadline goes
    the police way, a missed registration deadline to the akimat. Those already complained of
    (and not decided) are left out.
    """
    keys = persons.keys_of(session, [person_user_id]).get(person_user_id, set())
    mine = [Application.applicant_id == person_user_id]
    if keys:
        mine.append(Application.iin_index.in_(keys))
    found = []
    for app in session.scalars(
        select(Application)
        .where(
            or_(*mine),
            or_(
                Application.status.in_(("submitted", "police_check"))
                & (Application.police_due_on < today),
                (Application.status == "petitioned") & (Application.registration_due_on < today),
            ),
        )
        .order_by(Application.id)
    ):
        kind = "inaction" if app.status == "petitioned" else "police"
        if kind == "police" and not police_overdue(session, app, today):
            continue  # the police's term ended on a day off and runs on (Art. 64(3))
        due = app.registration_due_on if kind == "inaction" else app.police_due_on
        found.append(InactionCandidate(app.id, kind, due, app.status, app.unit_id))
    if not found:
        return []
    live = set(
        session.execute(
            select(Complaint.kind, Complaint.subject_id).where(
                Complaint.subject_type == "application",
                Complaint.subject_id.in_([c.application_id for c in found]),
                Complaint.status.in_(LIVE),
            )
        ).all()
    )
    return [c for c in found if (c.kind, c.application_id) not in live]


def reasons_given(reasons: str | None, field: str = "reasons") -> str:
    """Return the reasons of a decision, required and of bounded length."""
    cleaned = (reasons or "").strip()
    if not cleaned:
        raise DomainError(N_("Write the reasons for the decision.")).at(field)
    if len(cleaned) > MAX_TEXT:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=MAX_TEXT).at(field)
    return cleaned


def outcome_given(outcome: str, reasons: str | None, to_fix: str | None) -> tuple[str, str | None]:
    """Check an outcome of Art. 100(1) and its texts; return (reasons, what to fix)."""
    if outcome not in OUTCOMES:
        raise DomainError(N_("Choose the outcome of the review.")).at("outcome")
    errors: list[DomainError] = []
    try:
        reasons = reasons_given(reasons)
    except DomainError as exc:
        errors.append(exc)
    to_fix = (to_fix or "").strip() or None
    if outcome == "returned" and to_fix is None:
        errors.append(
            DomainError(N_("Write what the issuing body must fix when the case returns.")).at(
                "to_fix"
            )
        )
    refuse_all(errors)
    return reasons, to_fix


def require_staff(
    session: Session, actor_id: int, unit_id: int, roles: tuple[str, ...], scope: Scope | None
) -> accounts.User:
    """Return the official, who must hold one of ``roles`` over the unit, within ``scope``."""
    if scope is None or not scope.contains(session, unit_id):
        raise NotFound(N_("No such complaint."))
    actor = accounts.get_user(session, actor_id)
    if not actor.is_active or not any(accounts.holds(session, actor, r, unit_id) for r in roles):
        raise PermissionDenied(N_("This step belongs to the body whose act is challenged."))
    return actor


def not_done_yet(session: Session, complaint: Complaint, step: str) -> None:
    """Refuse a step already taken (a second tab) with the 409 naming who took it."""
    transition = COMPLAINT.steps[step]
    if complaint.status not in transition.sources:
        raise already_moved(session, COMPLAINT, complaint.id, complaint.status)
