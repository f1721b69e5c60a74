"""Access tokens of the JSON API: the list, issuing one (its secret shown once), revoking one.

An administrator sees the tokens of the accounts of their jurisdictions and issues or revokes
only those of accounts they administer (``core.accounts.administers``): an account elsewhere
is not found (404), one holding a role beyond their reach is refused (403).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import accounts, api_tokens, clock
from core.accounts import User
from core.api_models import ApiToken
from core.db import utcnow
from core.places import AdminUnit
from portal import session_policy
from portal.admin.blueprint import bp
from portal.admin.forms import TokenForm, TokenHolderForm
from portal.confirmation import Consequence, confirm_page, is_confirmed
from portal.errors import on_refusal
from portal.extensions import db
from portal.i18n import translate_error, unit_name
from portal.labels import ROLE_LABELS
from portal.paging import other_args, page_of
from portal.security import allow, current_scope, get_in_scope

# [I] The expiry a new token's form proposes, in days from today.
DEFAULT_DAYS = 90


def _units(unit_ids) -> dict[int, AdminUnit]:
    wanted = set(unit_ids)
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(wanted)))}


def _tokens_page(status: int = 200):
    found = page_of(api_tokens.tokens_query(current_scope("admin")), rows=True)
    tokens = [row[0] for row in found.rows]
    holders = [row[1] for row in found.rows]
    return render_template(
        "admin/tokens.html",
        rows=found.rows,
        units=_units(g.unit_id for t in tokens for g in t.grants),
        manageable=accounts.administered(db.session, current_user, [h.id for h in holders]),
        now=utcnow(),
        page=found.page,
        pages=found.pages,
        total=found.total,
        args=other_args(),
    ), status


@bp.route("/tokens")
@allow("admin")
def tokens():
    return _tokens_page()


def _holder_page(form: TokenHolderForm, status: int):
    return render_template("admin/tokens_holder.html", form=form), status


@bp.route("/tokens/new", methods=["GET", "POST"])
@allow("admin")
def new_token():
    """The first step: whose token it is, by e-mail or phone (kept out of the address)."""
    form = TokenHolderForm()
    if not form.validate_on_submit():
        return _holder_page(form, 400 if form.errors else 200)
    user = accounts.find_by_login(db.session, form.login.data)
    if user is None or not current_scope("admin").contains(db.session, user.unit_id):
        form.login.errors.append(_("No account with this e-mail or phone in your jurisdictions."))
        return _holder_page(form, 404)
    if not accounts.administers(db.session, current_user, user):
        form.login.errors.append(translate_error(accounts.OutsideReach()))
        return _holder_page(form, 403)
    return redirect(url_for("admin.new_token_for", user_id=user.id))


def _holder(user_id: int) -> User:
    """The account a token is issued to: 404 outside the jurisdictions, 403 beyond reach."""
    user = get_in_scope(User, user_id, "admin")
    if not accounts.administers(db.session, current_user, user):
        abort(403)
    return user


def _token_form(user: User) -> TokenForm:
    form = TokenForm()
    form.grants.choices = [
        (f"{g.role}:{g.unit_id}", f"{ROLE_LABELS.get(g.role, g.role)} · {unit_name(g.unit)}")
        for g in api_tokens.holder_grants(user)
    ]
    if not form.is_submitted() and form.expires_at.data is None:
        form.expires_at.data = clock.today() + dt.timedelta(days=DEFAULT_DAYS)
    return form


def _form_page(user: User, form: TokenForm, status: int):
    return render_template("admin/tokens_form.html", form=form, holder=user), status


def _parse_grants(values: list[str]) -> list[tuple[str, int]]:
    # The values passed the choices' check: "role:unit id" of the holder's grants.
    pairs = []
    for value in values:
        role, _sep, unit_id = value.partition(":")
        pairs.append((role, int(unit_id)))
    return pairs


@bp.route("/users/<int:user_id>/tokens/new", methods=["GET", "POST"])
@allow("admin")
@session_policy.fresh_required
def new_token_for(user_id: int):
    user = _holder(user_id)
    form = _token_form(user)
    if not form.validate_on_submit():
        return _form_page(user, form, 400 if form.errors else 200)
    now = utcnow()
    # The token works to the end of the chosen day, local time (23:59, shown on that day). A day
    # far off either way is refused by ``issue`` all the same: clamped, it cannot overflow.
    today = clock.today()
    day = min(
        max(form.expires_at.data, today - dt.timedelta(days=2)),
        today + dt.timedelta(days=api_tokens.MAX_DAYS + 2),
    )
    expires_at = clock.local_day_bounds(day)[1] - dt.timedelta(minutes=1)
    with on_refusal(lambda status: _form_page(user, form, status), field=form):
        token, secret = api_tokens.issue(
            db.session,
            user_id=user.id,
            name=form.name.data,
            grants=_parse_grants(form.grants.data or []),
            expires_at=expires_at,
            actor_id=current_user.id,
            now=now,
        )
    db.session.commit()
    response = make_response(
        render_template(
            "admin/tokens_secret.html",
            token=token,
            holder=user,
            secret=secret,
            units=_units(g.unit_id for g in token.grants),
        )
    )
    # The secret is in this page only: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _token_in_reach(token_id: int) -> tuple[ApiToken, User]:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    user = get_in_scope(User, token.user_id, "admin")
    if not accounts.administers(db.session, current_user, user):
        abort(403)
    return token, user


def _revoke_consequence(token: ApiToken, user: User) -> Consequence:
    return Consequence(
        title=_("Revoke the token “%(name)s”", name=token.name),
        verb=_("Yes, revoke the token"),
        action=url_for("admin.revoke_token", token_id=token.id),
        cancel=url_for("admin.tokens"),
        consequence=_(
            "Every integration using this token stops working at once. A revoked token"
            " cannot be restored; issue a new one if it is needed again."
        ),
        facts=[
            (_("Token name"), token.name),
            (_("Holder"), user.full_name),
            (_("Begins with"), f"{token.prefix}…"),
        ],
    )


@bp.route("/tokens/<int:token_id>/revoke/confirm")
@allow("admin")
def revoke_token_confirm(token_id: int):
    token, user = _token_in_reach(token_id)
    return confirm_page(_revoke_consequence(token, user))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def revoke_token(token_id: int):
    token, user = _token_in_reach(token_id)
    if not is_confirmed():  # a double click on the old button, or a script: nothing happens
        return confirm_page(_revoke_consequence(token, user), 422)
    with on_refusal(_tokens_page):
        api_tokens.revoke(db.session, token_id=token.id, actor_id=current_user.id, now=utcnow())
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("admin.tokens"))
