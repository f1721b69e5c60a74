"""The route inventory of the JSON API against its OpenAPI document (issue 21).

Every operation of a blueprint named ``api_*`` declares who may call it (``_required_roles``,
set by ``api_allow``), and the document at /api/v1/openapi.json describes exactly those
operations: the same path and method, the same roles (``x-roles``), no security for public
ones, the required ``Idempotency-Key`` header on every POST and the problem details (RFC 9457)
of every refusal the hooks and ``api_allow`` may answer.
"""

from __future__ import annotations

import re

import pytest

from core.account_models import ROLES
from portal.security import PUBLIC, SIGNED_IN

PREFIX = "/api/v1/"
PROBLEM_TYPE = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")
# The pages and documents of the API that are not operations of it, with why.
NOT_OPERATIONS = {
    "api-docs.openapi_json": "the OpenAPI document itself",
    "api_docs": "the reference page that renders the document",
}


def _is_operation(endpoint: str) -> bool:
    blueprint, _dot, _view = endpoint.partition(".")
    return bool(_dot) and blueprint.startswith("api_")


def _openapi_path(rule: str) -> str:
    """``/api/v1/shifts/<int:shift_id>`` -> ``/api/v1/shifts/{shift_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _resolve(document: dict, item: dict) -> dict:
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/json"
    return response.get_json()


def _rules(app):
    rules = [r for r in app.url_map.iter_rules() if _is_operation(r.endpoint)]
    assert rules, "no blueprint named api_* is registered"
    return rules


def _operations(app) -> dict[tuple[str, str], str]:
    """(OpenAPI path, lower-case method) -> endpoint, for every API rule."""
    found = {}
    for rule in _rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[(_openapi_path(rule.rule), method.lower())] = rule.endpoint
    return found


def test_the_document_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"], "the document lists no operation"


def test_the_document_and_its_page_are_public(client):
    """Anonymous callers read both: no redirect to the sign-in page, no 401."""
    for path in ("/api/v1/openapi.json", "/api/v1/docs"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert client.get("/api/v1/docs").mimetype == "text/html"


def test_every_api_rule_is_under_the_prefix_and_declares_its_roles(app):
    known = set(ROLES) | {PUBLIC, SIGNED_IN}
    for rule in _rules(app):
        assert rule.rule.startswith(PREFIX), rule.rule
        view = app.view_functions[rule.endpoint]
        needed = getattr(view, "_required_roles", None)
        assert needed, f"{rule.endpoint}: no api_allow (no _required_roles)"
        assert needed <= known, f"{rule.endpoint}: unknown roles {sorted(needed - known)}"
    for endpoint in NOT_OPERATIONS:
        assert app.view_functions[endpoint]._required_roles == {PUBLIC}, endpoint


def test_every_other_rule_under_the_prefix_is_named(app):
    """A view under /api/v1 outside the api_* blueprints would escape this inventory."""
    strays = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.rule.startswith(PREFIX) and not _is_operation(r.endpoint)
    }
    assert strays == set(NOT_OPERATIONS)


def test_rules_and_documented_operations_are_the_same(app, document):
    operations = _operations(app)
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    assert sorted(set(operations) - documented) == [], "operations missing from the document"
    assert sorted(documented - set(operations)) == [], "documented operations that are no rule"


def test_documented_roles_and_security_match_the_views(app, document):
    for (path, method), endpoint in _operations(app).items():
        operation = document["paths"][path][method]
        needed = app.view_functions[endpoint]._required_roles
        roles = operation.get("x-roles", ())
        assert set(roles) == set(needed), (endpoint, roles)
        if PUBLIC in needed:
            assert operation.get("security") == [], f"{endpoint}: public but asks for security"
        else:
            schemes = {name for each in operation.get("security", ()) for name in each}
            assert {"session", "token"} <= schemes, f"{endpoint}: security {schemes}"
            assert "token" in document["components"]["securitySchemes"]


def test_path_parameters_are_documented(app, document):
    for (path, method), endpoint in _operations(app).items():
        operation = document["paths"][path][method]
        shared = document["paths"][path].get("parameters", ())
        params = [_resolve(document, p) for p in (*shared, *operation.get("parameters", ()))]
        in_path = {p["name"] for p in params if p.get("in") == "path"}
        assert in_path == set(re.findall(r"{([^}]+)}", path)), (endpoint, in_path)


def test_every_post_requires_an_idempotency_key(app, document):
    posts = [(p, m) for (p, m) in _operations(app) if m == "post"]
    for path, method in posts:
        operation = document["paths"][path][method]
        params = [_resolve(document, p) for p in operation.get("parameters", ())]
        keys = [p for p in params if p.get("in") == "header" and p["name"] == "Idempotency-Key"]
        assert len(keys) == 1, f"POST {path}: no Idempotency-Key header parameter"
        assert keys[0].get("required") is True, f"POST {path}: Idempotency-Key not required"
        assert keys[0]["schema"].get("maxLength") == 200


def _problem_statuses(app, document, path: str, method: str, endpoint: str) -> set[int]:
    """The refusals the hooks, ``api_allow`` and the handlers answer for an operation."""
    needed = app.view_functions[endpoint]._required_roles
    operation = document["paths"][path][method]
    params = [_resolve(document, p) for p in operation.get("parameters", ())]
    wanted = {429}
    if operation.get("requestBody") or any(p.get("in") == "query" for p in params):
        wanted.add(422)  # the body or a query parameter invalid
    if PUBLIC not in needed:
        wanted |= {401, 403}
    if "{" in path:
        wanted.add(404)
    if method == "post":
        wanted |= {400, 409, 422}  # Idempotency-Key refused or busy, the body invalid
    return wanted


def test_every_operation_documents_its_problems(app, document):
    missing = []
    for (path, method), endpoint in _operations(app).items():
        operation = document["paths"][path][method]
        responses = operation["responses"]
        for status in sorted(_problem_statuses(app, document, path, method, endpoint)):
            if str(status) not in responses:
                missing.append(f"{method.upper()} {path}: {status}")
                continue
            response = _resolve(document, responses[str(status)])
            content = response.get("content", {})
            assert list(content) == [PROBLEM_TYPE], (path, method, status, list(content))
            schema = _resolve(document, content[PROBLEM_TYPE]["schema"])
            assert {"type", "title", "status", "detail"} <= set(schema["required"]), schema
        for status, response in responses.items():
            if status.isdigit() and int(status) >= 400:
                content = _resolve(document, response).get("content", {})
                assert list(content) == [PROBLEM_TYPE], (path, method, status, list(content))
        successes = [s for s in responses if s.isdigit() and int(s) < 400]
        assert successes, f"{method.upper()} {path}: no success response documented"
    assert missing == [], "undocumented problem responses"


def test_the_refusals_are_problems_as_documented(app, client, document):
    """The document is not only words: an anonymous call of each protected GET is a 401 problem,
    a POST without Idempotency-Key a 400 problem (signed in), as the document says."""
    from tests.conftest import login_as

    protected = []
    for (path, method), endpoint in _operations(app).items():
        needed = app.view_functions[endpoint]._required_roles
        if PUBLIC in needed or "{" in path:
            continue
        protected.append((path, method))
        response = client.open(path, method=method.upper(), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.mimetype == PROBLEM_TYPE
        body = response.get_json()
        assert body["status"] == 401 and body["title"] and body["detail"], body
        assert body["instance"] == path
    assert protected, "no protected operation without path arguments"
    login_as(client, "admin@demo.kz")
    posts = [p for (p, m) in _operations(app) if m == "post" and "{" not in p]
    for path in posts:
        response = client.post(path, json={})
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        assert response.mimetype == PROBLEM_TYPE
        assert response.get_json()["errors"][0]["parameter"] == "Idempotency-Key"
