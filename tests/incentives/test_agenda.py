"""The agenda as pages read it: plain rows that say what the entities say."""

from __future__ import annotations

import pytest

from core import accounts
from incentives import agenda, sessions
from incentives.models import ConflictDeclaration
from tests.factories.commission import (
    NOW,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)


# Both databases: votes and declarations are one UNION ALL, whose literal column and NULL
# choice each database types in its own way.
@pytest.mark.both_databases
def test_agenda_rows_match_the_items_their_votes_and_declarations(app, session):
    s = setup(session, coordinator_on_commission=True)
    member, ids = nominee(session, contributions=3)
    cash = nominate(session, s, member, ids[:2])
    thanks = nominate(session, s, member, ids[2:], form="thanks")
    sitting = plan_sitting(session, s, [cash.id, thanks.id])
    sessions.declare_conflict(
        session,
        item_id=sitting.items[1].id,
        commission_member_id=s.members["member3"],
        reason="A neighbour",
        actor_id=s.users["member3"],
    )
    open_sitting(session, s, sitting, ["chair", "secretary", "member2", "member3", "coordinator"])
    vote_all(session, s, sitting, {"chair": "for", "secretary": "for", "member2": "against"})

    rows = agenda.items(session, [sitting.id])

    assert [r.id for r in rows] == [i.id for i in sitting.items]
    for row, item in zip(rows, sitting.items, strict=True):
        n = item.nomination
        nominator = session.get(accounts.User, n.nominator_id).full_name
        assert (row.position, row.nomination_id, row.recipient, row.form) == (
            item.position,
            n.id,
            n.recipient,
            n.form,
        )
        assert (row.amount_tiyn, row.nominator, row.justification) == (
            n.amount_tiyn,
            nominator,
            n.justification,
        )
        assert [(v.name, v.choice, v.reason) for v in row.votes] == [
            (v.commission_member.user.full_name, v.choice, v.reason) for v in item.votes
        ]
        assert [(d.name, d.reason) for d in row.declarations] == [
            (d.commission_member.user.full_name, d.reason) for d in item.declarations
        ]
        assert row.recusals == [v for v in row.votes if v.choice == "recused"]
    assert [r.supports for r in rows] == [2, 1]
    assert rows[0].tally["for"] == 2 and rows[0].tally["against"] == 1
    assert [d.name for d in rows[1].declarations] and not rows[0].declarations
    # The nominator sits on the commission: recused from both items automatically.
    assert all(r.recusals for r in rows)

    seat = [s.members["chair"]]
    mine = agenda.ballots_of(session, seat, [r.id for r in rows])
    assert {i: b.choice for i, b in mine.items()} == {rows[0].id: "for", rows[1].id: "for"}
    declared = agenda.ballots_of(
        session, [s.members["member3"]], [r.id for r in rows], model=ConflictDeclaration
    )
    assert {i: b.reason for i, b in declared.items()} == {rows[1].id: "A neighbour"}
    assert agenda.past_votes(session, seat) == []  # the session is still open

    # member3 declared a conflict on the second item: recused there, votes on the first.
    sessions.vote(
        session,
        item_id=rows[0].id,
        commission_member_id=s.members["member3"],
        choice="for",
        reason=None,
        entered_by_id=s.users["member3"],
    )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    past = agenda.past_votes(session, seat)
    assert [(p.position, p.recipient, p.choice, p.outcome) for p in past] == [
        (i.position, i.nomination.recipient, "for", i.outcome) for i in sitting.items
    ]
    assert agenda.items(session, []) == [] and agenda.past_votes(session, []) == []
