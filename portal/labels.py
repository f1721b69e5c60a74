"""Translated display names for codes stored in the database (roles, levels, statuses).

Longer than 500 lines on purpose: it is a catalogue, tables of code → label and no logic.
Several tables span every package (the audit log's actions and object types, the states of
every workflow) and are checked whole against the codes the database holds; split by package,
a new code's label would have several homes to be missed from.
"""

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
    "reviewer": _l("Complaint reviewer"),
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
    "auth.reauth": _l("Password confirmed again"),
    "auth.reauth_failed": _l("Wrong password on confirmation"),
    "auth.mfa_failed": _l("Wrong two-factor code"),
    "auth.password_ok": _l("Password accepted, code awaited"),
    "auth.second_factor": _l("Two-factor code accepted"),
    "signup.start": _l("Sign-up started"),
    "auth.password_reset_start": _l("Password reset code asked for"),
    "auth.password_reset": _l("Password reset"),
    "auth.break_glass": _l("Break-glass access given on the server"),
    "user.force_reset": _l("Password reset required by an administrator"),
    "mfa.enable": _l("Two-factor sign-in set up"),
    "mfa.reset": _l("Two-factor sign-in reset"),
    "mfa.recovery_used": _l("Recovery code used"),
    "mfa.recovery_regenerated": _l("New recovery codes made"),
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
    # A register entry in force: ru "Действует", kk "Жарамды" (glossary), not "Active".
    "active": _l("Valid"),
    "suspended": _l("Suspended"),
    "expelled": _l("Expelled"),
    # Not the application's "Withdrawn": ru "Выбыл по собственному желанию" (glossary).
    "withdrawn": _l("Left of their own will"),
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

AUDIT_ACTION_LABELS.update(
    {
        "budget.program_create": _l("Budget program created"),
        "budget.line_create": _l("Budget line opened"),
        "budget.decision_enter": _l("Maslikhat decision entered"),
        "budget.decision_verify": _l("Maslikhat decision verified"),
        "budget.year_close": _l("Fiscal year closed"),
        "budget.mci_set": _l("MCI set"),
        "budget.reconcile": _l("Budget books checked"),
        "ledger.commit": _l("Funds committed"),
        "ledger.release": _l("Funds released"),
        "ledger.disburse": _l("Funds paid"),
    }
)

JOB_KIND_LABELS["budget.reconcile"] = _l("Check of the budget books")

PURPOSE_LABELS = {
    "citizen_rewards": _l("Rewards of citizens"),
    "sober_settlement_incentives": _l("Sober-settlement incentives"),
}

DECISION_KIND_LABELS = {
    "adoption": _l("Adoption of the budget"),
    "clarification": _l("Clarification of the budget"),
}

LEDGER_KIND_LABELS = {
    "commit": _l("Commitment"),
    "release": _l("Release"),
    "disburse": _l("Payment"),
}

AUDIT_ACTION_LABELS.update(
    {
        "register.validity": _l("Certificate validity set"),
        "shift.plan": _l("Shift planned"),
        "shift.edit": _l("Shift changed"),
        "shift.cancel": _l("Shift cancelled"),
        "shift.attendance": _l("Attendance recorded"),
        "shift.close": _l("Shift closed"),
        "signup.create": _l("Signed up for a shift"),
        "signup.cancel": _l("Place on a shift given up"),
        "signup.check_in": _l("Checked in"),
        "signup.check_out": _l("Checked out"),
        "contribution.log": _l("Contribution logged"),
        "contribution.confirm": _l("Contribution confirmed"),
        "contribution.reject": _l("Contribution rejected"),
        "contribution_kind.save": _l("Contribution kind saved"),
        "job.retry": _l("Job run again"),
        "api_token.issue": _l("Access token issued"),
        "api_token.revoke": _l("Access token revoked"),
        "api_token.use": _l("Access token used"),
        "attendance_setting.update": _l("Offline check-in limit set"),
    }
)

