"""Agendas as pages show them: each item's nomination, votes and declared conflicts, as rows.

Read with a few column selects and no ORM entities: a session page lists its agenda (191 items
at the larger bench scale, 50 a page), and loading items, nominations, members, votes, seats
and their users as objects cost most of the page's time.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import bindparam, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session, aliased

from core.accounts import User
from incentives.models import (
    AgendaItem,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
    Nomination,
    NominationContribution,
    Vote,
)
from volunteers.models import Member

# As ``Nomination.recipient``: the member of the register, else the name the nomination gives.
RECIPIENT = func.coalesce(Member.full_name, Nomination.recipient_name)


@dataclasses.dataclass(slots=True)
class Ballot:
    """A member's vote on an item (``choice``), or their declared conflict (``choice`` None)."""

    item_id: int
    name: str
    choice: str | None
    reason: str | None


@dataclasses.dataclass(slots=True)
class Item:
    """One agenda item with what pages show of its nomination, its votes and declarations."""

    id: int
    session_id: int
    position: int
    outcome: str | None
    outcome_reason: str | None
    nomination_id: int
    recipient: str
    form: str
    amount_tiyn: int
    nominator: str | None
    justification: str
    supports: int  # how many contributions support the nomination
    votes: list[Ballot] = dataclasses.field(default_factory=list)
    declarations: list[Ballot] = dataclasses.field(default_factory=list)

    @property
    def tally(self) -> Counter:
        """The item's votes by choice."""
        return Counter(v.choice for v in self.votes)

    @property
    def recusals(self) -> list[Ballot]:
        return [v for v in self.votes if v.choice == "recused"]


# The statements are built once, here, and run with their ids bound: building a select of
# joins and aliases anew cost as much per request as running it.
_SESSION_IDS = bindparam("session_ids", expanding=True)
_SEAT_IDS = bindparam("seat_ids", expanding=True)
_ITEM_IDS = bindparam("item_ids", expanding=True)
_NOMINATOR = aliased(User)
_ITEMS = (
    select(
        AgendaItem.id,
        AgendaItem.session_id,
        AgendaItem.position,
        AgendaItem.outcome,
        AgendaItem.outcome_reason,
        Nomination.id,
        RECIPIENT,
        Nomination.form,
        Nomination.amount_tiyn,
        _NOMINATOR.full_name,
        Nomination.justification,
        select(func.count())
        .where(NominationContribution.nomination_id == Nomination.id)
        .correlate(Nomination)
        .scalar_subquery(),
    )
    .join(Nomination, AgendaItem.nomination_id == Nomination.id)
    .outerjoin(Member, Nomination.member_id == Member.id)
    .outerjoin(_NOMINATOR, Nomination.nominator_id == _NOMINATOR.id)
    .where(AgendaItem.session_id.in_(_SESSION_IDS))
    # The id breaks a tie of positions: a page of the agenda must be the same on every read.
    .order_by(AgendaItem.session_id, AgendaItem.position, AgendaItem.id)
)


# One page of a session's agenda (``items_page``) and its size.
_ITEMS_PAGE = _ITEMS.offset(bindparam("skip")).limit(bindparam("take"))
_COUNT = select(func.count()).where(AgendaItem.session_id == bindparam("session_id"))


def _choice(model):
    return (model.choice if model is Vote else null()).label("choice")


def _ballots(model, field: str):
    return (
        select(
            literal_column(f"'{field}'").label("field"),  # which list of the item it goes to
            model.id.label("seq"),
            model.item_id,
            User.full_name,
            _choice(model),
            model.reason,
        )
        .join(CommissionMember, model.commission_member_id == CommissionMember.id)
        .join(User, CommissionMember.user_id == User.id)
        .where(model.item_id.in_(_ITEM_IDS))
    )


# Votes and declared conflicts in one statement, each list in the order it was cast: two
# statements were a sixth of a session page's (issue 16).
_BALLOTS = union_all(_ballots(Vote, "votes"), _ballots(ConflictDeclaration, "declarations"))
_BALLOTS = _BALLOTS.order_by(_BALLOTS.selected_columns.field, _BALLOTS.selected_columns.seq)
_SEATS_BALLOTS = {
    model: select(model.item_id, _choice(model), model.reason).where(
        model.commission_member_id.in_(_SEAT_IDS), model.item_id.in_(_ITEM_IDS)
    )
    for model in (Vote, ConflictDeclaration)
}
_PAST_VOTES = (
    select(
        CommissionSession.held_on,
        AgendaItem.position,
        RECIPIENT.label("recipient"),
        Vote.choice,
        Vote.reason,
        AgendaItem.outcome,
    )
    .join(AgendaItem, Vote.item_id == AgendaItem.id)
    .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
    .join(Nomination, AgendaItem.nomination_id == Nomination.id)
    .outerjoin(Member, Nomination.member_id == Member.id)
    .where(Vote.commission_member_id.in_(_SEAT_IDS), CommissionSession.status != "open")
    .order_by(CommissionSession.held_on.desc(), AgendaItem.position)
    .limit(bindparam("limit"))
)


def items(session: Session, session_ids: Iterable[int], *, ballots: bool = True) -> list[Item]:
    """Return the agenda items of the sessions, by session and position; ``ballots``: with
    their votes and declared conflicts (one statement for both, in the order they were cast)."""
    ids = list(session_ids)
    if not ids:
        return []
    found = [Item(*row) for row in session.execute(_ITEMS, {"session_ids": ids})]
    if ballots:
        add_ballots(session, found)
    return found


def add_ballots(session: Session, found: list[Item]) -> None:
    """Give the items their votes and declared conflicts, in one statement."""
    if not found:
        return
    by_id = {i.id: i for i in found}
    for row in session.execute(_BALLOTS, {"item_ids": list(by_id)}):
        ballot = Ballot(row.item_id, row.full_name, row.choice, row.reason)
        getattr(by_id[row.item_id], row.field).append(ballot)


def count(session: Session, session_id: int) -> int:
    """Return how many items the session's agenda holds."""
    return session.scalar(_COUNT, {"session_id": session_id})


def items_page(session: Session, session_id: int, skip: int, take: int) -> list[Item]:
    """Return ``take`` items of the session's agenda from position ``skip`` on (counted from 0),
    without their ballots: a page of a long agenda, read one item longer than it shows to tell
    whether more follow (``add_ballots`` then gives the items shown theirs)."""
    return [
        Item(*row)
        for row in session.execute(
            _ITEMS_PAGE, {"session_ids": [session_id], "skip": skip, "take": take}
        )
    ]


def ballots_of(
    session: Session, seat_ids: list[int], item_ids: Iterable[int], model=Vote
) -> dict[int, Ballot]:
    """Return the seats' votes (or, ``model=ConflictDeclaration``, declared conflicts) on the
    items, by item."""
    ids = list(item_ids)
    if not seat_ids or not ids:
        return {}
    return {
        row.item_id: Ballot(row.item_id, "", row.choice, row.reason)
        for row in session.execute(
            _SEATS_BALLOTS[model], {"seat_ids": list(seat_ids), "item_ids": ids}
        )
    }


def past_votes(session: Session, seat_ids: list[int], limit: int = 100) -> list:
    """Return the seats' latest votes at sessions no longer open: rows of ``held_on``,
    ``position``, ``recipient``, ``choice``, ``reason`` and the item's ``outcome``."""
    if not seat_ids:
        return []
    return session.execute(_PAST_VOTES, {"seat_ids": list(seat_ids), "limit": limit}).all()
