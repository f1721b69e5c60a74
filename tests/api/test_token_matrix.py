"""Access tokens narrowed to one district (issue 21): the token's grants, not its holder's, decide.

The world is a copy of the IDOR matrix's (tests/portal/security/test_authz_matrix.py): the whole
demo and a district B of another region with one record of every kind, marked ``ZZFOREIGN`` and
``ZZPLACE``.
One official holds every role over both district A (Bukhar-Zhyrau, the demo's) and district B;
their tokens carry some of those roles over one district only. Each API URL of the matrix's
table naming a record of B is called with ``Authorization: Bearer <secret>``:

* a token of district A gets 403 or 404 (a problem) for every record of B, GET and POST, and a
  refused POST writes nothing (no row of any table but the kept Idempotency-Key answer and the
  audit event of the token's use); a token of B (or of the record's own person) opens each
  GET with a 200, which proves that the URL names a live record;
* lists answered to a token of A show nothing of B (no marker, no id a token of B lists), and
  the lists that have rows in both districts show some to each;
* a token with only the role ``volunteer`` gets 403 from every operation of another role, though
  its holder holds every role;
* an expired, a revoked and an unknown token get 401; a token whose holder lost the role gets 403.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from portal.security import PUBLIC, SIGNED_IN
from tests.conftest import DEMO_PASSWORD, close_app, make_app, wait_for_jobs
from tests.portal.security import test_authz_matrix as matrix
from tests.portal.security.world import table_counts

DISTRICT_A = "354000000"  # Bukhar-Zhyrau: the demo's district
BOTH = "both.districts@demo.kz"  # every role over district A and district B
LOSES = "loses.roles@demo.kz"  # every role over district B, then none
PROBLEM_TYPE = "application/problem+json"
# What an API call may add to the database whatever its answer: the answer kept for its
# Idempotency-Key (refusals too), and the audit event of the token's use (and its last use).
BOOKKEEPING = {"api_idempotency", "audit_event", "api_token"}
# Lists with records in district A and in district B: each token must get some rows. (Not
# the decisions: the demo's are the region's, above district A, and no token of A sees them.)
LISTS_OF_BOTH = {
    "api_coordination.applications",
    "api_coordination.shifts_list",
    "api_money.lines",
    "api_money.ledger_entries",
    "api_money.payouts_list",
}


class World:
    def __init__(self, app, ids, secrets, tokens, units):
        self.app = app
        self.ids = ids
        self.secrets = secrets
        self.tokens = tokens  # name -> secret
        self.units = units  # "A", "B" -> unit id


def _issue(session, login: str, grants, *, now, days: int = 30, name: str = "matrix"):
    from core import accounts, api_tokens

    user = accounts.find_by_login(session, login)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    token, secret = api_tokens.issue(
        session,
        user_id=user.id,
        name=name,
        grants=grants,
        expires_at=now + dt.timedelta(days=days),
        actor_id=admin.id,
        now=now,
    )
    return token, secret


def _official(session, login: str, unit_ids) -> None:
    from core import accounts
    from core.account_models import ROLES

    user = accounts.create_user(
        session,
        email=login,
        phone=None,
        full_name="Token Matrix Official",
        preferred_language="en",
        unit_id=unit_ids[0],
        password=DEMO_PASSWORD,
        actor_id=None,
    )
    for unit_id in unit_ids:
        for role in ROLES:
            accounts.grant_role(session, user_id=user.id, role=role, unit_id=unit_id, actor_id=None)


def _tokens(session, a: int, b: int) -> dict[str, str]:
    from core import accounts, api_tokens
    from core.account_models import ROLES
    from core.db import utcnow

    now = utcnow()
    every = list(ROLES)
    tokens = {}
    tokens["A"] = _issue(session, BOTH, [(r, a) for r in every], now=now)[1]
    tokens["B"] = _issue(session, BOTH, [(r, b) for r in every], now=now)[1]
    tokens["volunteer B"] = _issue(session, BOTH, [("volunteer", b)], now=now)[1]
    for login in ("zzforeign.volunteer@demo.kz", "zzforeign.deputy@demo.kz"):
        user = accounts.find_by_login(session, login)
        grants = [(g.role, g.unit_id) for g in user.grants]
        tokens[login] = _issue(session, login, grants, now=now)[1]
    # Issued 40 days ago for a day.
    tokens["expired"] = _issue(
        session, BOTH, [(r, b) for r in every], now=now - dt.timedelta(days=40), days=1
    )[1]
    revoked, tokens["revoked"] = _issue(session, BOTH, [(r, b) for r in every], now=now)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    api_tokens.revoke(session, token_id=revoked.id, actor_id=admin.id, now=now)
    tokens["lost"] = _issue(session, LOSES, [(r, b) for r in every], now=now)[1]
    return tokens


@pytest.fixture(scope="module")
def world(request, tmp_path_factory):
    from core import places
    from portal.extensions import db

    url, ids, secrets, drop = matrix.clone_foreign(
        request, "sqlite", tmp_path_factory.mktemp("tokens")
    )
    app = make_app(url, **matrix.TEST_CONFIG)
    try:
        with app.app_context():
            a = places.by_kato(db.session, DISTRICT_A).id
            b = ids["district"]
            _official(db.session, BOTH, [a, b])
            _official(db.session, LOSES, [b])
            db.session.commit()
            tokens = _tokens(db.session, a, b)
            db.session.commit()
            db.session.remove()
        yield World(app, ids, secrets, tokens, {"A": a, "B": b})
    finally:
        close_app(app)
        drop()


# ---- helpers ----------------------------------------------------------------------------------


def _api_endpoints(app) -> list[str]:
    found = sorted(
        {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api_")}
        - {"api_docs"}
    )
    assert found, "no API endpoint"
    return found


def _methods(app, endpoint: str, variant) -> list[str]:
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint == endpoint and set(r.arguments) == set(variant.args)
    ]
    assert rules, f"{endpoint}: no rule takes exactly {sorted(variant.args)}"
    return [m for m in ("GET", "POST") if any(m in r.methods for r in rules)]


def _fill(value, ids):
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return matrix._value(value, ids)


def _call(world: World, method: str, url: str, token: str | None, variant):
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        headers["Idempotency-Key"] = str(uuid.uuid4())
        body = {k: _fill(v, world.ids) for k, v in variant.body.items()}
        response = client.post(url, json=body, headers=headers)
        wait_for_jobs(world.app)
    return response


def _snapshot(app) -> tuple[dict[str, int], int]:
    from core import audit
    from portal.extensions import db

    counts = table_counts(app)
    with app.app_context():
        seq = db.session.scalar(select(audit.AuditEvent.seq).order_by(audit.AuditEvent.seq.desc()))
        db.session.remove()
    return counts, seq or 0


def _written(app, before) -> list[str]:
    """What a refused call wrote beyond the bookkeeping every API call may write."""
    from core import audit
    from portal.extensions import db

    counts, seq = before
    after = table_counts(app)
    changed = [
        f"{t}: {counts.get(t)} → {n}"
        for t, n in after.items()
        if t not in BOOKKEEPING and counts.get(t) != n
    ]
    with app.app_context():
        actions = db.session.scalars(
            select(audit.AuditEvent.action).where(audit.AuditEvent.seq > seq)
        ).all()
        db.session.remove()
    changed += [f"audit {a}" for a in actions if a != "api_token.use"]
    return changed


def _problem(response, statuses) -> str | None:
    if response.status_code not in statuses:
        return f"{response.status_code} instead of {sorted(statuses)}: {response.text[:200]}"
    if response.mimetype != PROBLEM_TYPE:
        return f"{response.status_code} answered as {response.mimetype}"
    return None


def _ids_of(response) -> set:
    body = response.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return set()
    return {item.get("id") for item in body["items"] if isinstance(item, dict)}


def _needs_a_role(app, endpoint: str) -> bool:
    needed = app.view_functions[endpoint]._required_roles
    return not needed & {PUBLIC, SIGNED_IN}


# ---- the matrix -------------------------------------------------------------------------------


def test_every_api_endpoint_is_in_the_table(world):
    """The cells below come from the IDOR matrix's table: every API endpoint must be in it."""
    missing = [e for e in _api_endpoints(world.app) if e not in matrix.ENDPOINTS]
    assert missing == [], "add these to ENDPOINTS of test_authz_matrix.py"


