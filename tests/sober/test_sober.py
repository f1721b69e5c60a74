"""Sober settlements: declarations and status, indicators, baseline and change, initiatives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import sober
from core.audit import AuditEvent
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.scope import Scope
from incentives.sober_models import (
    IndicatorValue,
    Initiative,
    SoberDeclaration,
    SoberStatusChange,
)
from tests.factories.volunteers import unit, user

TODAY = dt.date(2026, 3, 18)
BOTAKARA = "354030100"  # Bukhar-Zhyrau district
OSAKAROVKA = "355630100"  # Osakarov district


def _coordinator(session):
    return user(session, "coordinator@demo.kz")


def _scope(session):
    return Scope.of(_coordinator(session), "coordinator")


def _declare(session, **overrides):
    values = {
        "unit_id": unit(session, BOTAKARA).id,
        "gathered_on": dt.date(2026, 2, 20),
        "attendance": 240,
        "record_reference": "Хаттама № 3, 20.02.2026",
        "record_file_id": None,
        "signatories": [
            ("Серіков Ерлан", "rural_akim"),
            ("Оспанов Арман", "police_inspector"),
            ("Ахметов Мұрат", "elders_council"),
        ],
        "outlets": [("«Береке» дүкені", dt.date(2026, 2, 21))],
        "actor_id": _coordinator(session).id,
        "scope": _scope(session),
        "today": TODAY,
    }
    values.update(overrides)
    return sober.declare(session, **values)


def _counts(session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(SoberDeclaration)),
        session.scalar(select(func.count()).select_from(SoberStatusChange)),
        session.scalar(select(func.count()).select_from(IndicatorValue)),
        session.scalar(select(func.count()).select_from(AuditEvent)),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gathered_on": None}, "Enter the date of the gathering."),
        (
            {"gathered_on": dt.date(2026, 3, 19)},
            "The date of the gathering cannot be in the future.",
        ),
        ({"attendance": 0}, "Enter how many residents attended the gathering (more than zero)."),
        ({"attendance": None}, "Enter how many residents attended the gathering (more than zero)."),
        (
            {"record_reference": " ", "record_file_id": None},
            "Give the record of the gathering: its reference or the scanned PDF.",
        ),
        ({"signatories": [("", "rural_akim")]}, "Name at least one signatory of the record."),
        ({"signatories": [("Біреу", "sheriff")]}, "Unknown role of a signatory."),
        (
            {"outlets": [("Дүкен", dt.date(2026, 4, 1))]},
            "The date the outlet stopped selling alcohol is in the future.",
        ),
        ({"unit_id": None}, "Choose a settlement (a village or a town)."),
    ],
)
def test_declare_refuses_bad_input_and_changes_nothing(app, session, overrides, message):
    before = _counts(session)
    with pytest.raises(DomainError) as caught:
        _declare(session, **overrides)
    assert caught.value.message == message
    session.rollback()
    assert _counts(session) == before


def test_declare_outside_the_jurisdiction_is_refused(app, session):
    with pytest.raises(PermissionDenied):
        _declare(session, unit_id=unit(session, OSAKAROVKA).id)


def test_declare_confirm_revoke_keeps_the_full_history(app, session):
    declaration = _declare(session)
    assert declaration.status == "declared"
    with pytest.raises(Conflict):
        _declare(session)  # one live declaration per settlement
    coordinator = _coordinator(session)
    sober.confirm(
        session, declaration_id=declaration.id, actor_id=coordinator.id, scope=_scope(session)
    )
    with pytest.raises(DomainError, match="reason"):
        sober.revoke(
            session,
            declaration_id=declaration.id,
            reason="  ",
            actor_id=coordinator.id,
            scope=_scope(session),
        )
    sober.revoke(
        session,
        declaration_id=declaration.id,
        reason="Дүкен қайта сата бастады",
        actor_id=coordinator.id,
        scope=_scope(session),
    )
    session.commit()
    before = _counts(session)
    with pytest.raises(Conflict) as caught:
        sober.confirm(
            session,
            declaration_id=declaration.id,
            actor_id=coordinator.id,
            scope=_scope(session),
        )
    assert "revoked status cannot be confirmed" in caught.value.message
    session.rollback()
    assert _counts(session) == before
    session.expire_all()
    found = session.get(SoberDeclaration, declaration.id)
    assert found.status == "revoked" and found.revoke_reason == "Дүкен қайта сата бастады"
    assert [(h.from_status, h.to_status) for h in found.history] == [
        (None, "declared"),
        ("declared", "confirmed"),
        ("confirmed", "revoked"),
    ]
    assert all(h.actor_id == coordinator.id and h.at for h in found.history)
    assert found.history[-1].reason == "Дүкен қайта сата бастады"
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "sober_declaration")
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == ["sober.declare", "sober.confirm", "sober.revoke"]
    # After a revocation the community may declare again.
    again = _declare(session, gathered_on=dt.date(2026, 3, 10))
    assert again.id != declaration.id


def test_other_district_coordinator_cannot_see_the_declaration(app, session):
    declaration = _declare(session)
    with pytest.raises(NotFound):
        sober.confirm(
            session,
            declaration_id=declaration.id,
            actor_id=_coordinator(session).id,
            scope=Scope.within([unit(session, "355600000").id]),
        )


def test_store_record_pdf_accepts_only_pdf(app, session):
    owner = _coordinator(session).id
    with pytest.raises(DomainError, match="PDF"):
        sober.store_record_pdf(session, filename="x.pdf", content=b"MZ...", owner_id=owner)
    with pytest.raises(DomainError, match="larger"):
        sober.store_record_pdf(
            session, filename="x.pdf", content=b"%PDF-" + b"0" * (6 * 1024**2), owner_id=owner
        )
    stored = sober.store_record_pdf(
        session, filename="хаттама.pdf", content=b"%PDF-1.4\n%%EOF", owner_id=owner
    )
    assert stored.content_type == "application/pdf"
    declaration = _declare(session, record_reference=None, record_file_id=stored.id)
    assert declaration.record_file_id == stored.id


def _record(session, **overrides):
    values = {
        "unit_id": unit(session, BOTAKARA).id,
        "kind": "alcohol_crimes",
        "year": 2025,
        "quarter": 4,
        "value": 3,
        "actor_id": _coordinator(session).id,
        "scope": _scope(session),
        "today": TODAY,
    }
    values.update(overrides)
    return sober.record_indicator(session, **values)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"value": -1}, "The value cannot be negative."),
        ({"year": 2026, "quarter": 2}, "A value cannot be recorded for a future quarter."),
        ({"year": 2027, "quarter": 1}, "A value cannot be recorded for a future quarter."),
        ({"quarter": 5}, "Choose the year (%(first)s or later) and the quarter (1–4)."),
        ({"kind": "weather"}, "Unknown kind of indicator."),
        ({"value": 1.5}, "The value must be a whole number."),
    ],
)
def test_record_indicator_refuses_bad_input(app, session, overrides, message):
    before = _counts(session)
    with pytest.raises(DomainError) as caught:
        _record(session, **overrides)
    assert caught.value.message == message
    session.rollback()
    assert _counts(session) == before


def test_record_indicator_current_quarter_allowed_duplicate_refused(app, session):
    _record(session, year=2026, quarter=1, value=0)  # the current quarter is not in the future
    _record(session)
    session.commit()
    before = _counts(session)
    with pytest.raises(Conflict) as caught:
        _record(session, value=7)
    assert caught.value.params == {"year": 2025, "quarter": 4}
    session.rollback()
    assert _counts(session) == before
    assert (
        session.scalar(
            select(IndicatorValue.value).where(
                IndicatorValue.year == 2025, IndicatorValue.quarter == 4
            )
        )
        == 3
    )


def test_quarter_helpers():
    assert sober.quarter_of(dt.date(2026, 3, 31)) == (2026, 1)
    assert sober.quarter_of(dt.date(2026, 4, 1)) == (2026, 2)
    assert sober.shift_quarter((2026, 1), -1) == (2025, 4)
    assert sober.shift_quarter((2025, 4), 5) == (2027, 1)
    assert len(sober.quarters_between((2021, 3), (2026, 2))) == 20


def test_baseline_and_percent_change():
    declared = dt.date(2025, 5, 10)  # 2025 Q2
    values = {}
    # Five years before: 2020 Q2 .. 2025 Q1, four a quarter; older figures are ignored.
    for q in sober.quarters_between((2020, 2), (2025, 1)):
        values[q] = 4
    values[(2019, 1)] = 100
    values[(2025, 2)] = 50  # the quarter of the declaration is on neither side
    for q in sober.quarters_between((2025, 3), (2026, 2)):
        values[q] = 3
    t = sober.trend(values, declared)
    assert t.baseline == Decimal("4.00") and t.after == Decimal("3.00")
    assert t.change_pct == Decimal("-25.0")
    assert (t.baseline_quarters, t.after_quarters) == (20, 4)


def test_baseline_needs_three_years():
    declared = dt.date(2025, 5, 10)
    short = {q: 5 for q in sober.quarters_between((2023, 1), (2025, 1))}  # 9 quarters
    short[(2025, 3)] = 1
    t = sober.trend(short, declared)
    assert t.baseline is None and t.change_pct is None and t.after == Decimal("1.00")
    three = {q: 6 for q in sober.quarters_between((2022, 2), (2025, 1))}  # 12 quarters
    three[(2025, 3)] = 2
    three[(2025, 4)] = 1
    assert sober.trend(three, declared).change_pct == Decimal("-75.0")


def test_percent_change_edges_and_district_sum():
    assert sober.percent_change(Decimal(0), Decimal(2)) is None
    assert sober.percent_change(Decimal(3), Decimal(4)) == Decimal("33.3")
    declared = dt.date(2025, 5, 10)
    a = {q: 4 for q in sober.quarters_between((2021, 1), (2025, 1))}
    a[(2025, 3)] = 2
    b = {q: 6 for q in sober.quarters_between((2021, 1), (2025, 1))}
    b[(2025, 3)] = 6
    no_baseline = {(2025, 3): 9}
    area = sober.combined_trend([(a, declared), (b, declared), (no_baseline, declared)])
    # (2 + 6) against (4 + 6): -20 %; the settlement without a baseline is left out.
    assert area.baseline == Decimal("10.00") and area.after == Decimal("8.00")
    assert area.change_pct == Decimal("-20.0")


def test_import_rows_reports_bad_rows_and_is_idempotent(app, session):
    coordinator = _coordinator(session)
    rows = [
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "2025", "quarter": "3", "value": "2"},
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "2025", "quarter": "Q4", "value": "1"},
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "2025", "quarter": "4", "value": "-1"},
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "2026", "quarter": "3", "value": "1"},
        {
            "kato": OSAKAROVKA,
            "kind": "alcohol_crimes",
            "year": "2025",
            "quarter": "3",
            "value": "1",
        },
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "2025", "quarter": "3", "value": "9"},
        {"kato": BOTAKARA, "kind": "=cmd", "year": "2025", "quarter": "3", "value": "1"},
        {"kato": BOTAKARA, "kind": "alcohol_crimes", "year": "x", "quarter": "3", "value": "1"},
    ]
    report = sober.import_indicator_rows(
        session, rows, actor_id=coordinator.id, scope=_scope(session), today=TODAY
    )
    assert report.imported == 2 and report.duplicates == 1
    assert [p.number for p in report.problems] == [4, 5, 6, 7, 8, 9]
    again = sober.import_indicator_rows(
        session, rows[:2], actor_id=coordinator.id, scope=_scope(session), today=TODAY
    )
    assert again.imported == 0 and again.duplicates == 2


def _initiative(session, **overrides):
    volunteer = user(session, "volunteer@demo.kz")
    values = {
        "unit_id": unit(session, BOTAKARA).id,
        "title": "Ішімдіксіз той",
        "description": "Тойлар алкогольсіз өтеді.",
        "measures": "Кездесулер",
        "team": "Белсенділер",
        "requested_incentive": "Алғыс хат",
        "proposer_role": "activist",
        "actor_id": volunteer.id,
        "home_unit_id": volunteer.unit_id,
    }
    values.update(overrides)
    return sober.submit_initiative(session, **values)


def test_initiative_submit_review_and_comment(app, session):
    with pytest.raises(PermissionDenied):
        _initiative(session, unit_id=unit(session, OSAKAROVKA).id)
    with pytest.raises(DomainError, match="title"):
        _initiative(session, title=" ")
    initiative = _initiative(session)
    coordinator = _coordinator(session)
    scope = _scope(session)
    with pytest.raises(Conflict):
        sober.review_initiative(
            session,
            initiative_id=initiative.id,
            to_status="supported",
            comment=None,
            actor_id=coordinator.id,
            scope=scope,
        )
    sober.review_initiative(
        session,
        initiative_id=initiative.id,
        to_status="under_review",
        comment="Қарап жатырмыз",
        actor_id=coordinator.id,
        scope=scope,
    )
    with pytest.raises(DomainError, match="declined"):
        sober.review_initiative(
            session,
            initiative_id=initiative.id,
            to_status="declined",
            comment="",
            actor_id=coordinator.id,
            scope=scope,
        )
    sober.comment_initiative(
        session,
        initiative_id=initiative.id,
        body="Рақмет!",
        actor_id=initiative.submitted_by_id,
        scope=Scope.within([]),
    )
    sober.review_initiative(
        session,
        initiative_id=initiative.id,
        to_status="supported",
        comment=None,
        actor_id=coordinator.id,
        scope=scope,
    )
    session.commit()
    session.expire_all()
    found = session.get(Initiative, initiative.id)
    assert found.status == "supported" and found.decided_by_id == coordinator.id
    assert [(c.to_status, c.body) for c in found.comments] == [
        ("under_review", "Қарап жатырмыз"),
        (None, "Рақмет!"),
        ("supported", ""),
    ]
    assert sober.can_be_nominated(found)
    with pytest.raises(NotFound):
        sober.comment_initiative(
            session,
            initiative_id=initiative.id,
            body="?",
            actor_id=user(session, "deputy@demo.kz").id,
            scope=Scope.within([]),
        )


def test_indicator_kinds_are_data_the_admin_extends(app, session):
    codes = [k.code for k in sober.indicator_kinds(session)]
    assert codes == ["alcohol_crimes", "public_drinking", "domestic_violence_calls"]
    admin = user(session, "admin@demo.kz")
    with pytest.raises(DomainError):
        sober.save_indicator_kind(
            session,
            code="Bad code",
            name_kk="a",
            name_ru="b",
            name_en="c",
            active=True,
            position=1,
            actor_id=admin.id,
        )
    sober.save_indicator_kind(
        session,
        code="hooliganism",
        name_kk="Бұзақылық",
        name_ru="Хулиганство",
        name_en="Hooliganism",
        active=True,
        position=40,
        actor_id=admin.id,
    )
    assert sober.indicator_kinds(session)[-1].name("ru") == "Хулиганство"