JOB_KIND_LABELS.update(
    {
        "shifts.close": _l("Closing ended shifts"),
        "shifts.remind": _l("Shift reminders"),
    }
)

SIGNUP_STATUS_LABELS = {
    "signed_up": _l("Signed up"),
    "checked_in": _l("Checked in"),
    "completed": _l("Completed"),
    "no_show": _l("Did not come"),
    "cancelled": _l("Cancelled"),
}

CONTRIBUTION_STATUS_LABELS = {
    "logged": _l("Waiting for confirmation"),
    "confirmed": _l("Confirmed"),
    "rejected": _l("Rejected"),
    "superseded": _l("Replaced by a correction"),
}

AUDIT_ACTION_LABELS.update(
    {
        "policy.set": _l("Reward policy set"),
        "commission.create": _l("Commission created"),
        "commission.member_add": _l("Commission member appointed"),
        "commission.member_end": _l("Commission member's term ended"),
        "nomination.create": _l("Nomination created"),
        "nomination.submit": _l("Nomination submitted"),
        "session.plan": _l("Commission session planned"),
        "session.agenda": _l("Agenda changed"),
        "session.open": _l("Commission session opened"),
        "session.vote": _l("Vote recorded"),
        "session.close": _l("Commission session closed"),
        "minutes.final": _l("Minutes finalised"),
        "minutes.scan": _l("Signed scan of the minutes attached"),
        "session.act": _l("Akimat's act recorded"),
        "payout.paid": _l("Reward paid"),
        "payout.failed": _l("Payment failed"),
        "payout.voided": _l("Reward voided"),
        "payout.handed_over": _l("Reward handed over"),
    }
)

REWARD_FORM_LABELS = {
    "thanks": _l("Letter of thanks"),
    "certificate": _l("Certificate of honour"),
    "valuable_gift": _l("Valuable gift"),
    "cash": _l("Cash reward"),
}

COMMISSION_ROLE_LABELS = {
    "chair": _l("Chair"),
    "deputy_chair": _l("Deputy chair"),
    "secretary": _l("Secretary"),
    "member": _l("Commission member"),
}

NOMINATION_STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "on_agenda": _l("On the agenda"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "deferred": _l("Deferred"),
}

