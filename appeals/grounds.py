"""The legal grounds an act may rest on: bundled reference data the administrator edits."""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import ACT_KINDS, LegalGround
from core import audit
from core.errors import N_, DomainError, NotFound

# The bundled file (appeals/data/grounds.csv) is a starting point [I]: an act cites the law in
# force, the 2025 law on prevention (No. 245-VIII), and names where a rule came from in the
# repealed 2004 law (No. 590-II) until the akimat's lawyer fills in the new article (save_ground).
MAX_TEXT = 2000


def load_grounds(session: Session) -> int:
    """Load the bundled grounds; codes already present are kept as edited. Return how many."""
    path = resources.files("appeals").joinpath("data/grounds.csv")
    added = 0
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if session.get(LegalGround, row["code"]) is None:
                session.add(
                    LegalGround(
                        code=row["code"],
                        act_kind=row["act_kind"],
                        article=row["article"],
                        text_kk=row["text_kk"],
                        text_ru=row["text_ru"],
                        text_en=row["text_en"],
                        position=int(row["position"]),
                        active=True,
                    )
                )
                added += 1
    session.flush()
    return added


def grounds_for(session: Session, act_kind: str, *, active_only: bool = True) -> list[LegalGround]:
    """Return the grounds of an act kind in their order (the active ones unless told)."""
    stmt = select(LegalGround).where(LegalGround.act_kind == act_kind)
    if active_only:
        stmt = stmt.where(LegalGround.active.is_(True))
    return list(session.scalars(stmt.order_by(LegalGround.position, LegalGround.code)))


def check_codes(session: Session, act_kind: str, codes: list[str]) -> list[str]:
    """Return ``codes`` deduplicated in order, or refuse one that is not an active ground."""
    known = {g.code for g in grounds_for(session, act_kind)}
    cleaned: list[str] = []
    for code in codes or ():
        code = (code or "").strip()
        if not code or code in cleaned:
            continue
        if code not in known:
            raise DomainError(N_("Choose the legal grounds from the list.")).at("grounds")
        cleaned.append(code)
    return cleaned


def save_ground(
    session: Session,
    *,
    code: str,
    act_kind: str,
    article: str,
    text_kk: str,
    text_ru: str,
    text_en: str,
    position: int,
    active: bool,
    actor_id: int,
) -> LegalGround:
    """Add or edit a ground (the administrator): every language's text and its article."""
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise DomainError(N_("Enter a code of at most 40 characters.")).at("code")
    if act_kind not in ACT_KINDS:
        raise DomainError(N_("Choose the kind of act.")).at("act_kind")
    article = " ".join((article or "").split())
    if not article or len(article) > 300:
        raise DomainError(N_("Name the article, in at most 300 characters.")).at("article")
    texts = {}
    for name, value in (("text_kk", text_kk), ("text_ru", text_ru), ("text_en", text_en)):
        value = (value or "").strip()
        if not value or len(value) > MAX_TEXT:
            raise DomainError(
                N_("Write the ground in every language, at most %(n)s characters."), n=MAX_TEXT
            ).at(name)
        texts[name] = value
    ground = session.get(LegalGround, code)
    created = ground is None
    if ground is None:
        ground = LegalGround(code=code)
        session.add(ground)
    elif ground.act_kind != act_kind:
        raise DomainError(N_("A ground keeps its kind of act: add a new code.")).at("act_kind")
    ground.act_kind, ground.article, ground.position = act_kind, article, int(position)
    for name, value in texts.items():
        setattr(ground, name, value)
    ground.active = bool(active)
    session.flush()
    audit.record(
        session,
        action="legal_ground.save",
        object_type="legal_ground",
        object_id=code,
        actor_id=actor_id,
        payload={
            "act_kind": act_kind,
            "article": article,
            "active": ground.active,
            "created": created,
        },
    )
    return ground


def get_ground(session: Session, code: str) -> LegalGround:
    """Return the ground or raise NotFound."""
    ground = session.get(LegalGround, code)
    if ground is None:
        raise NotFound(N_("No such legal ground."))
    return ground
