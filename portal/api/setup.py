"""Wiring of the JSON API: flask-smorest's ``Api``, its blueprints, the request hooks and the spec.

flask-smorest was chosen because it documents plain Flask blueprints (the portal keeps its own
``Flask`` app, extensions and error pages; APIFlask would replace the app class) with
marshmallow schemas and webargs, and emits OpenAPI 3.1 through apispec.
"""

from __future__ import annotations

import copy
import http

from flask import Flask, current_app, render_template, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from portal.api import auth, idempotency, problems
from portal.extensions import csrf
from portal.security import PUBLIC, allow

PREFIX = "/api/v1"
ERROR_STATUSES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_CONTENT",
    429: "TOO_MANY_REQUESTS",
}


class PortalApi(Api):
    """flask-smorest's ``Api`` that answers with problem details and leaves the pages' errors be."""

    ERROR_SCHEMA = problems.Problem

    def _register_error_handlers(self):
        # The portal's own handlers (portal.errors) answer problems under /api/ and pages elsewhere.
        return None

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                content_type = problems.PROBLEM_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _blueprints():
    # Each resource module owns its blueprint; the list is the API's table of contents.
    from portal.api import (
        coordination,
        exports,
        me,
        me_contributions,
        me_shifts,
        money,
        public,
        session,
    )

    return [
        session.blp,
        money.blp,
        exports.blp,
        public.blp,
        coordination.blp,
        me.blp,
        me_shifts.blp,
        me_contributions.blp,
    ]


def _complete(spec: dict) -> dict:
    """Say in the document what the hooks do for every operation.

    Every POST requires an Idempotency-Key; a caller signed in by session sends X-CSRFToken;
    the refusals each operation may answer are listed (problem details).
    """
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(
        {
            "session": {"type": "apiKey", "in": "cookie", "name": "__Host-session"},
            "csrf": {"type": "apiKey", "in": "header", "name": auth.CSRF_HEADER},
            "token": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal or service access token an administrator issued.",
            },
        }
    )
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        "name": idempotency.HEADER,
        "in": "header",
        "required": True,
        "description": "A new random value per action (a UUID); a repeat returns the first answer.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
    }
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            public = operation.get("security") == []
            # 400: a NUL character in the query or body (portal.errors refuses it); 401: a
            # malformed or dead token, refused even where no token is needed.
            wanted = {400, 401, 429}
            if not public:
                wanted.add(403)
            if "{" in path:
                wanted.add(404)
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.add(422)
            if method == "post":
                wanted |= {409, 422}
                params = operation.setdefault("parameters", [])
                params.append({"$ref": "#/components/parameters/IdempotencyKey"})
            known = components.setdefault("responses", {})
            for status in sorted(wanted):
                name = ERROR_STATUSES[status]
                responses.setdefault(str(status), {"$ref": f"#/components/responses/{name}"})
                known.setdefault(
                    name,
                    {
                        "description": http.HTTPStatus(status).phrase,
                        "content": {
                            problems.PROBLEM_TYPE: {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                )
    return spec


def install(app: Flask) -> None:
    """Mount the API under /api/v1, with its document and its reference page."""
    app.config.setdefault("API_TITLE", "Citizen Incentive Portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "The same rules, jurisdictions and audit as the portal's pages. Errors are "
                    "RFC 9457 problem details in the language of Accept-Language (kk, ru, en)."
                )
            },
            "servers": [{"url": "/"}],
        },
    )
    api = PortalApi(app)
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
        # The API checks the CSRF header itself, for session callers only (portal.api.auth).
        csrf.exempt(blueprint)
    app.extensions["portal_api"] = api
    document: dict = {}

    def openapi_json():
        if not document:
            document.update(_complete(api.spec.to_dict()))
        return current_app.response_class(
            current_app.json.dumps(document), mimetype="application/json"
        )

    # flask-smorest's own JSON view is replaced by the completed document.
    app.view_functions["api-docs.openapi_json"] = allow(PUBLIC)(openapi_json)

    @app.route(f"{PREFIX}/docs", endpoint="api_docs")
    @allow(PUBLIC)
    def api_docs():
        return render_template("api/docs.html")

    hooks = app.before_request_funcs.setdefault(None, [])

    def _api_request() -> bool:
        return (
            request.path.startswith(PREFIX + "/")
            and request.url_rule is not None  # no such route or method: routing answers 404/405
            and request.endpoint not in _OPEN_ENDPOINTS
        )

    def _principal():
        if _api_request():
            auth.resolve_principal()

    # First of all hooks: the session policy must see the token's principal.
    hooks.insert(0, _principal)

    @app.before_request
    def _claim_key():
        # After the session policy: a "session ended" answer must not be kept under the key.
        return idempotency.begin() if _api_request() else None

    @app.after_request
    def _after(response):
        if request.path.startswith(PREFIX + "/"):
            response = idempotency.finish(response)
            response = auth.audit_token_use(response)
        return response


_OPEN_ENDPOINTS = frozenset({"api-docs.openapi_json", "api_docs"})
