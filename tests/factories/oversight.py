"""Oversight records: a paid reward for the deputy to read, and a deputy of another district."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from core import accounts, places
from incentives import payouts, sessions
from tests.factories.accounts import official
from tests.factories.commission import (
    FOUR,
    IBAN,
    MCI_2026,
    NOW,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)

ABAI = "353200000"  # another district of the region
DEPUTY_PASSWORD = "oversight test pass"


def paid_reward(session):
    """A commission, a session with final minutes and act, and one cash payout (committed)."""
    s = setup(session)
    member, contribution_ids = nominee(session)
    nomination = nominate(session, s, member, contribution_ids, mci=10)
    sitting = plan_sitting(session, s, [nomination.id])
    open_sitting(session, s, sitting, FOUR)
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    item = sitting.items[0]
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА № 1",
        text_ru="ПРОТОКОЛ № 1",
        actor_id=s.users["secretary"],
        now=NOW,
    )
    sessions.record_act(
        session, session_id=sitting.id, number="№ 412", date=dt.date(2026, 10, 18), actor_id=1
    )
    finance = accounts.find_by_login(session, "finance@demo.kz")
    payout = payouts.record_payment(
        session,
        item_id=item.id,
        iban=IBAN,
        order_number="ПП-1044",
        order_date=dt.date(2026, 10, 20),
        amount_tiyn=10 * MCI_2026,
        idempotency_key="oversight-1",
        actor_id=finance.id,
        today=dt.date(2026, 10, 21),
    )
    session.commit()
    return SimpleNamespace(
        s=s, member=member, ids=contribution_ids, sitting=sitting, item=item, payout=payout
    )


def other_deputy(session):
    """deputy.abai@demo.kz, a deputy of Abai district who signs in with DEPUTY_PASSWORD."""
    unit = places.by_kato(session, ABAI)
    user = official(
        session,
        "deputy.abai@demo.kz",
        "deputy",
        unit.id,
        password=DEPUTY_PASSWORD,
        full_name="Абай Депутат",
        language="ru",
    )
    session.commit()
    return user
