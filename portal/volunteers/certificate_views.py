"""A member's certificate: the print page and the PDF, in Kazakh and in Russian, marked when not
valid; the issuing akimat named as its commission's records name it."""

from __future__ import annotations

import io

from flask import render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from core import bilingual, clock, pdf_documents
from core.documents import Block, Language
from incentives import policy
from portal import asset_dir, qr
from portal.extensions import db
from portal.security import allow, get_in_scope
from portal.volunteers.blueprint import bp
from portal.volunteers.roles import VETTING
from volunteers import certificates
from volunteers.models import Member

LANGUAGES = ("kk", "ru")


def _issuer(member: Member, language: str) -> str:
    """The akimat that keeps the register, as its commission's records name it (named from
    the member's unit while no commission is set up)."""
    commission = policy.commission_for(db.session, member.unit_id)
    if commission is not None and bilingual.in_language(commission, "body", language):
        return bilingual.in_language(commission, "body", language)
    kk, ru = bilingual.akimat_names(member.unit.name_kk, member.unit.name_ru)
    return ru if language == "ru" else kk


def not_valid_mark() -> str:
    """Return the "not valid" mark in Kazakh, Russian and English, one after the other."""
    marks = []
    for code in (*LANGUAGES, "en"):
        with force_locale(code):
            marks.append(_(certificates.NOT_VALID))
    return " / ".join(dict.fromkeys(marks))


def _documents(member: Member) -> tuple[dict[str, list[Block]], str]:
    today = clock.today()
    blocks = {}
    for code in LANGUAGES:
        with force_locale(code):
            blocks[code] = certificates.certificate_blocks(
                member, body=_issuer(member, code), lang=Language(code, _), today=today
            )
    invalid = certificates.why_not_valid(member, today) is not None
    return blocks, not_valid_mark() if invalid else ""


@bp.route("/volunteers/members/<int:member_id>/certificate")
@allow(*VETTING)
def certificate(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    link = url_for("volunteers.verify", token=member.verify_token, _external=True)
    blocks, stamp = _documents(member)
    return render_template(
        "volunteers/certificate.html",
        member=member,
        documents=blocks,
        stamp=stamp,
        link=link,
        qr_svg=qr.svg_data_uri(link),
    )


@bp.route("/volunteers/members/<int:member_id>/certificate.pdf")
@allow(*VETTING)
def certificate_pdf(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    blocks, stamp = _documents(member)
    link = url_for("volunteers.verify", token=member.verify_token, _external=True)
    content = pdf_documents.document_pdf(
        [*blocks["kk"], Block("paragraph", ""), *blocks["ru"]],
        fonts=asset_dir("static") / "fonts",
        title=f"certificate-{member.id}",
        stamp=stamp,
        footer=link,
        centred=True,
    )
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificate-{member.id}.pdf",
    )
