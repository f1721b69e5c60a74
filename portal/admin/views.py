"""User administration within the admin's jurisdictions: accounts, role grants, two-factor."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, or_, select

from core import accounts, audit, mfa, password_resets, search_text
from core import queries as core_queries
from core.account_models import phone_index_of
from core.accounts import RoleGrant, User
from portal import session_policy
from portal.admin.blueprint import bp
from portal.admin.forms import GrantForm, NewUserForm, UserForm
from portal.admin.reach import admin_unit_choices
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm  # arg_int: fuzzing fix (S13)
from portal.i18n import language, translate_error
from portal.paging import other_args, page_of, row_link
from portal.security import allow, current_scope, get_in_scope


def _user_in_scope(user_id: int) -> User:
    return get_in_scope(User, user_id, "admin")


def _outside_reach(user: User):
    """Answer 403 with the reason, nothing written, unless the admin may act on ``user``.

    A regional administrator lists and reads the accounts whose home unit lies in the region,
    but changes only those whose every role grant lies inside their jurisdictions too.
    """
    if accounts.administers(db.session, current_user, user):
        return None
    db.session.rollback()
    exc = accounts.OutsideReach()
    flash(translate_error(exc), "danger")
    return _render_user_page(user, exc.status)


@bp.route("/users")
@allow("admin")
def users():
    q = (request.args.get("q") or "").strip()
    query = core_queries.account_rows(current_scope("admin"), language())
    if q:
        # A name by its search key (core.search_text: any case, Kazakh or Russian spelling).
        # contains(autoescape=True): "%" and "_" are searched for, not wildcards that list
        # every account (S14 found ?q=% matching all).
        # A phone is sealed at rest: it is found whole, in any spelling, by its blind index.
        # Only text that is a phone asks for one: ``phone_index == None`` would be read as
        # IS NULL and list every account without a phone.
        phone_key = phone_index_of(q)
        query = query.where(
            or_(
                search_text.matches(
                    search_text.parse_query(q), key=User.search_name, name=User.full_name
                ),
                User.email.contains(q.lower(), autoescape=True),
                User.phone_index == phone_key if phone_key else false(),
            )
        )
    found = page_of(query.order_by(User.full_name, User.id), rows=True)
    ids = [u.id for u in found.rows]
    return render_template(
        "admin/users.html",
        users=found.rows,
        roles=core_queries.live_roles(db.session, ids),
        manageable=accounts.administered(db.session, current_user, ids),
        q=q,
        page=found.page,
        total=found.total,
        pages=found.pages,
        args=other_args(),
        user_href=row_link("admin.user", "user_id"),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def new_user():
    form = NewUserForm()
    form.unit_id.choices = admin_unit_choices()
    if form.validate_on_submit():
        with on_refusal("admin/user_form.html", form=form, user=None):
            user = accounts.create_user(
                db.session,
                email=form.email.data,
                phone=form.phone.data,
                full_name=form.full_name.data,
                preferred_language=form.preferred_language.data,
                unit_id=form.unit_id.data,
                password=form.password.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The account has been created."), "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), (
        400 if form.errors else 200
    )


def _render_user_page(user: User, status: int = 200, grant_form: GrantForm | None = None):
    if grant_form is None:
        grant_form = GrantForm()
        grant_form.unit_id.choices = admin_unit_choices()
    history = db.session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.id.desc())
    ).all()
    return render_template(
        "admin/user.html",
        user=user,
        grant_form=grant_form,
        confirm=ConfirmForm(),
        history=history,
        has_factor=mfa.factor_of(db.session, user.id) is not None,
        can_manage=accounts.administers(db.session, current_user, user),
        reach_note=translate_error(accounts.OutsideReach()),
        trail=audit.events_for(db.session, "user", user.id),
    ), status


@bp.route("/users/<int:user_id>")
@allow("admin")
def user(user_id: int):
    return _render_user_page(_user_in_scope(user_id))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow("admin")
def edit_user(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    form = UserForm(obj=user)
    form.unit_id.choices = admin_unit_choices()
    if form.validate_on_submit():
        with on_refusal("admin/user_form.html", form=form, user=user):
            accounts.update_profile(
                db.session,
                user_id=user.id,
                full_name=form.full_name.data,
                email=form.email.data,
                phone=form.phone.data,
                preferred_language=form.preferred_language.data,
                unit_id=form.unit_id.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The account has been saved."), "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), (
        400 if form.errors else 200
    )


def _act(user: User, action, success: str, grant_form: GrantForm | None = None):
    """Run one domain command from a user page; errors re-render it with their status."""
    if grant_form is None and not ConfirmForm().validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _render_user_page(user, status, grant_form)):
        action()
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/grants", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def grant(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    form = GrantForm()
    form.unit_id.choices = admin_unit_choices()
    if not form.validate_on_submit():
        return _render_user_page(user, 400, form)
    return _act(
        user,
        lambda: accounts.grant_role(
            db.session,
            user_id=user.id,
            role=form.role.data,
            unit_id=form.unit_id.data,
            actor_id=current_user.id,
        ),
        _("The role has been granted."),
        grant_form=form,
    )


@bp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def revoke(grant_id: int):
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None:
        abort(404)
    user = _user_in_scope(grant.user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.revoke_grant(db.session, grant_id=grant_id, actor_id=current_user.id),
        _("The role has been revoked."),
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow("admin")
def deactivate(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.set_active(
            db.session, user_id=user.id, active=False, actor_id=current_user.id
        ),
        _("The account has been deactivated and its sessions ended."),
    )


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def reset_mfa(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: mfa.reset(db.session, user_id=user.id, actor_id=current_user.id),
        _("Two-factor sign-in has been reset; the user sets it up again at the next sign-in."),
    )


@bp.route("/users/<int:user_id>/password/force-reset", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def force_reset(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: password_resets.force_reset(db.session, user_id=user.id, actor_id=current_user.id),
        _("The user must choose a new password at the next sign-in; their sessions have ended."),
    )


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@allow("admin")
def activate(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.set_active(
            db.session, user_id=user.id, active=True, actor_id=current_user.id
        ),
        _("The account has been activated."),
    )
