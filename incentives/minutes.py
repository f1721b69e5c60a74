"""A commission session's minutes: the quorum, the document, frozen when final; the act; the scan.

The minutes are composed here, once per language, from msgids translated by the caller's gettext
(the portal passes Flask-Babel's under ``force_locale``; the demo loader passes a catalogue's),
as a list of ``core.documents`` blocks: titles, headings, paragraphs, lists and the table of
votes. They are frozen as text in that module's line syntax, which reads back into the same
blocks, so the print page, the deputy's view, the DOCX and the PDF all show real paragraphs.
Every name in them (commission, akimat, place, positions) is the record's own in that language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, audit, bilingual
from core.doc_numbers import without_sign
from core.documents import Block, Language
from core.errors import N_, Conflict, DomainError
from core.money import format_tiyn
from incentives import policy, sittings
from incentives.models import Attendance, CommissionMember, CommissionSession

# How the minutes name the members' roles: in full, as an official record does.
ROLE_MSGIDS = {
    "chair": N_("Chair of the commission"),
    "deputy_chair": N_("Deputy chair of the commission"),
    "secretary": N_("Secretary of the commission"),
    "member": N_("Commission member"),
}
FORM_MSGIDS = {
    "thanks": N_("Letter of thanks"),
    "certificate": N_("Certificate of honour"),
    "valuable_gift": N_("Valuable gift"),
    "cash": N_("Cash reward"),
}
OUTCOME_MSGIDS = {
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "deferred": N_("Deferred"),
}
RECUSAL_MSGIDS = {
    "nominator": N_("is the nominator"),
    "nominee": N_("is the nominee"),
}


@dataclasses.dataclass(frozen=True)
class ComplaintLine:
    """A complaint about the commission's decisions, as the next session's minutes list it
    (the caller reads it from the appeals package, which this one does not import)."""

    number: str
    registered_on: dt.date
    nomination_id: int  # the complainant is not named: the minutes are read beyond the case


@dataclasses.dataclass(frozen=True)
class Quorum:
    """Members serving on the day, how many vote, how many must be present, how many are."""

    members: list[CommissionMember]
    total: int
    needed: int | None  # None when no policy is in force on the day
    present: int


def quorum(
    session: Session, sitting: CommissionSession, taken: list[Attendance] | None = None
) -> Quorum:
    """Count the quorum of a sitting under the policy in force on its day; ``taken``: its
    attendance when the caller has read it already."""
    members = policy.members_on(session, sitting.commission_id, sitting.held_on)
    if taken is None:
        taken = sittings.attendance_of(session, sitting.id)
    commission = sitting.commission
    # Once the session is open, the attendance recorded then is the record of who served;
    # a secretary who does not vote under the rules counts for neither side of the quorum.
    serving = [a.commission_member for a in taken] if taken else members
    total = sum(1 for m in serving if sittings.votes(commission, m))
    try:
        rule = policy.policy_in_force(session, commission.unit_id, sitting.held_on)
    except DomainError:
        needed = None
    else:
        needed = sittings.quorum_needed(total, rule.quorum_numerator, rule.quorum_denominator)
    present = sum(1 for a in taken if a.present and sittings.votes(commission, a.commission_member))
    return Quorum(members=members, total=total, needed=needed, present=present)


def users(session: Session, ids: Iterable[int | None]) -> dict[int, accounts.User]:
    """Return the users with the given ids by id (None and repeats are skipped)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    found = session.scalars(select(accounts.User).where(accounts.User.id.in_(wanted)))
    return {u.id: u for u in found}