def test_a_district_token_is_refused_the_other_districts_records(world):
    app = world.app
    failures, checked, opened = [], 0, set()
    for endpoint in _api_endpoints(app):
        needed = app.view_functions[endpoint]._required_roles
        if PUBLIC in needed or endpoint in matrix.WIDE:
            continue
        for variant in matrix.ENDPOINTS[endpoint]:
            if not variant.target:
                continue
            url = matrix._url(app, endpoint, variant, world.ids)
            for method in _methods(app, endpoint, variant):
                before = _snapshot(app) if method == "POST" else None
                response = _call(world, method, url, world.tokens["A"], variant)
                checked += 1
                wrong = _problem(response, {403, 404})
                if wrong:
                    failures.append(f"{method} {url} with the token of A: {wrong}")
                leaks = matrix._leaks(endpoint, response.get_data(as_text=True), world.secrets)
                if leaks:
                    failures.append(f"{method} {url} with the token of A shows {leaks}")
                if before is not None:
                    written = _written(app, before)
                    if written:
                        failures.append(f"POST {url} with the token of A wrote {written}")
                    continue
                # The positive control: a token of B, or of the record's own person, opens it.
                statuses = []
                for name in ("B", "zzforeign.volunteer@demo.kz", "zzforeign.deputy@demo.kz"):
                    statuses.append(
                        _call(world, "GET", url, world.tokens[name], variant).status_code
                    )
                if 200 in statuses:
                    opened.add(endpoint)
                elif endpoint not in matrix.NO_POSITIVE_CONTROL:
                    failures.append(f"GET {url}: no token of B opens it ({statuses})")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
    assert checked >= 10 and len(opened) >= 5, (checked, sorted(opened))


