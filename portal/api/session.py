"""Who the caller is, and the CSRF token a session caller sends with its writes (the PWA asks)."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from portal.api.auth import api_allow
from portal.security import SIGNED_IN

blp = Blueprint("api_session", __name__, url_prefix="/api/v1", description="The caller")


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    language = ma.fields.String(required=True)


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    via = ma.fields.String(required=True, validate=ma.validate.OneOf(("session", "token")))
    csrf_token = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Send as X-CSRFToken with each write (session callers)"},
    )


@blp.route("/session")
@api_allow(SIGNED_IN)
@blp.response(200, SessionSchema)
def whoami():
    """Return the caller and, for a signed-in session, a fresh CSRF token."""
    via_token = getattr(current_user, "via_token", False)
    return {
        "user": {
            "id": current_user.id,
            "name": current_user.full_name,
            "roles": sorted(current_user.roles()),
            "language": current_user.preferred_language,
        },
        "via": "token" if via_token else "session",
        "csrf_token": None if via_token else generate_csrf(),
    }