def outcome_reason(raw: str | None, gettext: Callable[..., str]) -> str:
    """Translate an outcome reason kept as JSON {"msg": msgid, "params": {...}}."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
        return gettext(data["msg"], **data.get("params", {}))
    except (ValueError, KeyError, TypeError):
        return raw


def compose(
    session: Session,
    sitting: CommissionSession,
    lang: Language,
    complaints: Iterable[ComplaintLine] = (),
) -> list[Block]:
    """Compose the minutes of a closed session in one language, as blocks; ``complaints``: the
    complaints about the commission's decisions filed since its previous session."""
    _ = lang  # literal msgids stay in _() calls (not in f-strings) so extraction finds them
    commission = sitting.commission
    taken = sittings.attendance_of(session, sitting.id)
    present = [a.commission_member for a in taken if a.present]
    absent = [a.commission_member for a in taken if not a.present]
    q = quorum(session, sitting)
    chairing = sittings.presiding(commission, present)
    people = users(session, (i.nomination.nominator_id for i in sitting.items))

    def named(record, field: str) -> str:
        return bilingual.in_language(record, field, lang.code)

    def role(m: CommissionMember) -> str:
        return lang(ROLE_MSGIDS[m.role])

    def seat(m: CommissionMember) -> str:
        office = named(m, "position")
        return f"{m.user.full_name}, {role(m)}" + (f", {office}" if office else "")

    blocks = [Block("title", named(commission, "body"))] if named(commission, "body") else []
    blocks += [
        Block("title", _("MINUTES No. %(number)s", number=sitting.id)),
        Block("title", _("of the session of the %(name)s", name=named(commission, "name"))),
        Block("paragraph", _field(_("Date"), lang.date(sitting.held_on))),
        Block("paragraph", _field(_("Place"), named(sitting, "place"))),
    ]
    if sitting.on_paper:
        blocks.append(
            Block("paragraph", _("The session was held on paper; the secretary entered the votes."))
        )
    for heading, seats in ((_("Members present"), present), (_("Members absent"), absent)):
        blocks.append(Block("heading", f"{heading} ({len(seats)})"))
        blocks.append(Block("list", items=tuple(seat(m) for m in seats) or ("—",)))
    counts = _(
        "%(present)s of %(total)s members present, %(needed)s needed.",
        present=q.present,
        total=q.total,
        needed=q.needed,
    )
    met = _("Quorum met.") if sitting.quorum_met else _("No quorum.")
    if commission.secretary_votes:
        votes = _("The secretary votes.")
    else:
        votes = _("The secretary does not vote.")
    if commission.chair_stand_in == "deputy_chair":
        stand_in = _(
            "When the chair is absent, the deputy chair presides and casts the deciding vote."
        )
    else:
        stand_in = _("When the chair is absent, nobody casts a deciding vote.")
    presides = f"{chairing.user.full_name}, {role(chairing)}" if chairing else "—"
    blocks += [
        Block("heading", _("Quorum")),
        Block("paragraph", f"{counts} {met}"),
        Block("paragraph", _field(_("Rules of procedure"), f"{votes} {stand_in}")),
        Block("paragraph", _field(_("Presiding"), presides)),
    ]
    if sitting.items:
        blocks += [
            Block("heading", _("Agenda")),
            Block("list", items=tuple(_agenda_line(i, lang) for i in sitting.items)),
            Block("heading", _("Votes")),
            _votes_table(sitting.items, lang),
            Block("heading", _("Agenda and decisions")),
        ]
    for item in sitting.items:
        blocks += _item_blocks(item, people, lang)
    complaints = list(complaints)
    if complaints:
        blocks += [
            Block("heading", _("Complaints about the commission's decisions")),
            Block("list", items=tuple(_complaint_line(c, lang) for c in complaints)),
        ]
    signing = [m for m in present + absent if m.role in ("chair", "secretary")]
    if signing:
        blocks.append(Block("heading", _("Signatures")))
        blocks += [
            Block("paragraph", f"{role(m)}: ____________________ {m.user.full_name}")
            for m in signing
        ]
    return blocks


def _field(label: str, value) -> str:
    return f"{label}: {value}"


def _complaint_line(line: ComplaintLine, lang: Language) -> str:
    _ = lang
    return _(
        "Complaint No. %(number)s of %(date)s about the decision on nomination No. %(nomination)s",
        number=without_sign(line.number),
        date=lang.date(line.registered_on, "locative"),
        nomination=line.nomination_id,
    )


def _agenda_line(item, lang: Language) -> str:
    _ = lang
    n = item.nomination
    line = f"{item.position}. {n.recipient}"
    if n.member:
        line += ", " + _("certificate No. %(number)s", number=without_sign(n.member.certificate_no))
    if n.initiative:
        line += ", " + _("sober-settlement initiative “%(title)s”", title=n.initiative.title)
    return line


def _votes_table(items, lang: Language) -> Block:
    _ = lang
    header = (
        "№",
        _("Recipient"),
        _("Votes in favour"),
        _("Votes against"),
        _("Abstained"),
        _("Decision"),
    )
    rows = [
        (
            str(item.position),
            item.nomination.recipient,
            str(item.votes_for or 0),
            str(item.votes_against or 0),
            str(item.abstained or 0),
            lang(OUTCOME_MSGIDS[item.outcome]) if item.outcome else "—",
        )
        for item in items
    ]
    return Block("table", rows=(header, *rows))


