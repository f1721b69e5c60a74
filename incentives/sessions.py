"""Commission sessions: agenda, attendance and quorum, votes and recusals, closing, minutes, act."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from budget import ledger
from budget.models import BudgetLine, BudgetProgram
from core import audit, notifications
from core.accounts import User
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.money import format_tiyn
from core.transitions import AlreadyMoved, advance, already_moved
from incentives import caps
from incentives import policy as policies
from incentives.models import (
    CHOICES,
    MONEY_FORMS,
    SESSION_STATUSES,
    AgendaItem,
    Attendance,
    Commission,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
    Nomination,
    NominationContribution,
    Vote,
)
from incentives.workflow import NOMINATION, SESSION
from volunteers import persons


def get_session(session: Session, session_id: int) -> CommissionSession:
    """Return the commission session or raise NotFound."""
    found = session.get(CommissionSession, session_id)
    if found is None:
        raise NotFound(N_("No such session."))
    return found


def _require(sitting: CommissionSession, *statuses: str) -> None:
    if sitting.status not in statuses:
        raise Conflict(
            N_("The session is “%(status)s”: this cannot be done now."), status=sitting.status
        )


_ORDER = {status: n for n, status in enumerate(SESSION_STATUSES)}
# What must happen before a step, said to whoever tries it too early.
WHAT_COMES_FIRST = {
    "edit_agenda": N_("The session is “%(status)s”: this cannot be done now."),
    "open": N_("The session is “%(status)s”: this cannot be done now."),
    "record_vote": N_("The session is not open: votes are cast while it sits."),
    "close": N_("Open the session with its attendance before closing it."),
    "finalize": N_("Close the session before finalising its minutes."),
    "record_act": N_("Finalise the minutes before recording the akimat's act."),
    "attach_scan": N_("Finalise the minutes before attaching their signed scan."),
}


def refusal(session: Session, sitting: CommissionSession, step: str) -> DomainError | None:
    """Return why ``step`` cannot be taken on the session now, or None when it can.

    Too early: what comes first (409). Too late: who moved the session past it (409).
    """
    sources = SESSION.step(step).sources
    if sitting.status in sources:
        if step == "record_act" and sitting.act_number is not None:
            return already_moved(session, SESSION, sitting.id, sitting.status)
        if step == "attach_scan" and sitting.scan_file_id is not None:
            return already_moved(session, SESSION, sitting.id, sitting.status)
        return None
    if _ORDER[sitting.status] < min(_ORDER[s] for s in sources):
        return Conflict(WHAT_COMES_FIRST[step], status=sitting.status)
    return already_moved(session, SESSION, sitting.id, sitting.status)


def _take(session: Session, sitting: CommissionSession, step: str, **kwargs) -> None:
    """Take ``step`` on the session: refuse early with the reason, else one guarded UPDATE."""
    refused = refusal(session, sitting, step)
    if refused is not None:
        raise refused
    try:
        advance(session, SESSION, sitting, step, **kwargs)
    except AlreadyMoved:
        raise
    except Conflict:
        # A guard of ``where`` failed although the state allowed the step: someone recorded
        # the same thing first.
        raise already_moved(session, SESSION, sitting.id, sitting.status) from None


def plan(
    session: Session,
    *,
    commission_id: int,
    held_on: dt.date,
    place: str,
    on_paper: bool,
    actor_id: int,
) -> CommissionSession:
    """Plan a session of the commission."""
    policies.get_commission(session, commission_id)
    place = " ".join((place or "").split())
    if not place:
        raise DomainError(N_("Where does the commission meet?"))
    sitting = CommissionSession(
        commission_id=commission_id,
        held_on=held_on,
        place=place,
        on_paper=on_paper,
        status="planned",
        planned_by_id=actor_id,
    )
    session.add(sitting)
    session.flush()
    audit.record(
        session,
        action="session.plan",
        object_type="commission_session",
        object_id=sitting.id,
        actor_id=actor_id,
        payload={"held_on": held_on.isoformat(), "place": place, "on_paper": on_paper},
    )
    return sitting


def add_to_agenda(
    session: Session, *, session_id: int, nomination_ids: list[int], actor_id: int
) -> int:
    """Put submitted nominations of the commission on a planned session's agenda."""
    sitting = get_session(session, session_id)
    _take(session, sitting, "edit_agenda")
    position = session.scalar(
        select(func.coalesce(func.max(AgendaItem.position), 0)).where(
            AgendaItem.session_id == session_id
        )
    )
    added = 0
    for nomination_id in nomination_ids:
        nomination = session.get(Nomination, nomination_id)
        if (
            nomination is None
            or nomination.commission_id != sitting.commission_id
            or not NOMINATION.can(nomination, "put_on_agenda")
        ):
            raise Conflict(
                N_("Nomination No. %(id)s is not waiting for this commission."), id=nomination_id
            )
        advance(session, NOMINATION, nomination, "put_on_agenda")
        position += 1
        session.add(
            AgendaItem(session_id=session_id, nomination_id=nomination_id, position=position)
        )
        added += 1
    session.flush()
    audit.record(
        session,
        action="session.agenda",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"added": sorted(nomination_ids)},
    )
    return added


