"""Where a record named in the audit log or a red flag is shown, and the number it is shown by.

A record is named by its type's label and its number (``Payout No. 9``) and links to the page
that shows it, when the reader may open that page. A payout is numbered by the reward it pays
(the agenda item): the finance officer's page, the deputy's page, the ledger and the log all
say the same number, and a reward paid after a failed attempt keeps it (see ``payout_number``).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.jobruns import JobRun
from incentives.models import AgendaItem, Payout
from portal.extensions import db
from portal.formatting import localized_params

# object type -> (endpoint, its argument); the endpoint's own ``allow`` says who may open it.
RECORD_PAGES = {
    "budget_line": ("oversight.line", "line_id"),
    "maslikhat_decision": ("oversight.decision", "decision_id"),
    "commission_session": ("oversight.session", "session_id"),
    "agenda_item": ("oversight.reward", "item_id"),
    "nomination": ("oversight.reward", "item_id"),  # via its latest agenda item
    "payout": ("oversight.payout", "item_id"),  # via the reward it pays
    "member": ("oversight.member", "member_id"),
    "contribution": ("oversight.contribution", "contribution_id"),
    "inquiry": ("oversight.inquiry", "inquiry_id"),
    "sober_declaration": ("sober.declaration", "declaration_id"),
    "sober_initiative": ("sober.initiative", "initiative_id"),
    "hearing": ("oversight.appeal_hearing", "hearing_id"),
    "complaint": ("oversight.appeal_complaint", "complaint_id"),
}


def _number(object_id) -> int | None:
    text = "" if object_id is None else str(object_id)
    # ASCII digits within an INTEGER's range: anything else names no page.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


def _may_open(endpoint: str) -> bool:
    view = current_app.view_functions.get(endpoint)
    needed = getattr(view, "_required_roles", frozenset())
    return current_user.is_authenticated and bool(current_user.roles() & needed)


def public_numbers(records: Iterable[tuple[str, object]]) -> dict[tuple[str, str], int]:
    """Return the number each record is shown by, keyed by (type, id as text).

    Payouts and nominations are shown by their reward's number (two queries for a whole
    page); every other record by its own id.
    """
    wanted: dict[str, set[int]] = {}
    found: dict[tuple[str, str], int] = {}
    for kind, oid in records:
        number = _number(oid)
        if number is None:
            continue
        if kind in ("payout", "nomination"):
            wanted.setdefault(kind, set()).add(number)
        else:
            found[(kind, str(oid))] = number
    if wanted.get("payout"):
        rows = db.session.execute(
            select(Payout.id, Payout.item_id).where(Payout.id.in_(wanted["payout"]))
        )
        found.update({("payout", str(pid)): item_id for pid, item_id in rows})
    if wanted.get("nomination"):
        rows = db.session.execute(
            select(AgendaItem.nomination_id, func.max(AgendaItem.id))
            .where(AgendaItem.nomination_id.in_(wanted["nomination"]))
            .group_by(AgendaItem.nomination_id)
        )
        found.update({("nomination", str(nid)): item_id for nid, item_id in rows})
    return found


def described(
    records: Iterable[tuple[str, object]],
) -> dict[tuple[str, str], tuple[int | str, str | None]]:
    """Return (number, page or None) of each record, keyed by (type, id as text), for a list."""
    records = list(records)
    allowed: dict[str, bool] = {}
    shown = {}
    for kind, oid in records:
        if oid is not None and oid != "":
            # Not a number (a calendar day, a KATO code): shown as it is, a date as a date.
            shown[(kind, str(oid))] = (localized_params({"id": str(oid)})["id"], None)
    for (kind, oid), number in public_numbers(records).items():
        page = RECORD_PAGES.get(kind)
        href = None
        if page is not None:
            endpoint, arg = page
            if endpoint not in allowed:
                allowed[endpoint] = _may_open(endpoint)
            if allowed[endpoint]:
                href = url_for(endpoint, **{arg: number})
        shown[(kind, oid)] = (number, href)
    runs = [number for (kind, _oid), (number, _h) in shown.items() if kind == "job_run"]
    if runs and current_user.is_authenticated:
        # A task's page shows its result to whoever asked for it: link the reader's own.
        mine = db.session.scalars(
            select(JobRun.id).where(
                JobRun.id.in_([n for n in runs if isinstance(n, int)]),
                JobRun.requested_by_id == current_user.id,
            )
        )
        for run_id in mine:
            shown[("job_run", str(run_id))] = (run_id, url_for("jobruns.show", run_id=run_id))
    return shown


def ledger_reasons(entries) -> dict[int, tuple[int | None, str | None]]:
    """Return each ledger entry's reward number and the reward's payment page, by entry id.

    A commitment names the reward (agenda item), a payment or release the payout: both are
    shown by the reward's number, the one in the payment page's address.
    """
    entries = list(entries)
    numbers = public_numbers((e.reference_type, e.reference_id) for e in entries)
    may_open = _may_open("commission.payout")
    reasons = {}
    for e in entries:
        number = numbers.get((e.reference_type, str(e.reference_id)))
        rewarded = number is not None and e.reference_type in ("agenda_item", "payout")
        href = url_for("commission.payout", item_id=number) if rewarded and may_open else None
        reasons[e.id] = (number, href)
    return reasons
