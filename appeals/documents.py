"""Documents of hearings and complaints: the notice, the act with how to appeal, the decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from appeals import queries, settings
from appeals.complaints import POLICE_ROLES
from appeals.hearings import ACT_ROLES
from appeals.models import Complaint, Hearing, LegalGround
from core import accounts, bilingual, clock, pdf_documents
from core.doc_numbers import without_sign
from core.documents import Block, Language
from core.errors import N_
from core.places import AdminUnit
from incentives import policy
from incentives.minutes import ComplaintLine, outcome_reason
from incentives.models import AgendaItem, CommissionSession
from volunteers import persons

LANGUAGES = ("kk", "ru")

# What each act decides, as the heading under the act's title ("on …").
ACT_TOPIC_MSGIDS = {
    "refuse_registration": N_("on refusing registration in the register"),
    "suspend": N_("on suspending membership in the register"),
    "expel": N_("on expelling from the register"),
    "refuse_reward": N_("on refusing a reward"),
    "defer_reward": N_("on deferring a reward"),
    "decline_initiative": N_("on refusing a sober-settlement initiative"),
}
# The decision itself, naming the person.
ACT_DECISION_MSGIDS = {
    "refuse_registration": N_("To refuse %(name)s registration in the register."),
    "suspend": N_("To suspend the membership of %(name)s in the register."),
    "expel": N_("To expel %(name)s from the register."),
    "refuse_reward": N_("To refuse the reward to %(name)s."),
    "defer_reward": N_("To defer the reward to %(name)s."),
    "decline_initiative": N_("To refuse the sober-settlement initiative of %(name)s."),
}
EXCEPTION_MSGIDS = {
    "person_waived": N_("the person asked to adopt the act without a hearing"),
    "urgency": N_("urgency to protect rights or public interests"),
    "short_term": N_("the term of the procedure is under five working days"),
}
MODE_MSGIDS = {"in_person": N_("in person"), "video": N_("by videoconference")}
# Art. 100(1): the six outcomes, as the decision states them; "granted" is the issuing body's.
OUTCOME_MSGIDS = {
    "cancel": N_("To cancel the administrative act."),
    "cancel_new_act": N_("To cancel the administrative act and to adopt a new one."),
    "perform_action": N_("To oblige the issuing body to perform the action."),
    "unsatisfied": N_("To leave the complaint unsatisfied."),
    "returned": N_("To return the case to the issuing body to fix what is stated below."),
    "unconsidered": N_("To leave the complaint unconsidered."),
    "granted": N_("The issuing body granted the complaint in full."),
}


def _field(label: str, value) -> str:
    return f"{label}: {value}"


def issuing_body(session: Session, unit_id: int, code: str) -> str:
    """Name the body that adopts the acts of a unit: its commission's akimat, as its records
    name it, else the akimat named from the unit's names."""
    commission = policy.commission_for(session, unit_id)
    if commission is not None and bilingual.in_language(commission, "body", code):
        return bilingual.in_language(commission, "body", code)
    unit = session.get(AdminUnit, unit_id)
    kk, ru = bilingual.akimat_names(unit.name_kk, unit.name_ru)
    return ru if code == "ru" else kk


def _grounds(session: Session, codes: list[str] | None) -> list[LegalGround]:
    codes = list(codes or ())
    if not codes:
        return []
    found = {
        g.code: g for g in session.scalars(select(LegalGround).where(LegalGround.code.in_(codes)))
    }
    return [found[c] for c in codes if c in found]


def _ground_items(session: Session, hearing: Hearing, lang: Language) -> list[Block]:
    # The article references are kept in Russian (legal_ground.article): the Kazakh document,
    # wholly in Kazakh, states the grounds' texts only.
    found = _grounds(session, hearing.grounds)
    if lang.code == "ru":
        items = tuple(f"{g.text_ru} ({g.article})" for g in found)
    else:
        items = tuple(g.text(lang.code) for g in found)
    blocks = [Block("list", items=items)] if items else []
    if (hearing.grounds_text or "").strip():
        blocks.append(Block("paragraph", hearing.grounds_text.strip()))
    return blocks


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(accounts.User, user_id) if user_id else None
    return user.full_name if user is not None else ""


