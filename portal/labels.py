"""Translated display names for codes stored in the database (roles, levels, statuses)."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "volunteer": _l("Volunteer"),
    "coordinator": _l("Coordinator"),
    "registrar": _l("Registrar"),
    "secretary": _l("Commission secretary"),
    "member": _l("Commission member"),
    "chair": _l("Commission chair"),
    "finance": _l("Finance officer"),
    "deputy": _l("Maslikhat deputy"),
    "admin": _l("Administrator"),
}

LEVEL_LABELS = {
    "country": _l("Country"),
    "region": _l("Region"),
    "city": _l("City"),
    "district": _l("District"),
    "rural_okrug": _l("Rural okrug"),
    "settlement": _l("Settlement"),
}

JOB_STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}

JOB_KIND_LABELS = {
    "audit.verify": _l("Verify the audit chain"),
}

AUDIT_ACTION_LABELS = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Failed sign-in"),
    "auth.logout": _l("Signed out"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password_change": _l("Password changed"),
    "user.activate": _l("Account activated"),
    "user.deactivate": _l("Account deactivated"),
    "role.grant": _l("Role granted"),
    "role.revoke": _l("Role revoked"),
    "audit.verify": _l("Audit chain verified"),
}