SESSION_STATUS_LABELS = {
    "planned": _l("Planned"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "minutes_final": _l("Minutes final"),
}

VOTE_CHOICE_LABELS = {
    "for": _l("For"),
    "against": _l("Against"),
    "abstain": _l("Abstain"),
    "recused": _l("Recused"),
}

OUTCOME_LABELS = {
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "deferred": _l("Deferred"),
}

PAYOUT_STATUS_LABELS = {
    "awaiting": _l("Awaiting payment"),
    "pending": _l("Pending"),
    "paid": _l("Paid"),
    "failed": _l("Payment failed"),
    "voided": _l("Voided"),
    "handed_over": _l("Handed over"),
}

AMOUNT_UNIT_LABELS = {
    "mci": _l("MCI"),
    "tenge": _l("tenge"),
}

# Why a member was recused automatically when the session opened.
RECUSAL_LABELS = {
    "nominator": _l("is the nominator"),
    "nominee": _l("is the nominee"),
}

# ---- deputies' inquiries ----
INQUIRY_OBJECT_LABELS = {
    "budget_line": _l("Budget line"),
    "maslikhat_decision": _l("Maslikhat decision"),
    "commission_session": _l("Commission session"),
    "payout": _l("Payout"),
}
INQUIRY_STATUS_LABELS = {
    "open": _l("Awaiting an answer"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
}

# ---- sober settlements ----
DECLARATION_STATUS_LABELS = {
    "declared": _l("Declared"),
    "confirmed": _l("Confirmed"),
    "revoked": _l("Revoked"),
}

SIGNATORY_ROLE_LABELS = {
    "rural_akim": _l("Rural akim"),
    "police_inspector": _l("District police inspector"),
    "elders_council": _l("Council of elders"),
    "other": _l("Other"),
}

INITIATIVE_STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "under_review": _l("Under review"),
    "supported": _l("Supported"),
    "declined": _l("Declined"),
}

PROPOSER_ROLE_LABELS = {
    "activist": _l("Activist"),
    "rural_akim": _l("Rural akim"),
}

AUDIT_ACTION_LABELS.update(
    {
        "sober.declare": _l("Sober-settlement declaration recorded"),
        "sober.confirm": _l("Sober-settlement status confirmed"),
        "sober.revoke": _l("Sober-settlement status revoked"),
        "sober.outlet_add": _l("Retail outlet's refusal recorded"),
        "sober.indicator_kind_save": _l("Indicator kind saved"),
        "sober.indicator_record": _l("Indicator value recorded"),
        "sober.indicator_import": _l("Indicator values imported"),
        "sober.initiative_submit": _l("Initiative submitted"),
        "sober.initiative_review": _l("Initiative reviewed"),
        "sober.initiative_comment": _l("Comment on an initiative"),
    }
)

JOB_KIND_LABELS["sober.indicators_import"] = _l("Import of sober-settlement indicators")

JOB_KIND_LABELS.update(
    {
        "oversight.flags": _l("Red flags"),
        "oversight.export": _l("Export"),
    }
)
AUDIT_ACTION_LABELS["oversight.export"] = _l("Data exported")

FLAG_KIND_LABELS = {
    "payout_without_minutes": _l("Payout without final minutes or an akimat act"),
    "over_annual_cap": _l("Recipient over the annual cap"),
    "payouts_within_30_days": _l("Several payouts within 30 days over the cap of one reward"),
    "recipient_is_insider": _l("Recipient is a commission member, coordinator or the nominator"),
    "confirmed_by_nominator": _l("Contributions confirmed by the nominator"),
    "commit_on_closed_year": _l("Commitment on a closed year"),
    "line_ledger_drift": _l("Line counters differ from the ledger"),
    "line_decision_drift": _l("Approved amount differs from the verified decisions"),
    "audit_chain_broken": _l("Broken audit chain"),
}

EXPORT_DATASET_LABELS = {
    "payouts": _l("Payouts"),
    "decisions": _l("Commission decisions"),
    "ledger": _l("Ledger entries"),
    "register": _l("Register of members"),
}

EXPORT_CODE_LABELS = {
    "payout_status": PAYOUT_STATUS_LABELS,
    "session_status": SESSION_STATUS_LABELS,
    "outcome": OUTCOME_LABELS,
    "form": REWARD_FORM_LABELS,
    "purpose": PURPOSE_LABELS,
    "entry_kind": LEDGER_KIND_LABELS,
    "member_kind": KIND_LABELS,
    "member_status": MEMBER_STATUS_LABELS,
}

JOB_KIND_LABELS["oversight.report"] = _l("Report to the maslikhat's session")
AUDIT_ACTION_LABELS.update(
    {
        "inquiry.ask": _l("Deputy's inquiry asked"),
        "inquiry.answer": _l("Inquiry answered"),
        "inquiry.close": _l("Inquiry closed"),
        "inquiry.follow_up": _l("Follow-up question on an inquiry"),
        "pii.reveal": _l("Personal data shown in full"),
    }
)

# The states of every declared workflow (core.transitions), by workflow name: the 409 of a
# step someone else took first names the state the record is in now, in the reader's language.
WORKFLOW_STATE_LABELS = {
    "application": APPLICATION_STATUS_LABELS,
    "member": MEMBER_STATUS_LABELS,
    "shift": {"planned": _l("Planned"), "cancelled": _l("Cancelled")},
    "signup": SIGNUP_STATUS_LABELS,
    "contribution": CONTRIBUTION_STATUS_LABELS,
    "maslikhat_decision": {"entered": _l("Awaiting verification"), "verified": _l("Verified")},
    "commission_session": SESSION_STATUS_LABELS,
    "nomination": NOMINATION_STATUS_LABELS,
    "payout": PAYOUT_STATUS_LABELS,
    "inquiry": {"open": _l("Open"), "answered": _l("Answered"), "closed": _l("Closed")},
    "sober_declaration": DECLARATION_STATUS_LABELS,
    "sober_initiative": INITIATIVE_STATUS_LABELS,
}

# Retention of personal data (volunteers.retention, volunteers.erasure).
JOB_KIND_LABELS["retention.apply"] = _l("Retention of personal data")
AUDIT_ACTION_LABELS.update(
    {
        "retention.rule_update": _l("Retention rule changed"),
        "application.erase": _l("Personal data of an application erased"),
        "member.erase": _l("Personal data of a register entry erased"),
        "user.erase": _l("Account erased"),
    }
)

# Administrative units added or renamed by an administrator (core.place_admin).
AUDIT_ACTION_LABELS.update(
    {
        "admin_unit.create": _l("Administrative unit added"),
        "admin_unit.rename": _l("Administrative unit renamed"),
    }
)

# Steps recorded in the audit log that had no label of their own (issue 19, finding 7).
AUDIT_ACTION_LABELS.update(
    {
        "auth.login_refused": _l("Sign-in of a demo account refused"),
        "commission.rules": _l("Commission's voting rules changed"),
        "keys.rotate": _l("Encryption key of personal data rotated"),
        "payout_tax_rate.entered": _l("Tax rate on rewards entered"),
        "session.conflict": _l("Conflict of interest declared"),
        # Steps added with issue 19 by the other parts of the portal.
        "calendar_feed.created": _l("Calendar link of shifts made"),
        "calendar_feed.reset": _l("Calendar link of shifts replaced"),
        "commission.rename": _l("Commission renamed"),
        "notification.read": _l("Message read"),
        "notification.read_all": _l("All messages marked as read"),
        "payout.iban_requested": _l("Recipient asked for a bank account"),
        "payout_account.entered": _l("Bank account for rewards entered"),
        "payout_account.changed": _l("Bank account for rewards changed"),
        "signup.undo_check_out": _l("Check-out undone"),
    }
)

# What each record named in the audit log is, by its object type (the ``object_type`` that
# ``core.audit.record`` stores), in the reader's language.
AUDIT_OBJECT_LABELS = {
    "admin_unit": _l("Administrative unit"),
    "agenda_item": _l("Reward"),
    "application": _l("Application"),
    "budget_line": _l("Budget line"),
    "budget_program": _l("Budget program"),
    "calendar_day": _l("Calendar date"),
    "commission": _l("Commission"),
    "commission_session": _l("Commission session"),
    "contribution": _l("Contribution"),
    "contribution_kind": _l("Kind of contribution"),
    "inquiry": _l("Deputy's inquiry"),
    "job_run": _l("Background task"),
    "maslikhat_decision": _l("Maslikhat decision"),
    "mci_rate": _l("MCI"),
    "notification": _l("Message"),
    "member": _l("Register entry"),
    "member_import": _l("Import of the register"),
    "nomination": _l("Nomination"),
    "password_reset_request": _l("Password reset request"),
    "patrol_unit": _l("Patrol unit"),
    "payout": _l("Payout"),
    "payout_tax_rate": _l("Tax rate on rewards"),
    "retention_rule": _l("Retention rule"),
    "reward_policy": _l("Reward policy"),
    "sealed_column": _l("Encrypted personal data"),
    "shift": _l("Shift"),
    "signup": _l("Place on a shift"),
    "api_token": _l("Access token"),
    "signup_request": _l("Sign-up request"),
    "sober_declaration": _l("Sober-settlement declaration"),
    "sober_indicator_import": _l("Import of sober-settlement indicators"),
    "sober_indicator_kind": _l("Sober-settlement indicator"),
    "sober_indicator_value": _l("Sober-settlement indicator value"),
    "sober_initiative": _l("Sober-settlement initiative"),
    "user": _l("Account"),
}

# Hearings before burdensome acts and complaints against them (issue 20, appeals).
ACT_KIND_LABELS = {
    "refuse_registration": _l("Refusal to register"),
    "suspend": _l("Suspension from the register"),
    "expel": _l("Expulsion from the register"),
    "refuse_reward": _l("Refusal of a reward"),
    "defer_reward": _l("Deferral of a reward"),
    "decline_initiative": _l("Refusal of an initiative"),
}
HEARING_STATUS_LABELS = {
    "drafted": _l("Preliminary decision drafted"),
    "notified": _l("Person notified"),
    "heard": _l("Heard"),
    "adopted": _l("Act adopted"),
    "withdrawn": _l("Withdrawn"),
}
COMPLAINT_STATUS_LABELS = {
    "registered": _l("Registered"),
    "granted": _l("Granted by the issuing body"),
    "forwarded": _l("Under review"),
    "decided": _l("Decided"),
}
COMPLAINT_KIND_LABELS = {
    "act": _l("Against an act"),
    "inaction": _l("Against inaction"),
    "police": _l("Against the police's refusal"),
}
APPEAL_OUTCOME_LABELS = {
    "cancel": _l("Act cancelled"),
    "cancel_new_act": _l("Act cancelled, a new act to be adopted"),
    "perform_action": _l("The action must be performed"),
    "unsatisfied": _l("Complaint not satisfied"),
    "returned": _l("Returned to the issuing body to fix"),
    "unconsidered": _l("Complaint left unconsidered"),
}
EXCEPTION_KIND_LABELS = {
    "person_waived": _l("The person asked to skip the hearing"),
    "urgency": _l("Urgency to protect rights or public interests"),
    "short_term": _l("The procedure's term is under 5 working days"),
}
DELIVERY_WAY_LABELS = {
    "by_hand": _l("Handed over in person"),
    "in_office": _l("At the office's reception"),
    "post": _l("By registered post"),
    "courier": _l("By courier"),
}
WORKFLOW_STATE_LABELS.update(
    {"hearing": HEARING_STATUS_LABELS, "complaint": COMPLAINT_STATUS_LABELS}
)
AUDIT_ACTION_LABELS.update(
    {
        "hearing.draft": _l("Preliminary decision drafted"),
        "hearing.notify": _l("Person notified of a preliminary decision"),
        "hearing.objection": _l("Objection to a preliminary decision"),
        "hearing.oral_request": _l("Oral hearing asked for"),
        "hearing.protocol": _l("Protocol of a hearing recorded"),
        "hearing.remarks": _l("Remarks on a hearing's protocol"),
        "hearing.adopt": _l("Administrative act adopted"),
        "hearing.withdraw": _l("Preliminary decision withdrawn"),
        "hearing.delivery": _l("Notice receipt recorded"),
        "hearing.reasons": _l("Reasons on objections stated"),
        "hearing.act_receipt": _l("Receipt of the act recorded"),
        "complaint.restore_term": _l("Complaint term restored"),
        "complaint.overturn_blocked": _l("Overturned act could not be undone on the record"),
        "hearing.erase": _l("Personal data of a hearing erased"),
        "complaint.erase": _l("Personal data of a complaint erased"),
        "complaint.file": _l("Complaint filed"),
        "complaint.grant": _l("Complaint granted by the issuing body"),
        "complaint.forward": _l("Complaint forwarded to the reviewing body"),
        "complaint.decide": _l("Complaint decided"),
        "complaint.police_outcome": _l("Police hierarchy's decision on a complaint recorded"),
        "complaint.stay_execution": _l("Execution of an act suspended by a complaint"),
        "complaint.resume_execution": _l("Execution of an act resumed"),
        "appeal_setting.save": _l("Complaint-reviewing body set"),
        "legal_ground.save": _l("Legal ground saved"),
    }
)
AUDIT_OBJECT_LABELS.update(
    {
        "hearing": _l("Hearing"),
        "complaint": _l("Complaint"),
        "appeal_setting": _l("Complaint-reviewing body"),
        "legal_ground": _l("Legal ground"),
    }
)
