"""Batch reads that several commission pages share: one query for a page, never one per row."""

from __future__ import annotations

from sqlalchemy import func, select

from incentives import payouts
from incentives.models import NominationContribution, Payout
from portal.extensions import db


def supports(nomination_ids) -> dict[int, int]:
    """Return how many contributions support each nomination."""
    ids = list(nomination_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(NominationContribution.nomination_id, func.count())
            .where(NominationContribution.nomination_id.in_(ids))
            .group_by(NominationContribution.nomination_id)
        ).all()
    )


def payout_states(item_ids) -> dict[int, Payout]:
    """Return each item's live payout, or its latest one when none is live."""
    ids = list(item_ids)
    found: dict[int, Payout] = {}
    if not ids:
        return found
    for p in db.session.scalars(select(Payout).where(Payout.item_id.in_(ids)).order_by(Payout.id)):
        current = found.get(p.item_id)
        if current is None or current.status not in payouts.LIVE:
            found[p.item_id] = p
    return found
