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

KIND_LABELS = {
    "public_assistant": _l("Public assistant"),
    "patrol_member": _l("Volunteer-patrol member"),
}

APPLICATION_STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "police_check": _l("Police check"),
    "refused": _l("Refused"),
    "petitioned": _l("Petitioned to the akimat"),
    "registered": _l("Registered"),
    "withdrawn": _l("Withdrawn"),
}

MEMBER_STATUS_LABELS = {
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "expelled": _l("Expelled"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}

AUDIT_ACTION_LABELS.update(
    {
        "application.submit": _l("Application submitted"),
        "application.take_check": _l("Police check taken"),
        "application.check_passed": _l("Police check passed"),
        "application.refuse": _l("Application refused"),
        "application.petition": _l("Akimat petitioned"),
        "application.register": _l("Registered in the register"),
        "application.withdraw": _l("Application withdrawn"),
        "consent.withdraw": _l("Consent withdrawn"),
        "member.register": _l("Certificate issued"),
        "member.active": _l("Member reinstated"),
        "member.suspended": _l("Member suspended"),
        "member.expelled": _l("Member expelled"),
        "member.withdrawn": _l("Member withdrew"),
        "member.expired": _l("Certificate expired"),
        "member.assign_unit": _l("Patrol unit changed"),
        "patrol_unit.create": _l("Patrol unit created"),
        "patrol_unit.update": _l("Patrol unit changed"),
        "import.members": _l("Register imported"),
        "calendar.add": _l("Calendar date added"),
        "calendar.remove": _l("Calendar date removed"),
    }
)

JOB_KIND_LABELS.update(
    {
        "members.import": _l("Import of the register"),
        "members.expire": _l("Marking expired certificates"),
    }
)
