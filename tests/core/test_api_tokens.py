"""Access tokens: issued by an administrator within reach, kept as a hash, narrowed on every use."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import accounts, api_tokens, places
from core.api_models import ApiToken
from core.audit import AuditEvent
from core.errors import Conflict, DomainError, Invalid, NotFound, PermissionDenied
from core.scope import Scope
from tests.conftest import audit_count, engine_of, race

pytestmark = pytest.mark.both_databases

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
REGION = "350000000"  # Karaganda region
DISTRICT = "354000000"  # Bukhar-Zhyrau district, in the region
SETTLEMENT = "354030100"  # in the district
ALMATY = "750000000"  # another region


def _unit(s, kato: str) -> int:
    return places.by_kato(s, kato).id


def _user(s, login: str) -> accounts.User:
    return accounts.find_by_login(s, login)


def _admin(s) -> accounts.User:
    return _user(s, "admin@demo.kz")


def _issue(s, *, login="coordinator@demo.kz", grants=None, days=30, name="Patrol app", actor=None):
    holder = _user(s, login)
    return api_tokens.issue(
        s,
        user_id=holder.id,
        name=name,
        grants=grants if grants is not None else [("coordinator", _unit(s, DISTRICT))],
        expires_at=NOW + dt.timedelta(days=days),
        actor_id=(actor or _admin(s)).id,
        now=NOW,
    )


def _regional_admin(s) -> accounts.User:
    national = _admin(s)
    user = accounts.create_user(
        s,
        email="regional.admin@demo.kz",
        phone=None,
        full_name="Regional Admin",
        preferred_language="ru",
        unit_id=_unit(s, REGION),
        password="regional admin password",
        actor_id=national.id,
    )
    accounts.grant_role(
        s, user_id=user.id, role="admin", unit_id=_unit(s, REGION), actor_id=national.id
    )
    return user


def test_issue_keeps_only_the_hash_and_audits_without_the_secret(app, session):
    token, secret = _issue(session, grants=[("coordinator", _unit(session, SETTLEMENT))])
    session.commit()

    assert secret.startswith(api_tokens.SECRET_PREFIX) and len(secret) >= 4 + 43
    stored = session.get(ApiToken, token.id)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:10]
    assert stored.created_by_id == _admin(session).id
    assert stored.expires_at == NOW + dt.timedelta(days=30)
    assert [(g.role, g.unit_id) for g in stored.grants] == [
        ("coordinator", _unit(session, SETTLEMENT))
    ]
    # The secret is nowhere in the database: neither in the token nor in the audit chain.
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "api_token.issue", AuditEvent.object_id == str(token.id)
        )
    ).one()
    assert event.object_type == "api_token" and event.actor_id == _admin(session).id
    assert event.data == {
        "user_id": stored.user_id,
        "grants": [["coordinator", _unit(session, SETTLEMENT)]],
        "expires_at": "2027-01-05T10:00:00+00:00",
    }
    assert secret not in event.payload and secret[10:] not in json.dumps(event.data)
    assert secret[10:20] not in stored.secret_hash
    # Two tokens never share a secret.
    _other, second = _issue(session)
    assert second != secret


def test_every_refusal_of_the_input_comes_at_once_at_its_field(app, session):
    holder = _user(session, "coordinator@demo.kz")
    with pytest.raises(Invalid) as refused:
        api_tokens.issue(
            session,
            user_id=holder.id,
            name="   ",
            grants=[],
            expires_at=NOW - dt.timedelta(seconds=1),
            actor_id=_admin(session).id,
            now=NOW,
        )
    assert {e.field for e in refused.value.errors} == {"name", "grants", "expires_at"}
    assert refused.value.status == 422
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize(
    ("grants", "held"),
    [
        ([("coordinator", DISTRICT)], True),
        ([("coordinator", SETTLEMENT)], True),  # below the held unit: narrower, allowed
        ([("coordinator", REGION)], False),  # above the held unit: wider than the account
        ([("registrar", DISTRICT)], False),  # a role the account does not hold
        ([("coordinator", ALMATY)], False),  # elsewhere
        ([("superuser", DISTRICT)], False),  # no such role
        ([("coordinator", DISTRICT), ("coordinator", REGION)], False),  # one bad grant refuses
    ],
)
def test_a_token_carries_only_roles_its_holder_holds_there_or_above(app, session, grants, held):
    pairs = [(role, _unit(session, kato)) for role, kato in grants]
    if held:
        token, _secret = _issue(session, grants=pairs)
        assert sorted((g.role, g.unit_id) for g in token.grants) == sorted(pairs)
        return
    with pytest.raises(DomainError) as refused:
        _issue(session, grants=pairs)
    assert refused.value.field == "grants" and refused.value.status == 422


@pytest.mark.parametrize(
    ("expires", "ok"),
    [
        (dt.timedelta(0), False),
        (dt.timedelta(seconds=1), True),
        (dt.timedelta(days=api_tokens.MAX_DAYS), True),
        (dt.timedelta(days=api_tokens.MAX_DAYS, seconds=1), False),
    ],
)
def test_expiry_lies_within_max_days(app, session, expires, ok):
    holder = _user(session, "coordinator@demo.kz")

    def issue():
        return api_tokens.issue(
            session,
            user_id=holder.id,
            name="x",
            grants=[("coordinator", _unit(session, DISTRICT))],
            expires_at=NOW + expires,
            actor_id=_admin(session).id,
            now=NOW,
        )

    if ok:
        assert issue()[0].expires_at == NOW + expires
    else:
        with pytest.raises(DomainError) as refused:
            issue()
        assert refused.value.field == "expires_at"


def test_inactive_or_erased_holders_get_no_token(app, session):
    holder = _user(session, "coordinator@demo.kz")
    holder.is_active = False
    session.flush()
    with pytest.raises(DomainError) as refused:
        _issue(session)
    assert refused.value.field == "user_id"
    holder.is_active = True
    holder.erased_at = NOW
    session.flush()
    with pytest.raises(DomainError):
        _issue(session)


def test_only_an_administrator_over_the_holder_issues_or_revokes(app, session):
    coordinator = _user(session, "coordinator@demo.kz")
    with pytest.raises(PermissionDenied):
        _issue(session, actor=coordinator)  # not an administrator
    regional = _regional_admin(session)
    # The regional administrator issues to the district's coordinator ...
    token, _secret = _issue(session, actor=regional)
    # ... but not to the national administrator, nor to someone of another region.
    with pytest.raises(PermissionDenied):
        _issue(
            session,
            login="admin@demo.kz",
            grants=[("admin", _unit(session, places.COUNTRY_KATO))],
            actor=regional,
        )
    national_token, _s = _issue(
        session,
        login="admin@demo.kz",
        grants=[("admin", _unit(session, REGION))],
    )
    with pytest.raises(PermissionDenied):
        api_tokens.revoke(session, token_id=national_token.id, actor_id=regional.id, now=NOW)
    with pytest.raises(PermissionDenied):
        api_tokens.revoke(session, token_id=token.id, actor_id=coordinator.id, now=NOW)
    assert session.get(ApiToken, token.id).revoked_at is None
    with pytest.raises(NotFound):
        api_tokens.issue(
            session,
            user_id=10**6,
            name="x",
            grants=[],
            expires_at=NOW + dt.timedelta(days=1),
            actor_id=regional.id,
            now=NOW,
        )


def test_authenticate_refuses_unknown_expired_revoked_and_deactivated(app, session):
    token, secret = _issue(session, days=1)
    session.commit()
    assert api_tokens.authenticate(session, secret, NOW).id == token.id
    for wrong in ("", None, "cip_", secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x" * 500):
        assert api_tokens.authenticate(session, wrong, NOW) is None
    assert api_tokens.authenticate(session, secret[4:], NOW) is None  # without the prefix
    # Expired: from its expiry on.
    expiry = NOW + dt.timedelta(days=1)
    assert api_tokens.authenticate(session, secret, expiry - dt.timedelta(seconds=1)) is not None
    assert api_tokens.authenticate(session, secret, expiry) is None
    # The holder deactivated: no token of theirs works.
    holder = _user(session, "coordinator@demo.kz")
    holder.is_active = False
    session.flush()
    assert api_tokens.authenticate(session, secret, NOW) is None
    holder.is_active = True
    session.flush()
    # Revoked.
    api_tokens.revoke(session, token_id=token.id, actor_id=_admin(session).id, now=NOW)
    assert api_tokens.authenticate(session, secret, NOW) is None


def test_a_lost_role_narrows_the_token_at_once(app, session):
    admin = _admin(session)
    coordinator = _user(session, "coordinator@demo.kz")
    accounts.grant_role(
        session,
        user_id=coordinator.id,
        role="registrar",
        unit_id=_unit(session, DISTRICT),
        actor_id=admin.id,
    )
    district = _unit(session, DISTRICT)
    token, secret = _issue(
        session,
        grants=[("coordinator", _unit(session, SETTLEMENT)), ("registrar", district)],
    )
    assert api_tokens.effective_grants(session, token) == [
        ("coordinator", _unit(session, SETTLEMENT)),
        ("registrar", district),
    ]
    registrar = next(g for g in coordinator.grants if g.role == "registrar")
    accounts.revoke_grant(session, grant_id=registrar.id, actor_id=admin.id)
    assert api_tokens.effective_grants(session, token) == [
        ("coordinator", _unit(session, SETTLEMENT))
    ]
    coordinating = next(g for g in coordinator.grants if g.role == "coordinator")
    accounts.revoke_grant(session, grant_id=coordinating.id, actor_id=admin.id)
    # The token still identifies its holder, but may use nothing.
    assert api_tokens.authenticate(session, secret, NOW).id == token.id
    assert api_tokens.effective_grants(session, token) == []


def test_revoke_once_then_conflict(app, session):
    token, _secret = _issue(session)
    admin = _admin(session)
    api_tokens.revoke(session, token_id=token.id, actor_id=admin.id, now=NOW)
    with pytest.raises(Conflict) as again:
        api_tokens.revoke(session, token_id=token.id, actor_id=admin.id, now=NOW)
    assert again.value.status == 409
    stored = session.get(ApiToken, token.id)
    assert stored.revoked_at == NOW and stored.revoked_by_id == admin.id
    assert audit_count(session, "api_token.revoke", "api_token", token.id) == 1
    with pytest.raises(NotFound):
        api_tokens.revoke(session, token_id=token.id + 1000, actor_id=admin.id, now=NOW)


def test_touch_writes_at_most_once_a_minute(app, session):
    token, _secret = _issue(session)
    assert api_tokens.touch(session, token.id, NOW)
    assert not api_tokens.touch(session, token.id, NOW + dt.timedelta(seconds=59))
    assert api_tokens.touch(session, token.id, NOW + dt.timedelta(seconds=60))
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at == NOW + dt.timedelta(seconds=60)


def test_list_tokens_keeps_to_the_scope(app, session):
    mine, _s1 = _issue(session)
    theirs, _s2 = _issue(
        session,
        login="admin@demo.kz",
        grants=[("admin", _unit(session, ALMATY))],
    )
    region = [
        t.id for t, _u in api_tokens.list_tokens(session, Scope.within([_unit(session, REGION)]))
    ]
    assert region == [mine.id]
    everywhere = [t.id for t, _u in api_tokens.list_tokens(session, Scope.everywhere())]
    assert everywhere == [theirs.id, mine.id]  # newest first
    assert api_tokens.list_tokens(session, Scope.within([])) == []


def test_ten_revocations_of_one_token_revoke_it_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        token, _secret = _issue(s)
        s.commit()
        token_id, admin_id = token.id, _admin(s).id

    def revoke(i: int) -> int:
        with Session(engine) as s:
            api_tokens.revoke(
                s, token_id=token_id, actor_id=admin_id, now=NOW + dt.timedelta(seconds=i)
            )
            s.commit()
        return i

    results = race(10, revoke)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert len(losers) == 9 and all(isinstance(r, Conflict) and r.status == 409 for r in losers)
    with Session(engine) as s:
        assert audit_count(s, "api_token.revoke", "api_token", token_id) == 1
        stored = s.get(ApiToken, token_id)
        assert stored.revoked_at == NOW + dt.timedelta(seconds=winners[0])
        assert s.execute(text("SELECT count(*) FROM api_token")).scalar() == 1
