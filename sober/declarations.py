"""The registry of sober declarations: declaring, confirming, revoking, outlets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, iin, places, uploads
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.scope import Scope
from core.transitions import advance
from incentives.sober_models import (
    SIGNATORY_ROLES,
    SoberDeclaration,
    SoberOutlet,
    SoberSignatory,
    SoberStatusChange,
)
from incentives.workflow import SOBER_DECLARATION

MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_ATTENDANCE = 100_000


def _check_text(value: str | None, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(missing)
    if len(value) > limit:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=limit)
    return value


def _settlement(session: Session, unit_id: int | None) -> places.AdminUnit:
    unit = session.get(places.AdminUnit, unit_id) if unit_id else None
    if unit is None or unit.level != "settlement":
        raise DomainError(N_("Choose a settlement (a village or a town)."))
    return unit


def _require_scope(session: Session, unit_id: int, scope: Scope) -> None:
    if not scope.contains(session, unit_id):
        raise PermissionDenied(N_("This settlement is outside your jurisdiction."))


def store_record_pdf(
    session: Session, *, filename: str, content: bytes, owner_id: int | None
) -> uploads.StoredFile:
    """Keep the scanned record of a gathering: a PDF of at most 5 MB."""
    if not content:
        raise DomainError(N_("The file is empty."))
    if len(content) > MAX_PDF_BYTES:
        raise DomainError(N_("The file is larger than %(mb)s MB."), mb=MAX_PDF_BYTES // 1024**2)
    if not content.startswith(b"%PDF-"):
        raise DomainError(N_("The record of the gathering must be a PDF file."))
    name = re.sub(r"[^\w.\- ]", "_", filename or "record.pdf")[:120] or "record.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return uploads.store(
        session, filename=name, content_type="application/pdf", content=content, owner_id=owner_id
    )


def get_declaration(session: Session, declaration_id: int) -> SoberDeclaration:
    """Return the declaration or raise NotFound."""
    found = session.get(SoberDeclaration, declaration_id)
    if found is None:
        raise NotFound(N_("No such declaration."))
    return found


def _in_scope_declaration(session: Session, declaration_id: int, scope: Scope) -> SoberDeclaration:
    declaration = get_declaration(session, declaration_id)
    if not scope.contains(session, declaration.unit_id):
        raise NotFound(N_("No such declaration."))
    return declaration


def _check_outlet(name: str | None, stopped_on: dt.date | None, today: dt.date) -> str:
    name = _check_text(name, 200, N_("Name the retail outlet."))
    iin.refuse_in_names(name)
    if stopped_on is None:
        raise DomainError(N_("Enter the date the outlet stopped selling alcohol."))
    if stopped_on > today:
        raise DomainError(N_("The date the outlet stopped selling alcohol is in the future."))
    return name


def declare(
    session: Session,
    *,
    unit_id: int,
    gathered_on: dt.date | None,
    attendance: int | None,
    record_reference: str | None,
    record_file_id: int | None,
    signatories: Iterable[tuple[str, str]],
    outlets: Iterable[tuple[str, dt.date | None]],
    actor_id: int,
    scope: Scope,
    today: dt.date,
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Record a settlement's declaration made at a gathering of its residents."""
    unit = _settlement(session, unit_id)
    _require_scope(session, unit.id, scope)
    if gathered_on is None:
        raise DomainError(N_("Enter the date of the gathering."))
    if gathered_on > today:
        raise DomainError(N_("The date of the gathering cannot be in the future."))
    if attendance is None or attendance <= 0:
        raise DomainError(N_("Enter how many residents attended the gathering (more than zero)."))
    if attendance > MAX_ATTENDANCE:
        raise DomainError(N_("The attendance is implausibly large."))
    record_reference = (record_reference or "").strip() or None
    if record_reference and len(record_reference) > 300:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=300)
    if not record_reference and not record_file_id:
        raise DomainError(N_("Give the record of the gathering: its reference or the scanned PDF."))
    signed = []
    for name, role in signatories:
        name = (name or "").strip()
        if not name:
            continue
        if role not in SIGNATORY_ROLES:
            raise DomainError(N_("Unknown role of a signatory."))
        signed.append((_check_text(name, 200, ""), role))
    if not signed:
        raise DomainError(N_("Name at least one signatory of the record."))
    shops = []
    for name, stopped_on in outlets:
        if not (name or "").strip() and stopped_on is None:
            continue
        shops.append((_check_outlet(name, stopped_on, today), stopped_on))
    in_force = Conflict(N_("This settlement already has a declaration in force."))
    if session.scalar(
        select(SoberDeclaration.id).where(
            SoberDeclaration.unit_id == unit.id, SoberDeclaration.status != "revoked"
        )
    ):
        raise in_force
    now = now or utcnow()
    declaration = SoberDeclaration(
        unit_id=unit.id,
        gathered_on=gathered_on,
        attendance=attendance,
        record_reference=record_reference,
        record_file_id=record_file_id,
        status="declared",
        declared_by_id=actor_id,
        declared_at=now,
    )
    try:
        with session.begin_nested():
            session.add(declaration)
            session.flush()
    except IntegrityError:
        # Lost a race with a concurrent declaration: the partial unique index decided.
        raise in_force from None
    for position, (name, role) in enumerate(signed):
        session.add(
            SoberSignatory(
                declaration_id=declaration.id, full_name=name, role=role, position=position
            )
        )
    for name, stopped_on in shops:
        session.add(
            SoberOutlet(
                declaration_id=declaration.id,
                name=name,
                stopped_on=stopped_on,
                added_by_id=actor_id,
                added_at=now,
            )
        )
    session.add(
        SoberStatusChange(
            declaration_id=declaration.id,
            from_status=None,
            to_status="declared",
            reason=None,
            actor_id=actor_id,
            at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        action="sober.declare",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        now=now,
        payload={
            "unit_id": unit.id,
            "gathered_on": gathered_on.isoformat(),
            "attendance": attendance,
            "record_reference": record_reference,
            "record_file_id": record_file_id,
            "signatories": len(signed),
            "outlets": len(shops),
        },
    )
    return declaration


def _change_status(
    session: Session,
    declaration: SoberDeclaration,
    *,
    to_status: str,
    reason: str | None,
    actor_id: int,
    now: dt.datetime,
) -> None:
    before = declaration.status
    values = {"decided_by_id": actor_id, "decided_at": now}
    if to_status == "confirmed":
        values["confirmed_at"] = now
    if to_status == "revoked":
        values["revoke_reason"] = reason
    step = "confirm" if to_status == "confirmed" else "revoke"
    advance(session, SOBER_DECLARATION, declaration, step, values=values)
    session.add(
        SoberStatusChange(
            declaration_id=declaration.id,
            from_status=before,
            to_status=to_status,
            reason=reason,
            actor_id=actor_id,
            at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        action=f"sober.{'confirm' if to_status == 'confirmed' else 'revoke'}",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        now=now,
        payload={"from": before, "to": to_status, "reason": reason},
    )


def confirm(
    session: Session,
    *,
    declaration_id: int,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Confirm a declared status (the police and akimat checked the gathering's record)."""
    declaration = _in_scope_declaration(session, declaration_id, scope)
    if declaration.status == "revoked":
        raise Conflict(
            N_("A revoked status cannot be confirmed. Record a new declaration instead.")
        )
    if declaration.status == "confirmed":
        raise Conflict(N_("This status is already confirmed."))
    _change_status(
        session,
        declaration,
        to_status="confirmed",
        reason=None,
        actor_id=actor_id,
        now=now or utcnow(),
    )
    return declaration


def revoke(
    session: Session,
    *,
    declaration_id: int,
    reason: str | None,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> SoberDeclaration:
    """Revoke a declared or confirmed status, with the reason written down."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for revoking the status."))
    if len(reason) > 2000:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=2000)
    declaration = _in_scope_declaration(session, declaration_id, scope)
    if declaration.status == "revoked":
        raise Conflict(N_("This status is already revoked."))
    _change_status(
        session,
        declaration,
        to_status="revoked",
        reason=reason,
        actor_id=actor_id,
        now=now or utcnow(),
    )
    return declaration


def add_outlet(
    session: Session,
    *,
    declaration_id: int,
    name: str | None,
    stopped_on: dt.date | None,
    actor_id: int,
    scope: Scope,
    today: dt.date,
) -> SoberOutlet:
    """Add a retail outlet that has since stopped selling alcohol of its own will."""
    declaration = _in_scope_declaration(session, declaration_id, scope)
    if declaration.status == "revoked":
        raise Conflict(N_("This status is revoked; it can no longer change."))
    name = _check_outlet(name, stopped_on, today)
    outlet = SoberOutlet(
        declaration_id=declaration.id, name=name, stopped_on=stopped_on, added_by_id=actor_id
    )
    session.add(outlet)
    session.flush()
    audit.record(
        session,
        action="sober.outlet_add",
        object_type="sober_declaration",
        object_id=declaration.id,
        actor_id=actor_id,
        payload={"outlet_id": outlet.id, "name": name, "stopped_on": stopped_on.isoformat()},
    )
    session.expire(declaration, ["outlets"])
    return outlet
