"""Issue 17 and 18's new steps fired in parallel on PostgreSQL: each has exactly one effect.

Completing a sign-up or a password reset with the right code, claiming a reveal, adding a
unit under a code, erasing a due record: ten transactions at once, one wins, the others get
a clear 4xx and nothing is done twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, places, reveals, signups
from core import password_resets as resets
from core.errors import DomainError
from tests.conftest import audit_count, engine_of, race
from tests.factories.volunteers import fields, iin_for

N = 10
CODE = 424242


def _fixed_code(monkeypatch) -> None:
    monkeypatch.setattr("core.one_time_codes.secrets.randbelow", lambda _n: CODE)


def _refused(results, winner) -> list:
    """The losers, each checked to be a domain refusal with a 4xx status."""
    losers = [r for r in results if r is not winner]
    assert len(losers) == N - 1
    assert all(isinstance(r, DomainError) and 400 <= r.status < 500 for r in losers), losers
    return losers


def _one_winner(results, won):
    winners = [r for r in results if won(r)]
    assert len(winners) == 1, results
    return winners[0]


def test_ten_completions_of_one_sign_up_create_one_account(pg_app, monkeypatch):
    _fixed_code(monkeypatch)
    engine = engine_of(pg_app)
    with Session(engine) as s:
        unit_id = places.by_kato(s, places.COUNTRY_KATO).id
        token = signups.begin_signup(
            s,
            email="race.signup@example.kz",
            phone=None,
            full_name="Жарыс Тіркелу",
            preferred_language="kk",
            unit_id=unit_id,
            password="a long enough password",
        )
        s.commit()

    def complete(_i):
        with Session(engine) as s:
            user = signups.complete_signup(s, token=token, code=str(CODE))
            s.commit()
            return user.id

    results = race(N, complete)
    _refused(results, _one_winner(results, lambda r: isinstance(r, int)))
    with Session(engine) as s:
        count = select(func.count()).select_from(accounts.User)
        assert s.scalar(count.where(accounts.User.email == "race.signup@example.kz")) == 1


def test_ten_completions_of_one_password_reset_set_it_once(pg_app, monkeypatch):
    _fixed_code(monkeypatch)
    engine = engine_of(pg_app)
    with Session(engine) as s:
        user_id = accounts.find_by_login(s, "volunteer@demo.kz").id
        token = resets.begin_reset(s, email="volunteer@demo.kz")
        s.commit()

    def complete(i):
        with Session(engine) as s:
            resets.complete_reset(
                s, token=token, code=str(CODE), new_password=f"new password number {i:02d}"
            )
            s.commit()
            return "reset"

    results = race(N, complete)
    _refused(results, _one_winner(results, lambda r: r == "reset"))
    with Session(engine) as s:
        assert audit_count(s, "auth.password_reset", "user", user_id) == 1


def test_ten_claims_of_one_reveal_show_it_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        user_id = accounts.find_by_login(s, "deputy@demo.kz").id
        grant = {"user_id": user_id, "object_type": "member", "object_id": 1, "field": "iin"}
        token = reveals.grant(s, **grant)
        s.commit()

    def claim(_i):
        with Session(engine) as s:
            shown = reveals.claim(s, token=token, **grant)
            s.commit()
            return shown

    results = race(N, claim)
    losers = _refused(results, _one_winner(results, lambda r: r is True))
    assert all(isinstance(r, reveals.AlreadyShown) for r in losers)


def test_ten_admins_adding_one_code_add_one_unit(pg_app):
    from core import place_admin

    engine = engine_of(pg_app)
    with Session(engine) as s:
        admin_id = accounts.find_by_login(s, "admin@demo.kz").id
        district_id = places.by_kato(s, "354000000").id

    def add(i):
        with Session(engine) as s:
            unit = place_admin.create_unit(
                s,
                parent_id=district_id,
                kato="354099000",
                level="rural_okrug",
                name_kk=f"Жаңа округ {i}",
                name_ru=f"Новый округ {i}",
                actor_id=admin_id,
            )
            s.commit()
            return unit.id

    results = race(N, add)
    winner = _one_winner(results, lambda r: isinstance(r, int))
    assert all(r.status == 409 for r in _refused(results, winner))
    with Session(engine) as s:
        assert audit_count(s, "admin_unit.create", "admin_unit", winner) == 1


def test_ten_parallel_retention_runs_erase_a_due_record_once(pg_app):
    from volunteers import enrolment, erasure
    from volunteers.models import Application

    engine = engine_of(pg_app)
    with Session(engine) as s:
        coordinator_id = accounts.find_by_login(s, "coordinator@demo.kz").id
        refused = enrolment.submit_application(s, **fields(s, iin=iin_for(7291)))
        enrolment.take_check(s, application_id=refused.id, actor_id=coordinator_id)
        enrolment.record_check(
            s, application_id=refused.id, passed=False, reason="x", actor_id=coordinator_id
        )
        refused.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
        application_id = refused.id
        s.commit()

    def run(_i):
        with Session(engine) as s:
            batch = erasure.erase_due(s)
            s.commit()
            return batch.applications

    results = race(N, run)
    assert sum(r for r in results if isinstance(r, int)) == 1, results
    assert all(isinstance(r, int) for r in results), results
    with Session(engine) as s:
        assert s.get(Application, application_id).erased_at is not None
        assert audit_count(s, "application.erase", "application", application_id) == 1
