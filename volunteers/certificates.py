"""A register entry's certificate: whether it is valid on a day, and its text in one language."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.doc_numbers import without_sign
from core.documents import Block, Language
from core.errors import N_
from volunteers.models import Member

KIND_MSGIDS = {
    "public_assistant": N_("Public assistant"),
    "patrol_member": N_("Volunteer-patrol member"),
}
# Why a certificate is not valid: the membership's status, or its term run out.
NOT_VALID_MSGIDS = {
    "suspended": N_("The membership is suspended."),
    "expelled": N_("The member has been expelled from the register."),
    "withdrawn": N_("The member has left the register."),
    "expired": N_("The certificate has expired."),
}
NOT_VALID = N_("NOT VALID")


def by_verify_token(session: Session, token: str) -> Member | None:
    """Return the member whose certificate's QR code carries ``token`` (the public check)."""
    return session.scalar(select(Member).where(Member.verify_token == token))


def initials(full_name: str) -> str:
    """The holder as the public check shows them: initials only ("А. С.")."""
    return " ".join(part[0] + "." for part in full_name.split() if part)


def why_not_valid(member: Member, today: dt.date) -> str | None:
    """Return why the certificate is not valid on ``today`` (a key of NOT_VALID_MSGIDS), or
    None when it is: an active membership within its dates."""
    if member.status != "active":
        return member.status if member.status in NOT_VALID_MSGIDS else "expired"
    if not member.issued_on <= today <= member.expires_on:
        return "expired"
    return None


def certificate_blocks(member: Member, *, body: str, lang: Language, today: dt.date) -> list[Block]:
    """Compose the certificate in one language: the issuing akimat, the number, the holder,
    the kind of membership, the dates in full and, when it is not valid, why."""
    _ = lang
    blocks = [Block("title", body)] if body else []
    blocks += [
        Block("title", _("CERTIFICATE No. %(number)s", number=without_sign(member.certificate_no))),
        Block("paragraph", lang(KIND_MSGIDS[member.kind])),
        Block("heading", member.full_name),
        Block("paragraph", _("Issued on: %(date)s", date=lang.date(member.issued_on))),
        Block("paragraph", _("Valid until: %(date)s", date=lang.date(member.expires_on))),
    ]
    reason = why_not_valid(member, today)
    if reason is not None:
        because = lang(NOT_VALID_MSGIDS[reason])
        blocks.append(Block("paragraph", f"{lang(NOT_VALID)}: {because}"))
    return blocks