def _p(text: str) -> Block:
    return Block("paragraph", text)


def _signature(lang: Language, name: str) -> Block:
    _ = lang
    label = _("Official")
    return _p(f"{label}: ____________________ {name}".rstrip())


def _ways(lang: Language, body: str, case_link: str, *, orally: bool) -> Block:
    """How to send an objection or a complaint: the portal's case page, paper, in person."""
    _ = lang
    ways = [_("on the portal: %(link)s", link=case_link)] if case_link else []
    ways.append(_("on paper, to the %(body)s", body=body))
    if orally:
        ways.append(_("orally, at the reception of the %(body)s", body=body))
    return Block("list", items=tuple(ways))


def notice_blocks(
    session: Session, hearing: Hearing, lang: Language, *, case_link: str = ""
) -> list[Block]:
    """Compose the notice of a preliminary decision (Art. 73): what the person receives."""
    _ = lang
    body = issuing_body(session, hearing.unit_id, lang.code)
    blocks = [
        Block("title", body),
        Block("title", _("NOTICE OF A PRELIMINARY DECISION No. %(number)s", number=hearing.id)),
        Block("title", lang(ACT_TOPIC_MSGIDS[hearing.act_kind])),
    ]
    if hearing.notified_at is not None:
        blocks.append(_p(_field(_("Date"), lang.date(clock.local_date(hearing.notified_at)))))
    blocks += [
        _p(_field(_("Addressee"), hearing.person_name)),
        _p(_("The %(body)s intends to adopt the following administrative act:", body=body)),
        _p(lang(ACT_DECISION_MSGIDS[hearing.act_kind], name=hearing.person_name)),
        Block("heading", _("Grounds")),
        *_ground_items(session, hearing, lang),
        Block("heading", _("Your right to be heard (Art. 73 of the APPK)")),
    ]
    if hearing.objection_due_on is not None:
        due = lang.date(hearing.objection_due_on)
        blocks += [
            _p(_("You may object in writing or orally until %(date)s inclusive.", date=due)),
            _p(_("By the same date you may ask for an oral hearing, in person or by video.")),
        ]
    else:
        blocks.append(
            _p(
                _(
                    "You may object in writing or orally, and ask for an oral hearing, within "
                    "two working days of receiving this notice."
                )
            )
        )
    blocks += [
        _p(_("How to object or ask for an oral hearing:")),
        _ways(lang, body, case_link, orally=True),
    ]
    if hearing.earliest_act_on is not None:
        earliest = lang.date(hearing.earliest_act_on)
        blocks.append(_p(_("The act will not be adopted before %(date)s.", date=earliest)))
    blocks += [
        _p(_("If you do not object, the decision may be adopted after that date all the same.")),
        _signature(lang, _name(session, hearing.drafted_by_id)),
    ]
    return blocks


def _hearing_account(session: Session, hearing: Hearing, lang: Language) -> list[Block]:
    """Whether a hearing was held, why not, and how the objections were considered."""
    _ = lang
    blocks = [Block("heading", _("Hearing"))]
    if hearing.exception_kind:
        why = lang(EXCEPTION_MSGIDS[hearing.exception_kind])
        reason = (hearing.exception_reason or "").strip()
        blocks.append(
            _p(_("No hearing was held: %(why)s. Reason: %(reason)s", why=why, reason=reason))
        )
    if hearing.notified_at is not None:
        sent = lang.date(clock.local_date(hearing.notified_at))
        blocks.append(
            _p(_("The preliminary decision was sent to the person on %(date)s.", date=sent))
        )
    protocol = hearing.protocol
    if protocol is not None:
        text = _(
            "An oral hearing was held on %(date)s %(mode)s; the protocol was signed on %(signed)s.",
            date=lang.date(clock.local_date(protocol.held_at)),
            mode=lang(MODE_MSGIDS[protocol.mode]),
            signed=lang.date(protocol.signed_on),
        )
        blocks.append(_p(text))
        if protocol.remarks:
            blocks.append(_p(_("The person made remarks on the protocol.")))
    objections = list(hearing.objections)
    if objections:
        text = _(
            "Objections received: %(count)s (after the term: %(late)s). They were considered "
            "in the reasons above.",
            count=len(objections),
            late=sum(1 for o in objections if o.late),
        )
        blocks.append(_p(text))
    elif hearing.notified_at is not None:
        blocks.append(_p(_("No objections were received.")))
    return blocks