def test_lists_for_a_district_token_show_nothing_of_the_other(world):
    app = world.app
    failures, compared = [], set()
    for endpoint in _api_endpoints(app):
        if not _needs_a_role(app, endpoint):
            continue  # own records, public statistics: not a question of a district
        for variant in matrix.ENDPOINTS[endpoint]:
            if variant.target or "GET" not in _methods(app, endpoint, variant):
                continue
            url = matrix._url(app, endpoint, variant, world.ids)
            mine = _call(world, "GET", url, world.tokens["A"], variant)
            theirs = _call(world, "GET", url, world.tokens["B"], variant)
            for who, response in (("A", mine), ("B", theirs)):
                if response.status_code >= 500:
                    failures.append(f"GET {url} with the token of {who}: {response.status_code}")
            leaks = matrix._leaks(endpoint, mine.get_data(as_text=True), world.secrets)
            if leaks:
                failures.append(f"GET {url} with the token of A shows {leaks}")
            shared = _ids_of(mine) & _ids_of(theirs)
            if shared:
                failures.append(f"GET {url}: both tokens list {sorted(shared)[:10]}")
            if endpoint in LISTS_OF_BOTH and not variant.query:
                compared.add(endpoint)
                if not _ids_of(mine) or not _ids_of(theirs):
                    failures.append(
                        f"GET {url}: A lists {len(_ids_of(mine))}, B {len(_ids_of(theirs))}: "
                        "each district has rows, each token must see its own"
                    )
                if matrix.RECORD_MARK not in theirs.get_data(as_text=True).lower():
                    failures.append(f"GET {url}: the token of B shows no record of B")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
    assert compared == LISTS_OF_BOTH & set(_api_endpoints(app)), sorted(compared)