def quorum_needed(total: int, numerator: int, denominator: int) -> int:
    """Return how many members must be present: the policy's fraction, rounded up."""
    return -(-total * numerator // denominator)


def votes(commission: Commission, member: CommissionMember) -> bool:
    """Tell whether ``member`` votes under the commission's rules (the secretary may not)."""
    return member.role != "secretary" or commission.secretary_votes


def presiding(commission: Commission, present: list[CommissionMember]) -> CommissionMember | None:
    """Return who presides over the sitting: the chair, else the stand-in the rules name."""
    chair = next((m for m in present if m.role == "chair"), None)
    if chair is not None or commission.chair_stand_in != "deputy_chair":
        return chair
    return next((m for m in present if m.role == "deputy_chair"), None)


def _recusals(
    session: Session, items: list[AgendaItem], present: list[CommissionMember]
) -> dict[tuple[int, int], tuple[str, ConflictDeclaration | None]]:
    """Return (item id, member id) -> (reason, declaration) for every recusal due at opening.

    A member is recused from an item when they are its nominator or its nominee as a PERSON
    (the same account, or an IIN linked to their account: a walk-in or imported register
    entry included), or when they declared a conflict of interest on it.
    """
    accounts = {m.user_id for m in present}
    for item in items:
        nomination = item.nomination
        accounts |= {nomination.nominator_id, nomination.recipient_user_id}
        if nomination.member is not None:
            accounts.add(nomination.member.user_id)
    iins = persons.iins_of(session, accounts)
    declared = {
        (d.item_id, d.commission_member_id): d
        for d in session.scalars(
            select(ConflictDeclaration).where(
                ConflictDeclaration.item_id.in_([i.id for i in items])
            )
        )
    }
    found = {}
    for item in items:
        nomination = item.nomination
        nominee_accounts = {nomination.recipient_user_id}
        nominee_iins = set()
        if nomination.member is not None:
            nominee_accounts.add(nomination.member.user_id)
            nominee_iins.add(nomination.member.iin)
        nominee_accounts.discard(None)
        for account in nominee_accounts:
            nominee_iins |= iins.get(account, set())
        nominator_iins = iins.get(nomination.nominator_id, set())
        for member in present:
            mine = iins.get(member.user_id, set())
            declaration = declared.get((item.id, member.id))
            if member.user_id == nomination.nominator_id or mine & nominator_iins:
                found[item.id, member.id] = ("nominator", declaration)
            elif member.user_id in nominee_accounts or mine & nominee_iins:
                found[item.id, member.id] = ("nominee", declaration)
            elif declaration is not None:
                found[item.id, member.id] = (declaration.reason, declaration)
    return found


def open_session(
    session: Session, *, session_id: int, present_ids: set[int], actor_id: int, now: dt.datetime
) -> CommissionSession:
    """Record attendance and open the session; recuse nominators, nominees (as persons) and
    members who declared a conflict of interest, automatically."""
    sitting = get_session(session, session_id)
    refused = refusal(session, sitting, "open")
    if refused is not None:
        raise refused
    if not sitting.items:
        raise Conflict(N_("Put at least one nomination on the agenda first."))
    commission = sitting.commission
    members = policies.members_on(session, sitting.commission_id, sitting.held_on)
    if not members:
        raise Conflict(N_("The commission has no members on the day of the session."))
    unknown = present_ids - {m.id for m in members}
    if unknown:
        raise DomainError(N_("Only members of the commission can be marked present."))
    rule = policies.policy_in_force(session, commission.unit_id, sitting.held_on)
    voters = [m for m in members if votes(commission, m)]
    needed = quorum_needed(len(voters), rule.quorum_numerator, rule.quorum_denominator)
    present_voters = [m for m in voters if m.id in present_ids]
    quorum_met = len(present_voters) >= needed
    _take(session, sitting, "open", values={"opened_at": now, "quorum_met": quorum_met})
    for member in members:
        session.add(
            Attendance(
                session_id=session_id,
                commission_member_id=member.id,
                present=member.id in present_ids,
            )
        )
    session.flush()
    items = {i.id: i for i in sitting.items}
    by_id = {m.id: m for m in present_voters}
    for (item_id, member_id), (reason, declaration) in sorted(
        _recusals(session, list(items.values()), present_voters).items()
    ):
        member = by_id[member_id]
        _record_vote(
            session,
            items[item_id],
            member,
            "recused",
            reason,
            declaration.declared_by_id
            if declaration is not None and reason == declaration.reason
            else member.user_id,
            automatic=True,
        )
    audit.record(
        session,
        action="session.open",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={
            "present": sorted(present_ids),
            "members": len(members),
            "voters": len(voters),
            "needed": needed,
            "quorum_met": quorum_met,
        },
    )
    return sitting


def declare_conflict(
    session: Session, *, item_id: int, commission_member_id: int, reason: str, actor_id: int
) -> ConflictDeclaration:
    """Record a member's declared conflict of interest on an item, with the reason.

    Declared before the sitting, it recuses the member when the session opens; declared while
    it sits, it recuses them at once (refused once they have voted on the item).
    """
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(N_("No such agenda item."))
    sitting = item.session
    member = session.get(CommissionMember, commission_member_id)
    if member is None or member.commission_id != sitting.commission_id:
        raise NotFound(N_("No such commission member."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(N_("Write the reason for the conflict of interest."))
    if member.user_id != actor_id and not (
        sitting.on_paper and _secretary_of(session, sitting) == actor_id
    ):
        raise PermissionDenied(N_("Members declare their own conflicts of interest."))
    step = "record_vote" if sitting.status == "open" else "edit_agenda"
    _take(session, sitting, step)
    try:
        with session.begin_nested():
            declaration = ConflictDeclaration(
                item_id=item.id,
                commission_member_id=member.id,
                reason=reason,
                declared_by_id=actor_id,
            )
            session.add(declaration)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This conflict of interest is already declared.")) from None
    if sitting.status == "open":
        if member.id not in {m.id for m in present_members(session, sitting.id)}:
            raise Conflict(N_("Only members present at the session vote."))
        _record_vote(session, item, member, "recused", reason, actor_id)
    audit.record(
        session,
        action="session.conflict",
        object_type="agenda_item",
        object_id=item.id,
        actor_id=actor_id,
        payload={"member": member.id, "reason": reason},
    )
    return declaration


def _secretary_of(session: Session, sitting: CommissionSession) -> int | None:
    """Return the account of the secretary serving on the day of the sitting."""
    return next(
        (
            m.user_id
            for m in policies.members_on(session, sitting.commission_id, sitting.held_on)
            if m.role == "secretary"
        ),
        None,
    )


def _record_vote(session, item, member, choice, reason, entered_by_id, automatic=False):
    try:
        with session.begin_nested():
            vote = Vote(
                item_id=item.id,
                commission_member_id=member.id,
                choice=choice,
                reason=reason,
                automatic=automatic,
                entered_by_id=entered_by_id,
            )
            session.add(vote)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This member has already voted on this item or is recused.")) from None
    return vote


def present_members(session: Session, session_id: int) -> list[CommissionMember]:
    """Return the members recorded present at a session."""
    return list(
        session.scalars(
            select(CommissionMember)
            .join(Attendance, Attendance.commission_member_id == CommissionMember.id)
            .where(Attendance.session_id == session_id, Attendance.present)
            .order_by(CommissionMember.id)
        )
    )


def vote(
    session: Session,
    *,
    item_id: int,
    commission_member_id: int,
    choice: str,
    reason: str | None,
    entered_by_id: int,
) -> None:
    """Record a vote: the member's own, or the secretary's entry for a session on paper."""
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(N_("No such agenda item."))
    sitting = item.session
    _require(sitting, "open")
    if choice not in CHOICES:
        raise DomainError(N_("Vote for, against or abstain, or recuse yourself with a reason."))
    reason = (reason or "").strip() or None
    if choice == "recused" and not reason:
        raise DomainError(N_("Write the reason for the recusal."))
    member = session.get(CommissionMember, commission_member_id)
    present = {m.id for m in present_members(session, sitting.id)}
    if member is None or member.commission_id != sitting.commission_id:
        raise NotFound(N_("No such commission member."))
    if member.id not in present:
        raise Conflict(N_("Only members present at the session vote."))
    if not votes(sitting.commission, member):
        raise Conflict(N_("Under the commission's rules the secretary does not vote."))
    if sitting.on_paper:
        if _secretary_of(session, sitting) != entered_by_id:
            raise PermissionDenied(N_("On a paper session only the secretary enters the votes."))
    elif member.user_id != entered_by_id:
        raise PermissionDenied(N_("Members vote for themselves."))
    # The session's row lock: a vote cannot slip in after the closing counted the votes.
    _take(session, sitting, "record_vote")
    _record_vote(session, item, member, choice, reason, entered_by_id)
    audit.record(
        session,
        action="session.vote",
        object_type="agenda_item",
        object_id=item_id,
        actor_id=entered_by_id,
        payload={"member": member.id, "choice": choice, "on_paper": sitting.on_paper},
    )


def _line_for(session: Session, unit_id: int, year: int, purpose: str) -> BudgetLine | None:
    return session.scalar(
        select(BudgetLine)
        .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
        .where(
            BudgetProgram.unit_id == unit_id,
            BudgetProgram.fiscal_year == year,
            BudgetLine.purpose == purpose,
        )
        .order_by(BudgetLine.id)
    )


def _tally(
    session: Session,
    item: AgendaItem,
    voters: list[CommissionMember],
    chair: CommissionMember | None,
) -> dict:
    # Read from the database: a loaded ``item.votes`` may predate votes cast since.
    choices = dict(
        session.execute(
            select(Vote.commission_member_id, Vote.choice).where(Vote.item_id == item.id)
        ).all()
    )
    missing = [m for m in voters if m.id not in choices]
    if missing:
        raise Conflict(
            N_("%(name)s has not voted on item %(n)s."),
            name=missing[0].user.full_name,
            n=item.position,
        )
    counted = [c for c in choices.values() if c != "recused"]
    return {
        "for": counted.count("for"),
        "against": counted.count("against"),
        "abstain": counted.count("abstain"),
        "recused": len(choices) - len(counted),
        "voters": len(counted),
        "chair": choices.get(chair.id) if chair else None,
    }


def close(
    session: Session,
    *,
    session_id: int,
    actor_id: int,
    now: dt.datetime,
) -> CommissionSession:
    """Close an open session with quorum: each item's outcome under the policy and the rules.

    The session's step is taken FIRST (one guarded UPDATE): a second, parallel close gets a
    409 before it evaluates anything. An item whose non-recused present voters are fewer than
    the quorum is deferred; a tie goes the way of whoever presides (the chair, or the stand-in
    the commission's rules name) when the policy says so. Approved money items commit their
    amount on the jurisdiction's line in this transaction; an item over the cap, the person's
    annual cap or the line's balance is deferred with the reason (and holds no commitment),
    and the others proceed.
    """
    # Lock order: the audit chain before any line or item row (see audit.take_append_lock).
    audit.take_append_lock(session)
    sitting = get_session(session, session_id)
    refused = refusal(session, sitting, "close")
    if refused is not None:
        raise refused
    if not sitting.quorum_met:
        raise Conflict(N_("There is no quorum: the session cannot decide."))
    _take(session, sitting, "close", values={"closed_at": now})
    commission = sitting.commission
    rule = policies.policy_in_force(session, commission.unit_id, sitting.held_on)
    serving = [a.commission_member for a in attendance_of(session, session_id)]
    needed = quorum_needed(
        sum(1 for m in serving if votes(commission, m)),
        rule.quorum_numerator,
        rule.quorum_denominator,
    )
    present = present_members(session, session_id)
    voters = [m for m in present if votes(commission, m)]
    chair = presiding(commission, present)
    tallies = [(item, _tally(session, item, voters, chair)) for item in sitting.items]
    year = sitting.held_on.year
    mci = policies.mci_tiyn(session, year)
    for item, tally in tallies:
        item.votes_for, item.votes_against = tally["for"], tally["against"]
        item.abstained, item.recused = tally["abstain"], tally["recused"]
        if tally["voters"] < needed:
            _decide(
                session,
                item,
                "deferred",
                _reason(
                    N_(
                        "No quorum on this item after recusals: %(n)s member(s) could vote,"
                        " %(needed)s needed."
                    ),
                    n=tally["voters"],
                    needed=needed,
                ),
            )
            continue
        majority = tally["for"] * 2 > tally["voters"]
        tie = tally["voters"] > 0 and tally["for"] * 2 == tally["voters"]
        if tie and rule.chair_breaks_tie:
            majority = tally["chair"] == "for"
        if not majority:
            _decide(session, item, "rejected", None)
            continue
        reason = _award(session, item, rule, mci, year, actor_id)
        _decide(session, item, "deferred" if reason else "approved", reason)
    session.flush()
    for item in sitting.items:
        _notify(session, item)
    audit.record(
        session,
        action="session.close",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={
            "outcomes": {str(i.nomination_id): i.outcome for i in sitting.items},
            "committed_tiyn": sum(
                i.nomination.amount_tiyn for i in sitting.items if i.ledger_entry_id
            ),
            "presiding": chair.id if chair else None,
        },
    )
    return sitting


def attendance_of(session: Session, session_id: int) -> list[Attendance]:
    """Return the attendance recorded when the session opened."""
    return list(
        session.scalars(
            select(Attendance).where(Attendance.session_id == session_id).order_by(Attendance.id)
        )
    )


_STEP_OF = {"approved": "approve", "rejected": "reject", "deferred": "defer"}


def _decide(session: Session, item: AgendaItem, outcome: str, reason: str | None) -> None:
    item.outcome = outcome
    item.outcome_reason = reason
    advance(
        session, NOMINATION, item.nomination, _STEP_OF[outcome], values={"outcome_reason": reason}
    )


def nominee_iin(session: Session, nomination: Nomination) -> str | None:
    """Return the IIN of the person a nomination rewards (None for a collective)."""
    if nomination.member is not None:
        return nomination.member.iin
    if nomination.recipient_user_id:
        found = persons.iins_of(session, [nomination.recipient_user_id])
        return min(found[nomination.recipient_user_id], default=None)
    return None


def _award(session, item, rule, mci, year, actor_id) -> str | None:
    """Reserve what an approved item needs; return why it must wait instead, if it must."""
    nomination = item.nomination
    try:
        with session.begin_nested():
            session.execute(
                update(NominationContribution)
                .where(NominationContribution.nomination_id == nomination.id)
                .values(approved=True)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return _reason(N_("A supporting contribution already backs another approved reward."))
    if nomination.form not in MONEY_FORMS:
        return None
    amount = nomination.amount_tiyn
    if nomination.form == "cash" and amount > rule.cash_cap_mci * mci:
        _unmark(session, nomination.id)
        return _reason(N_("Over the cap of %(mci)s MCI per reward."), mci=rule.cash_cap_mci)
    # The personal annual cap binds a person (by IIN, any entry or account); a collective has
    # none. One definition for closing, nominating, the flags and the screens: incentives.caps.
    iin = nominee_iin(session, nomination)
    if iin is not None:
        held_on = item.session.held_on
        standing = caps.standing(
            session, iin=iin, unit_id=item.session.commission.unit_id, day=held_on
        )
        if not standing.allows(amount):
            _unmark(session, nomination.id)
            return _reason(
                N_("Over the person's annual cap of %(mci)s MCI: %(already)s awarded in %(year)s."),
                mci=standing.cap_mci,
                already=format_tiyn(standing.awarded_tiyn),
                year=year,
            )
    line = _line_for(session, item.session.commission.unit_id, year, nomination.purpose)
    if line is None:
        _unmark(session, nomination.id)
        return _reason(N_("No approved budget line for %(year)s."), year=year)
    try:
        with session.begin_nested():
            entry = ledger.commit_funds(
                session,
                line_id=line.id,
                amount_tiyn=amount,
                reference_type="agenda_item",
                reference_id=item.id,
                actor_id=actor_id,
                idempotency_key=f"award-{item.id}",
            )
    except DomainError as exc:
        _unmark(session, nomination.id)
        return _reason(exc.message, **exc.params)
    item.ledger_entry_id = entry.id
    item.line_id = line.id
    return None


def _reason(msgid: str, **params) -> str:
    """Keep a deferral reason as its msgid and parameters, to be shown translated."""
    return json.dumps({"msg": msgid, "params": params}, ensure_ascii=False, sort_keys=True)


def _unmark(session: Session, nomination_id: int) -> None:
    session.execute(
        update(NominationContribution)
        .where(NominationContribution.nomination_id == nomination_id)
        .values(approved=False)
        .execution_options(synchronize_session=False)
    )


def _notify(session: Session, item: AgendaItem) -> None:
    user_id = item.nomination.recipient_user
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return
    notifications.queue_message(
        session,
        user_id=user.id,
        email=user.email,
        kind="nomination.outcome",
        params={"nomination_id": item.nomination_id, "outcome": item.outcome},
        language=user.preferred_language,
    )


def minutes_hash(text_kk: str, text_ru: str) -> str:
    """Return the SHA-256 of the two texts of the minutes."""
    return hashlib.sha256(f"{text_kk}\n\x1e\n{text_ru}".encode()).hexdigest()


def finalize_minutes(
    session: Session,
    *,
    session_id: int,
    text_kk: str,
    text_ru: str,
    actor_id: int,
    now: dt.datetime,
) -> CommissionSession:
    """Freeze the minutes in Kazakh and Russian; their hash enters the audit chain."""
    sitting = get_session(session, session_id)
    digest = minutes_hash(text_kk, text_ru)
    _take(
        session,
        sitting,
        "finalize",
        values={
            "minutes_kk": text_kk,
            "minutes_ru": text_ru,
            "minutes_hash": digest,
            "minutes_final_at": now,
        },
    )
    audit.record(
        session,
        action="minutes.final",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"sha256": digest},
    )
    return sitting


def record_act(
    session: Session, *, session_id: int, number: str, date: dt.date, actor_id: int
) -> CommissionSession:
    """Record the akimat's resolution or order that gives effect to the session's decisions.

    Only on final minutes (minutes → act → payment), and once: a second or parallel attempt
    is a 409 that changes nothing.
    """
    sitting = get_session(session, session_id)
    number = " ".join((number or "").split())
    if not number:
        raise DomainError(N_("Enter the number of the akimat's act."))
    if len(number) > 60:
        raise DomainError(N_("The number of the act is at most 60 characters."))
    if date < sitting.held_on:
        raise DomainError(N_("The act cannot predate the session."))
    _take(
        session,
        sitting,
        "record_act",
        values={"act_number": number, "act_date": date},
        where=[CommissionSession.act_number.is_(None)],
        refused=Conflict(N_("The akimat's act is already recorded.")),
    )
    audit.record(
        session,
        action="session.act",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"number": number, "date": date.isoformat()},
    )
    return sitting


def attach_scan(
    session: Session, *, session_id: int, file_id: int, content: bytes, actor_id: int
) -> None:
    """Attach the signed scan of the final minutes (PDF only), once."""
    if not content.startswith(b"%PDF-"):
        raise DomainError(N_("The signed scan must be a PDF file."))
    sitting = get_session(session, session_id)
    _take(
        session,
        sitting,
        "attach_scan",
        values={"scan_file_id": file_id},
        where=[CommissionSession.scan_file_id.is_(None)],
        refused=Conflict(N_("The signed scan is already attached.")),
    )
    audit.record(
        session,
        action="minutes.scan",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"file_id": file_id, "sha256": hashlib.sha256(content).hexdigest()},
    )