def _named_review(session: Session, unit_id: int, hearing: Hearing | None):
    """The review body as the act named it: the adopted act's record, else today's setting."""
    if hearing is None or hearing.appeal_notice_given is None:
        return settings.review_body(session, unit_id)
    if not hearing.appeal_notice_given:
        return None
    return settings.ReviewBody(
        unit_id=None,
        reviewer_id=None,
        name_kk=hearing.review_body_kk or "",
        name_ru=hearing.review_body_ru or "",
        how_kk=hearing.review_how_kk or "",
        how_ru=hearing.review_how_ru or "",
    )


def appeal_notice(
    session: Session,
    unit_id: int,
    body: str,
    lang: Language,
    *,
    case_link: str = "",
    hearing: Hearing | None = None,
) -> list[Block]:
    """The act's notice of how to appeal (Arts. 79-80, 92): the review body, the term, how.

    For an adopted ``hearing`` what the act said on adoption, not today's setting.
    """
    _ = lang
    review = _named_review(session, unit_id, hearing)
    blocks = [Block("heading", _("How to appeal"))]
    if review is None:
        # Art. 92(1-1): an act that does not say where to complain may be appealed for 6 months.
        text = _(
            "This act may be appealed within six months of the day you learned of it "
            "(Art. 92(1-1) of the APPK): the body that reviews complaints is not named."
        )
        return [*blocks, _p(text)]
    reviewer = review.name_ru if lang.code == "ru" else review.name_kk
    text = _(
        "This act may be appealed to %(reviewer)s within three months of the day you learned "
        "of it (Art. 92(1) of the APPK).",
        reviewer=reviewer,
    )
    forwarding = _(
        "It forwards the complaint to the reviewing body within three working days, unless it "
        "grants it in full (Art. 91(4) of the APPK)."
    )
    blocks += [
        _p(text),
        _p(_("File the complaint with the body that adopted the act:")),
        _ways(lang, body, case_link, orally=False),
        _p(forwarding),
    ]
    how = ((review.how_ru if lang.code == "ru" else review.how_kk) or "").strip()
    return [*blocks, _p(how)] if how else blocks


def act_blocks(
    session: Session, hearing: Hearing, lang: Language, *, case_link: str = ""
) -> list[Block]:
    """Compose the adopted administrative act (Arts. 79-80) with its appeal notice."""
    _ = lang
    body = issuing_body(session, hearing.unit_id, lang.code)
    number = without_sign(hearing.act_number)
    blocks = [
        Block("title", body),
        Block("title", _("ADMINISTRATIVE ACT No. %(number)s", number=number)),
        Block("title", lang(ACT_TOPIC_MSGIDS[hearing.act_kind])),
    ]
    if hearing.act_on is not None:
        blocks.append(_p(_field(_("Date"), lang.date(hearing.act_on))))
    blocks += [
        _p(_field(_("Concerning"), hearing.person_name)),
        Block("heading", _("Decision")),
        _p(lang(ACT_DECISION_MSGIDS[hearing.act_kind], name=hearing.person_name)),
        Block("heading", _("Reasons")),
        *_ground_items(session, hearing, lang),
    ]
    if hearing.sitting_id is not None:
        # The commission's decision, worded in the document's language; then the secretary's
        # statement of how the objections were considered.
        blocks += _commission_decision(session, hearing, lang)
        reasons = hearing.stated_reasons
    else:
        reasons = hearing.act_reasons
    if (reasons or "").strip():
        blocks.append(_p(reasons.strip()))
    blocks += _hearing_account(session, hearing, lang)
    blocks.append(Block("heading", _("Execution")))
    if (hearing.execution_exception or "").strip():
        text = _(
            "A complaint does not suspend the execution of this act (Art. 96 of the APPK), "
            "because: %(reasons)s",
            reasons=hearing.execution_exception.strip(),
        )
    else:
        text = _(
            "Filing a complaint suspends the execution of this act until it is decided "
            "(Art. 96 of the APPK)."
        )
    blocks.append(_p(text))
    blocks += appeal_notice(
        session, hearing.unit_id, body, lang, case_link=case_link, hearing=hearing
    )
    blocks.append(_signature(lang, _name(session, hearing.adopted_by_id)))
    return blocks