def _item_blocks(item, people: dict[int, accounts.User], lang: Language) -> list[Block]:
    _ = lang
    n = item.nomination
    nominator = people[n.nominator_id].full_name if n.nominator_id in people else "—"
    form = _field(_("Form of reward"), lang(FORM_MSGIDS[n.form]))
    if n.amount_tiyn:
        form += "; " + _field(_("Amount"), format_tiyn(n.amount_tiyn))
    tally = "; ".join(
        _field(label, count)
        for label, count in (
            (_("Votes in favour"), item.votes_for or 0),
            (_("Votes against"), item.votes_against or 0),
            (_("Abstained"), item.abstained or 0),
        )
    )
    lines = [
        _field(_("Nominated by"), nominator),
        form,
        _field(_("Votes"), tally),
    ]
    if item.declarations:
        declared = "; ".join(
            f"{d.commission_member.user.full_name} ({d.reason})" for d in item.declarations
        )
        lines.append(_field(_("Conflicts of interest declared"), declared))
    recused = [
        f"{v.commission_member.user.full_name} ({_recusal(v.reason, lang)})"
        for v in item.votes
        if v.choice == "recused"
    ]
    lines.append(_field(_("Recusals"), "; ".join(recused) or "—"))
    decision = lang(OUTCOME_MSGIDS[item.outcome]) if item.outcome else "—"
    lines.append(_field(_("Decision"), decision))
    if item.outcome_reason:
        lines.append(_field(_("Reason"), outcome_reason(item.outcome_reason, lang.gettext)))
    return [
        Block("subheading", _agenda_line(item, lang)),
        *(Block("paragraph", line) for line in lines),
    ]


def _recusal(reason: str | None, lang: Language) -> str:
    # An automatic recusal's reason is a code; a member's own reason is shown as typed.
    return lang(RECUSAL_MSGIDS[reason]) if reason in RECUSAL_MSGIDS else (reason or "")


# ---- frozen when final: the minutes' texts, the akimat's act, the signed scan ----------------


def minutes_hash(text_kk: str, text_ru: str) -> str:
    """Return the SHA-256 of the two texts of the minutes."""
    return hashlib.sha256(f"{text_kk}\n\x1e\n{text_ru}".encode()).hexdigest()


def finalize_minutes(
    session: Session,
    *,
    session_id: int,
    text_kk: str,
    text_ru: str,
    actor_id: int,
    now: dt.datetime,
) -> CommissionSession:
    """Freeze the minutes in Kazakh and Russian; their hash enters the audit chain."""
    sitting = sittings.get_session(session, session_id)
    digest = minutes_hash(text_kk, text_ru)
    sittings.take(
        session,
        sitting,
        "finalize",
        values={
            "minutes_kk": text_kk,
            "minutes_ru": text_ru,
            "minutes_hash": digest,
            "minutes_final_at": now,
        },
    )
    audit.record(
        session,
        action="minutes.final",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"sha256": digest},
    )
    return sitting


def record_act(
    session: Session, *, session_id: int, number: str, date: dt.date, actor_id: int
) -> CommissionSession:
    """Record the akimat's resolution or order that gives effect to the session's decisions.

    Only on final minutes (minutes → act → payment), and once: a second or parallel attempt
    is a 409 that changes nothing.
    """
    sitting = sittings.get_session(session, session_id)
    # Stored without the "№" the secretary may have typed: documents print exactly one.
    number = without_sign(number)
    if not number:
        raise DomainError(N_("Enter the number of the akimat's act."))
    if len(number) > 60:
        raise DomainError(N_("The number of the act is at most 60 characters."))
    if date < sitting.held_on:
        raise DomainError(N_("The act cannot predate the session."))
    sittings.take(
        session,
        sitting,
        "record_act",
        values={"act_number": number, "act_date": date},
        where=[CommissionSession.act_number.is_(None)],
        refused=Conflict(N_("The akimat's act is already recorded.")),
    )
    audit.record(
        session,
        action="session.act",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"number": number, "date": date.isoformat()},
    )
    return sitting


def attach_scan(
    session: Session, *, session_id: int, file_id: int, content: bytes, actor_id: int
) -> None:
    """Attach the signed scan of the final minutes (PDF only), once."""
    if not content.startswith(b"%PDF-"):
        raise DomainError(N_("The signed scan must be a PDF file."))
    sitting = sittings.get_session(session, session_id)
    sittings.take(
        session,
        sitting,
        "attach_scan",
        values={"scan_file_id": file_id},
        where=[CommissionSession.scan_file_id.is_(None)],
        refused=Conflict(N_("The signed scan is already attached.")),
    )
    audit.record(
        session,
        action="minutes.scan",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"file_id": file_id, "sha256": hashlib.sha256(content).hexdigest()},
    )
