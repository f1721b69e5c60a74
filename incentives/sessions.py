"""Commission sessions: agenda, attendance and quorum, votes and recusals, closing (the steps).

The state and counting live in ``incentives.sittings``, what a decision commits in
``incentives.awards``, the minutes, act and scan in ``incentives.minutes``; the names in
``__all__`` are the session API.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, bilingual
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.transitions import advance
from incentives import awards, sittings
from incentives import policy as policies
from incentives.minutes import attach_scan, finalize_minutes, minutes_hash, record_act
from incentives.models import (
    CHOICES,
    AgendaItem,
    Attendance,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
    Nomination,
    Vote,
)
from incentives.sittings import (
    SESSION,
    WHAT_COMES_FIRST,
    attendance_of,
    get_session,
    present_members,
    presiding,
    quorum_needed,
    refusal,
    votes,
)
from incentives.workflow import NOMINATION
from volunteers import persons

# The session API: its steps here, the state and counting from incentives.sittings.
__all__ = [
    "SESSION",
    "WHAT_COMES_FIRST",
    "add_to_agenda",
    "attach_scan",
    "attendance_of",
    "close",
    "declare_conflict",
    "finalize_minutes",
    "get_session",
    "minutes_hash",
    "open_session",
    "plan",
    "present_members",
    "presiding",
    "quorum_needed",
    "record_act",
    "refusal",
    "vote",
    "votes",
]


def plan(
    session: Session,
    *,
    commission_id: int,
    held_on: dt.date,
    place_kk: str,
    place_ru: str,
    on_paper: bool,
    actor_id: int,
) -> CommissionSession:
    """Plan a session of the commission; its place is named in Kazakh and in Russian."""
    policies.get_commission(session, commission_id)
    try:
        place_kk, place_ru = bilingual.both(place_kk, place_ru)
    except bilingual.Missing:
        raise DomainError(N_("Where does the commission meet? In Kazakh and in Russian.")) from None
    sitting = CommissionSession(
        commission_id=commission_id,
        held_on=held_on,
        place_kk=place_kk,
        place_ru=place_ru,
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
        payload={
            "held_on": held_on.isoformat(),
            "place_kk": place_kk,
            "place_ru": place_ru,
            "on_paper": on_paper,
        },
    )
    return sitting


def add_to_agenda(
    session: Session, *, session_id: int, nomination_ids: list[int], actor_id: int
) -> int:
    """Put submitted nominations of the commission on a planned session's agenda."""
    sitting = get_session(session, session_id)
    sittings.take(session, sitting, "edit_agenda")
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
    iins = persons.keys_of(session, accounts)
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
            nominee_iins.add(nomination.member.iin_index)
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
    sittings.take(session, sitting, "open", values={"opened_at": now, "quorum_met": quorum_met})
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
    sittings.take(session, sitting, step)
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
    sittings.require(sitting, "open")
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
    sittings.take(session, sitting, "record_vote")
    _record_vote(session, item, member, choice, reason, entered_by_id)
    audit.record(
        session,
        action="session.vote",
        object_type="agenda_item",
        object_id=item_id,
        actor_id=entered_by_id,
        payload={"member": member.id, "choice": choice, "on_paper": sitting.on_paper},
    )


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
    sittings.take(session, sitting, "close", values={"closed_at": now})
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
    tallies = [(item, awards.tally(session, item, voters, chair)) for item in sitting.items]
    year = sitting.held_on.year
    mci = policies.mci_tiyn(session, year)
    for item, tally in tallies:
        item.votes_for, item.votes_against = tally["for"], tally["against"]
        item.abstained, item.recused = tally["abstain"], tally["recused"]
        if tally["voters"] < needed:
            awards.decide(
                session,
                item,
                "deferred",
                awards.reason(
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
            awards.decide(session, item, "rejected", None)
            continue
        reason = awards.award(session, item, rule, mci, year, actor_id)
        awards.decide(session, item, "deferred" if reason else "approved", reason)
    session.flush()
    for item in sitting.items:
        awards.notify(session, item)
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