def _commission_decision(session: Session, hearing: Hearing, lang: Language) -> list[Block]:
    _ = lang
    item = session.scalar(
        select(AgendaItem).where(
            AgendaItem.session_id == hearing.sitting_id,
            AgendaItem.nomination_id == hearing.subject_id,
        )
    )
    if item is None:
        return []
    sitting = session.get(CommissionSession, hearing.sitting_id)
    votes = (("yes", item.votes_for), ("no", item.votes_against), ("abstained", item.abstained))
    count = {key: "-" if value is None else value for key, value in votes}
    blocks = [
        _p(
            _(
                "The commission decided at its sitting of %(date)s: for %(yes)s, against "
                "%(no)s, abstained %(abstained)s.",
                date=lang.date(sitting.held_on) if sitting.held_on else "",
                **count,
            )
        )
    ]
    reason = outcome_reason(item.outcome_reason, lang)
    if reason:
        blocks.append(_p(_field(_("Reason"), reason)))
    return blocks


def _review_name(session: Session, complaint: Complaint, code: str) -> str:
    """The body the complaint was forwarded to (its unit's akimat or the named official); a
    complaint not forwarded: the body the setting names."""
    review = settings.review_body(session, complaint.unit_id)
    sent_to = (complaint.review_unit_id, complaint.reviewer_id)
    if review is not None and sent_to in ((review.unit_id, review.reviewer_id), (None, None)):
        return review.name_ru if code == "ru" else review.name_kk
    if complaint.review_unit_id is not None:
        return issuing_body(session, complaint.review_unit_id, code)
    return _name(session, complaint.reviewer_id)


def decision_blocks(session: Session, complaint: Complaint, lang: Language) -> list[Block]:
    """Compose the decision on a complaint (Art. 100) with the notice of the court term."""
    _ = lang
    outcome = "granted" if complaint.status == "granted" else complaint.outcome
    if complaint.kind == "police":
        name = _("The higher police body")
    elif outcome == "granted":
        name = issuing_body(session, complaint.unit_id, lang.code)
    else:
        name = _review_name(session, complaint, lang.code)
    number = without_sign(complaint.number)
    blocks = [Block("title", name)] if name else []
    blocks.append(Block("title", _("DECISION ON COMPLAINT No. %(number)s", number=number)))
    if complaint.decided_at is not None:
        blocks.append(_p(_field(_("Date"), lang.date(clock.local_date(complaint.decided_at)))))
    blocks += [
        _p(_field(_("Complainant"), complaint.complainant_name)),
        _p(_field(_("Registered on"), lang.date(complaint.registered_on))),
        _p(_field(_("Act or inaction challenged"), complaint.act_challenged)),
        _p(_field(_("Request"), complaint.request)),
    ]
    if complaint.kind == "police":
        blocks.append(_p(_("The outcome of the police hierarchy's review, as recorded.")))
    blocks.append(Block("heading", _("Decision")))
    if outcome in OUTCOME_MSGIDS:
        blocks.append(_p(lang(OUTCOME_MSGIDS[outcome])))
    if (complaint.to_fix or "").strip():
        blocks += [Block("heading", _("What to fix")), _p(complaint.to_fix.strip())]
    if (complaint.outcome_reasons or "").strip():
        blocks += [Block("heading", _("Reasons")), _p(complaint.outcome_reasons.strip())]
    court = _(
        "You may bring a claim to court within one month of receiving this decision "
        "(Art. 136(1) of the APPK)."
    )
    blocks += [
        Block("heading", _("Right to go to court")),
        _p(court),
        _signature(lang, _name(session, complaint.decided_by_id)),
    ]
    return blocks


