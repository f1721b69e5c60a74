"""The API against its own OpenAPI document: Schemathesis on a live portal over PostgreSQL.

The portal runs in a thread behind werkzeug's server (``tests/api/live_server.py``) on a fresh
copy of the demo world, so generated requests meet real records. The callers are a volunteer,
a coordinator, a registrar, a finance officer and a deputy, each with an access token
(``core.api_tokens.issue``) carrying all of the account's grants, and nobody.

(a) Every operation of ``/api/v1/openapi.json`` gets valid and invalid generated requests,
    half of them from a caller the operation's ``x-roles`` admit, the rest from anyone.
(b) Schemathesis' state machine chains valid calls through the links it infers from the
    document (an id one answer gives is the path parameter of the next call); a scenario is
    one person's while they may make the calls.

Every answer must be no 5xx, of a status the operation lists (not only ``default``), of the
documented media type (``application/problem+json`` for every refusal, with its status) and
match its schema; invalid input must be refused; every valid POST carries the required
Idempotency-Key (its drawn value is replaced by a fresh one, as a client sends one per action).
Sized to take well under a minute on two cores; ``derandomize`` sends the same requests each
run. Without PostgreSQL it is skipped, and fails under CI=true (``pg_admin``).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import itertools
from collections import Counter, defaultdict

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.api.live_server import serving
from tests.conftest import close_app, make_app, pg_url

PROBLEM_TYPE = "application/problem+json"
# Who calls: demo accounts (by the role each holds) whose tokens carry all their grants.
CALLERS = {
    "volunteer": "volunteer@demo.kz",
    "coordinator": "coordinator@demo.kz",
    "registrar": "registrar@demo.kz",
    "finance": "finance@demo.kz",
    "deputy": "deputy@demo.kz",
}
ANONYMOUS = "anonymous"
# Generated requests per operation (spread over the callers) and stateful scenarios.
EXAMPLES_PER_OPERATION = 15
SCENARIOS = 25
STEPS_PER_SCENARIO = 8


def problem_details(ctx, response, case) -> None:
    """Every refusal is an RFC 9457 problem whose ``status`` is the answer's."""
    if response.status_code < 400:
        return
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media == PROBLEM_TYPE, (
        f"{response.status_code} answered as {media!r}, not {PROBLEM_TYPE}: {response.text[:300]}"
    )
    body = response.json()
    assert body.get("status") == response.status_code, body
    assert body.get("title") and body.get("detail"), body


def status_listed(ctx, response, case) -> None:
    """The status is listed for the operation itself, not only covered by ``default``.

    (flask-smorest adds a ``default`` problem response to every operation, which would make
    Schemathesis' status code check accept any status.)
    """
    listed = set(case.operation.definition.raw.get("responses", {})) - {"default"}
    status = str(response.status_code)
    assert status in listed or f"{status[0]}XX" in listed, (
        f"{case.method} {case.formatted_path} answered {status}, which the operation does not "
        f"list ({', '.join(sorted(listed))}): {response.text[:300]}"
    )


def is_positive(case) -> bool:
    return case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE


KEYS = itertools.count(1)


def fresh_key(case) -> None:
    """Give a valid case a key of its own, as a client does per action.

    Schemathesis draws the Idempotency-Key like any string, and derandomized draws repeat
    ("0", "A"): the API would replay the first answer, or refuse other content under the same
    key, and no chain would get far. The drawn key must be there (``idempotency_key_sent``);
    its value is replaced. Invalid cases keep what was drawn (a bad key must be a 400).
    """
    if case.method.upper() == "POST" and is_positive(case) and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"schemathesis-{next(KEYS)}"


def idempotency_key_sent(ctx, response, case) -> None:
    """Every valid POST Schemathesis sends carries the Idempotency-Key the document requires.

    (Negative cases may leave it out on purpose: those must get a documented 400.)
    """
    if is_positive(case) and case.method.upper() == "POST":
        sent = response.request.headers.get("Idempotency-Key")
        assert sent is not None, f"{case.method} {case.formatted_path} sent no Idempotency-Key"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    status_listed,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_details,
    idempotency_key_sent,
]


def settings(**extra) -> hypothesis.settings:
    return hypothesis.settings(
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: a failure is reported as found (its request is in the report).
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        **extra,
    )


def issue_tokens(app) -> dict[str, str]:
    """An access token per caller, with all of the account's grants, valid for a day."""
    from core import api_tokens
    from core.accounts import User
    from core.db import utcnow
    from portal.extensions import db

    secrets = {}
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.kz"))
        now = utcnow()
        for who, login in CALLERS.items():
            user = db.session.scalar(select(User).where(User.email == login))
            grants = [(g.role, g.unit_id) for g in api_tokens.holder_grants(user)]
            _token, secret = api_tokens.issue(
                db.session,
                user_id=user.id,
                name=f"schemathesis {who}",
                grants=grants,
                expires_at=now + dt.timedelta(days=1),
                actor_id=admin.id,
                now=now,
            )
            secrets[who] = secret
        db.session.commit()
    return secrets