def test_a_volunteer_token_cannot_act_as_its_holders_other_roles(world):
    """The holder holds every role over B; the token only ``volunteer``: every other role's
    operation answers 403 (and a token of B with every role gets past that check)."""
    app = world.app
    failures, refused = [], 0
    for endpoint in _api_endpoints(app):
        needed = app.view_functions[endpoint]._required_roles
        if "volunteer" in needed or not _needs_a_role(app, endpoint):
            continue
        for variant in matrix.ENDPOINTS[endpoint]:
            url = matrix._url(app, endpoint, variant, world.ids)
            for method in _methods(app, endpoint, variant):
                before = _snapshot(app) if method == "POST" else None
                response = _call(world, method, url, world.tokens["volunteer B"], variant)
                refused += 1
                wrong = _problem(response, {403})
                if wrong:
                    failures.append(f"{method} {url} with a volunteer's token: {wrong}")
                if before is not None and _written(app, before):
                    failures.append(f"POST {url} with a volunteer's token wrote rows")
                if method == "GET":
                    full = _call(world, method, url, world.tokens["B"], variant)
                    if full.status_code == 403:
                        failures.append(f"GET {url}: 403 for the token of every role too")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
    assert refused >= 10, refused


@pytest.mark.parametrize("name", ["expired", "revoked", "unknown", "malformed"])
def test_a_dead_token_is_refused_with_401(world, name):
    app = world.app
    secret = {
        "unknown": "cip_" + "x" * 43,
        "malformed": "not-a-token",
    }.get(name) or world.tokens[name]
    failures, checked = [], 0
    before = _snapshot(app)
    for endpoint in _api_endpoints(app):
        if PUBLIC in app.view_functions[endpoint]._required_roles:
            continue
        for variant in matrix.ENDPOINTS[endpoint]:
            url = matrix._url(app, endpoint, variant, world.ids)
            for method in _methods(app, endpoint, variant):
                response = _call(world, method, url, secret, variant)
                checked += 1
                wrong = _problem(response, {401})
                if wrong:
                    failures.append(f"{method} {url} with the {name} token: {wrong}")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
    assert checked >= 20
    # Not even the use of a dead token is recorded as a use, and no key is kept.
    counts, _seq = before
    after = table_counts(app)
    assert {t: n for t, n in after.items() if counts.get(t) != n} == {}


def test_a_token_whose_holder_lost_the_roles_is_refused_with_401(world):
    """A token carries roles its holder has: when the holder loses them all, it is dead."""
    from core import accounts
    from portal.extensions import db

    app = world.app
    token = world.tokens["lost"]
    cells = []
    for endpoint in _api_endpoints(app):
        if not _needs_a_role(app, endpoint):
            continue
        for variant in matrix.ENDPOINTS[endpoint]:
            url = matrix._url(app, endpoint, variant, world.ids)
            for method in _methods(app, endpoint, variant):
                cells.append((method, url, variant))
    # Before: the token works (a GET of a record of B opens).
    opened = [
        url
        for method, url, variant in cells
        if method == "GET" and _call(world, method, url, token, variant).status_code == 200
    ]
    assert len(opened) >= 5, opened
    with app.app_context():
        user = accounts.find_by_login(db.session, LOSES)
        admin = accounts.find_by_login(db.session, "admin@demo.kz")
        for grant in list(user.grants):
            accounts.revoke_grant(db.session, grant_id=grant.id, actor_id=admin.id)
        db.session.commit()
        db.session.remove()
    failures = []
    for method, url, variant in cells:
        before = _snapshot(app) if method == "POST" else None
        response = _call(world, method, url, token, variant)
        wrong = _problem(response, {401})
        if wrong:
            failures.append(f"{method} {url} after the roles were revoked: {wrong}")
        if before is not None and _written(app, before):
            failures.append(f"POST {url} after the roles were revoked wrote rows")
    # Not even "who am I": no role left, nothing the token may do.
    response = _call(world, "GET", "/api/v1/session", token, None)
    assert response.status_code == 401, response.text
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