def _is_person(session: Session, user_id: int, person_user_id, person_key) -> bool:
    if person_user_id is not None and person_user_id == user_id:
        return True
    return person_key is not None and person_key in persons.keys_of(session, [user_id]).get(
        user_id, set()
    )


def _reviews(session: Session, complaint: Complaint, user: accounts.User) -> bool:
    """Tell whether ``user`` is the body the complaint was forwarded to (an official or a role)."""
    if complaint.reviewer_id is not None and complaint.reviewer_id == user.id:
        return True
    return complaint.review_unit_id is not None and accounts.holds(
        session, user, "reviewer", complaint.review_unit_id
    )


def _staff(session: Session, user: accounts.User, roles, unit_id: int) -> bool:
    return any(accounts.holds(session, user, role, unit_id) for role in roles)


def may_read_hearing(session: Session, hearing: Hearing, user: accounts.User) -> bool:
    """Tell whether ``user`` may read a hearing's documents: the officials of the act's kind in
    its jurisdiction, the person once notified, the body reviewing a complaint against it."""
    if not user.is_active:
        return False
    if _staff(session, user, ACT_ROLES[hearing.act_kind], hearing.unit_id):
        return True
    if hearing.status != "drafted" and _is_person(
        session, user.id, hearing.person_user_id, hearing.person_key
    ):
        return True
    against = session.scalars(select(Complaint).where(Complaint.hearing_id == hearing.id))
    return any(_reviews(session, c, user) for c in against)


def may_read_complaint(session: Session, complaint: Complaint, user: accounts.User) -> bool:
    """Tell whether ``user`` may read a complaint's decision: the complainant, the issuing body's
    officials in its jurisdiction, the body that reviews it."""
    if not user.is_active:
        return False
    if complaint.kind == "police":
        roles = POLICE_ROLES
    else:
        roles = ACT_ROLES[complaint.act_kind or "refuse_registration"]
    return (
        _staff(session, user, roles, complaint.unit_id)
        or _is_person(session, user.id, complaint.person_user_id, complaint.person_key)
        or _reviews(session, complaint, user)
    )


def pdf(blocks: list[Block], *, fonts, title: str, created: dt.datetime | None = None) -> bytes:
    """Return a document's PDF (DejaVu fonts from ``fonts``: every Kazakh letter)."""
    return pdf_documents.document_pdf(blocks, fonts=fonts, title=title, created=created)


def complaints_for_minutes(session: Session, sitting: CommissionSession) -> list[ComplaintLine]:
    """Return, as plain lines for the minutes, the complaints about the commission's decisions
    filed between its previous session's closing and its own (none before the first one)."""
    at, before = sitting.closed_at, []
    if at is not None:
        earlier = and_(CommissionSession.closed_at == at, CommissionSession.id < sitting.id)
        before = [or_(CommissionSession.closed_at < at, earlier)]
    previous = session.scalar(
        select(CommissionSession)
        .where(
            CommissionSession.commission_id == sitting.commission_id,
            CommissionSession.id != sitting.id,
            CommissionSession.closed_at.is_not(None),
            *before,
        )
        .order_by(CommissionSession.closed_at.desc(), CommissionSession.id.desc())
        .limit(1)
    )
    if previous is None:
        return []
    since = previous.closed_at
    until = at or clock.local_day_bounds(sitting.held_on)[1]  # one sitting's minutes only
    return [
        ComplaintLine(
            number=c.number,
            registered_on=c.registered_on,
            nomination_id=c.subject_id,
        )
        for c in queries.complaints_about_sitting_decisions(
            session, sitting.commission_id, since, until
        )
    ]