def http_session() -> requests.Session:
    """A connection pool that keeps no cookies: each call is authenticated by its header only."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


@pytest.fixture(scope="module")
def live(pg_demo_clones):
    """The portal on a fresh copy of the demo world, served on a port; its tokens."""
    name = pg_demo_clones.take()
    app = make_app(pg_url(name), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8, "max_overflow": 8})
    try:
        tokens = issue_tokens(app)
        with serving(app) as base_url:
            yield base_url, tokens
    finally:
        close_app(app)
        pg_demo_clones.drop(name)


@pytest.fixture(scope="module")
def schema(live):
    base_url, _tokens = live
    loaded = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    loaded.config.update(base_url=base_url)
    # The callers authenticate by their tokens only (no generated cookies or CSRF headers).
    loaded.config.generation.update(with_security_parameters=False)
    return loaded


def roles_of(operation) -> list[str]:
    """Who may call the operation, as the document says (``x-roles`` of ``api_allow``)."""
    return operation.definition.raw.get("x-roles") or ["public"]


def may_call(who: str, operation) -> bool:
    roles = roles_of(operation)
    if "public" in roles:
        return True
    return who != ANONYMOUS and ("signed-in" in roles or who in roles)


def caller_for(operation) -> str:
    """The caller a client of this operation would be: a holder of one of its roles."""
    roles = roles_of(operation)
    if "public" in roles:
        return ANONYMOUS
    if "signed-in" in roles:
        return "deputy" if "/exports/" in operation.path else "volunteer"
    return next(who for who in CALLERS if who in roles)


def headers_of(tokens: dict[str, str], who: str) -> dict[str, str]:
    headers = {"Accept-Language": "ru"}
    if who != ANONYMOUS:
        headers["Authorization"] = f"Bearer {tokens[who]}"
    return headers


def test_document_requires_an_idempotency_key_on_every_post(schema):
    posts = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "POST":
            continue
        posts += 1
        names = {(p.location, p.name, p.is_required) for p in operation.headers}
        assert ("header", "Idempotency-Key", True) in names, operation.label
    assert posts, "the document has no POST operation"


class Findings:
    """Failed checks, one report per operation, check and status (the first request found).

    Kept instead of raised: Hypothesis would replay a failing example to report it, and
    against a live database the replay meets other records (a sign-up already taken), which
    it takes for flaky generation. Every request runs; the test fails at the end with all.
    """

    def __init__(self):
        self.reports: dict[tuple, str] = {}
        self.requests = 0

    def validate(self, case, response) -> None:
        self.requests += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (case.operation.label, failure.code, failure.title, response.status_code)
                self.reports.setdefault(key, str(group.message))

    def __str__(self) -> str:
        return "\n\n".join(
            f"== {label} [{code} {title}, answered {status}]\n{text}"
            for (label, code, title, status), text in sorted(self.reports.items())
        )


def test_every_operation_answers_as_documented(live, schema):
    """(a) Generated requests to every operation, as each caller: answers as documented."""
    _base_url, tokens = live
    callers = [*CALLERS, ANONYMOUS]
    session = http_session()
    statuses: dict[str, Counter] = defaultdict(Counter)
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    def fuzz(operation, seen: Counter):
        # Valid requests and invalid ones (each invalid input must be a documented 4xx).
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        # Half the time one who may call it; else anyone (refusals must be documented too).
        who = st.one_of(st.just(caller_for(operation)), st.sampled_from(callers))

        @hypothesis.given(case=cases, who=who)
        @settings(max_examples=EXAMPLES_PER_OPERATION)
        def run(case, who):
            fresh_key(case)
            response = case.call(session=session, headers=headers_of(tokens, who))
            findings.validate(case, response)
            seen[(who, response.status_code)] += 1

        return run

    try:
        for operation in operations:
            fuzz(operation, statuses[operation.label])()
    finally:
        session.close()

    assert not findings.reports, str(findings)
    # The tokens worked: each operation let at least one caller past authentication.
    refused_everyone = [
        label
        for label, seen in statuses.items()
        if all(status in (401, 403) for (_who, status) in seen)
    ]
    assert not refused_everyone, refused_everyone


def test_state_machine_chains_operations(live, schema):
    """(b) Stateful: sequences of linked calls (an answer's ids feed the next call)."""
    _base_url, tokens = live
    session = http_session()
    seen: Counter = Counter()
    findings = Findings()
    # Valid requests only here: the chains should get somewhere (invalid input is (a)'s).
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    Machine = schema.as_state_machine()

    class Calls(Machine):
        def setup(self):
            self.who = None

        def before_call(self, case):
            fresh_key(case)

        def get_call_kwargs(self, case):
            # A scenario is one person's as long as they may make the calls (a volunteer signs
            # up, checks in, lists their shifts); a call they may not make goes to one who may.
            if self.who is None or not may_call(self.who, case.operation):
                self.who = caller_for(case.operation)
            return {"session": session, "headers": headers_of(tokens, self.who)}

        def after_call(self, response, case):
            super().after_call(response, case)
            seen[(case.method.upper(), response.status_code // 100)] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            findings.validate(case, response)

    try:
        Calls.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS_PER_SCENARIO))
    except hypothesis.errors.Flaky:
        # Which rules may run depends on what the live API answered before; when Hypothesis
        # replays a prefix against changed records it stops. The steps taken are checked.
        pass
    finally:
        session.close()
    assert not findings.reports, str(findings)
    # The chains went somewhere: enough steps, and writes took effect, not only refusals.
    assert findings.requests >= SCENARIOS, dict(seen)
    assert seen[("POST", 2)] > 0, dict(seen)
