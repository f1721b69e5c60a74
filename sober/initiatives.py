"""Initiatives of sober settlements: submitted, reviewed, commented, put forward."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core import audit, places
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.scope import Scope
from core.transitions import advance
from incentives.sober_models import (
    PROPOSER_ROLES,
    Initiative,
    InitiativeComment,
)
from incentives.workflow import INITIATIVE
from sober.declarations import _check_text, _settlement

# The review step that leads to each status (the steps: incentives.workflow.INITIATIVE).
# The coordinators' steps by the status they lead to ("reopen" is a complaint's, appeals.effects).
REVIEW_STEP_TO = {step.target: name for name, step in INITIATIVE.steps.items() if name != "reopen"}


def get_initiative(session: Session, initiative_id: int) -> Initiative:
    """Return the initiative or raise NotFound."""
    found = session.get(Initiative, initiative_id)
    if found is None:
        raise NotFound(N_("No such initiative."))
    return found


def submit_initiative(
    session: Session,
    *,
    unit_id: int,
    title: str,
    description: str,
    measures: str,
    team: str,
    requested_incentive: str,
    proposer_role: str,
    actor_id: int,
    home_unit_id: int,
) -> Initiative:
    """Submit an initiative for the settlement the activist or rural akim lives in."""
    unit = _settlement(session, unit_id)
    if not places.within(session, unit.id, [home_unit_id]):
        raise PermissionDenied(N_("Submit initiatives only for the settlement where you live."))
    if proposer_role not in PROPOSER_ROLES:
        raise DomainError(N_("Say whether you submit as an activist or as the rural akim."))
    fields = {
        "title": _check_text(title, 200, N_("Give the initiative a title.")),
        "description": _check_text(description, 4000, N_("Describe the initiative.")),
        "measures": _check_text(measures, 4000, N_("List the measures planned or taken.")),
        "team": _check_text(team, 2000, N_("Name the team of the initiative.")),
        "requested_incentive": _check_text(
            requested_incentive, 1000, N_("Say what incentive is requested.")
        ),
    }
    initiative = Initiative(
        unit_id=unit.id,
        proposer_role=proposer_role,
        status="submitted",
        submitted_by_id=actor_id,
        **fields,
    )
    session.add(initiative)
    session.flush()
    audit.record(
        session,
        action="sober.initiative_submit",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        payload={"unit_id": unit.id, "title": fields["title"], "proposer_role": proposer_role},
    )
    return initiative


def review_initiative(
    session: Session,
    *,
    initiative_id: int,
    to_status: str,
    comment: str | None,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Initiative:
    """Move an initiative on: under review, then supported or declined (declining needs a why)."""
    initiative = get_initiative(session, initiative_id)
    if not scope.contains(session, initiative.unit_id):
        raise NotFound(N_("No such initiative."))
    comment = (comment or "").strip() or None
    if comment and len(comment) > 4000:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=4000)
    step = REVIEW_STEP_TO.get(to_status)
    if step is None or not INITIATIVE.can(initiative, step):
        raise Conflict(N_("The initiative cannot move to this status from its current one."))
    if to_status == "declined" and not comment:
        raise DomainError(N_("Write why the initiative is declined."))
    if initiative.submitted_by_id == actor_id and to_status in ("supported", "declined"):
        raise PermissionDenied(N_("You cannot decide on an initiative you submitted."))
    now = now or utcnow()
    before = initiative.status
    decided = {"decided_by_id": actor_id, "decided_at": now}
    advance(
        session,
        INITIATIVE,
        initiative,
        step,
        values=decided if to_status in ("supported", "declined") else None,
    )
    session.add(
        InitiativeComment(
            initiative_id=initiative.id,
            author_id=actor_id,
            body=comment or "",
            to_status=to_status,
            at=now,
        )
    )
    session.flush()
    session.expire(initiative, ["comments"])
    audit.record(
        session,
        action="sober.initiative_review",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        now=now,
        payload={"from": before, "to": to_status, "comment": comment},
    )
    return initiative


def comment_initiative(
    session: Session,
    *,
    initiative_id: int,
    body: str,
    actor_id: int,
    scope: Scope,
) -> InitiativeComment:
    """Add a comment: by a coordinator of the settlement or by the initiative's author."""
    initiative = get_initiative(session, initiative_id)
    if initiative.submitted_by_id != actor_id and not scope.contains(session, initiative.unit_id):
        raise NotFound(N_("No such initiative."))
    body = _check_text(body, 4000, N_("Write the comment."))
    row = InitiativeComment(initiative_id=initiative.id, author_id=actor_id, body=body)
    session.add(row)
    session.flush()
    session.expire(initiative, ["comments"])
    audit.record(
        session,
        action="sober.initiative_comment",
        object_type="sober_initiative",
        object_id=initiative.id,
        actor_id=actor_id,
        payload={"comment_id": row.id},
    )
    return row


def review_targets(status: str) -> list[str]:
    """Return the statuses a review may move an initiative that is ``status`` to."""
    return [step.target for step in INITIATIVE.steps.values() if status in step.sources]
