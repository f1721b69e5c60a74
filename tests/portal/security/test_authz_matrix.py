"""S5 — the IDOR matrix: every endpoint × every role × records of another jurisdiction.

One world per database: the whole demo (every loader ``flask demo`` runs), then a parallel set
of records in a district of another region (Pavlodar region, outside every demo account but the
national administrator), made through the domain services and marked ``ZZFOREIGN`` (records,
people, e-mails) or ``ZZPLACE`` (names of places) so that a leak is seen in any page.

For every rule of ``app.url_map`` a URL is built from the table ``ENDPOINTS`` below: each int
argument is the id of the foreign record of the kind the table names (a new endpoint the table
does not cover fails ``test_table_covers_every_endpoint``). Each URL is requested by every demo
account (one signed-in client each), a regional administrator, and an anonymous client, with
GET and, where the rule takes it, a POST with empty data:

* anonymous → 302 to /login, unless the view is public;
* a role the view does not ``allow`` → 403;
* an allowed role outside the foreign region, on a URL naming a foreign record → 403 or 404,
  unless the endpoint is in ``WIDE`` (deliberately public or country-wide, with the reason);
* nobody ever gets a 5xx;
* no response to anyone outside the foreign region shows a foreign marker (``ZZPLACE`` only
  where ``PLACE_NAMES_SHOWN`` says why a list of places is country-wide);
* a POST refused with 403/404 writes nothing (audit chain, job runs, notifications, files).

The foreign officials themselves (and the national administrator) open every GET URL naming a
foreign record: at least one of them must get a 200, which proves that the URL really names a
live foreign record and the refusals above are not vacuous. Two more checks use the same world:
``test_matrix_catches_a_missing_jurisdiction_check`` switches the jurisdiction check off and
expects the matrix to fail (negative control), and ``test_foreign_ids_in_forms_change_nothing``
puts foreign ids in the fields of well-formed POSTs (each with a twin that succeeds with an id of
the account's own region).

The national administrator (whose jurisdiction is the whole country) is inside the foreign
region too: their answers only have to be free of server errors.

The JSON API (issue 21: blueprints named ``api_*`` under /api/v1) is in the same table and
the same cells, with the API's answers: every refusal is an RFC 9457 problem
(``application/problem+json``); anonymous → 401 (never a redirect), unless the operation is
public (the OpenAPI document and its docs page are); a role the operation does not allow → 403;
a foreign record → 403 or 404. Its POSTs send a JSON body (``{}`` unless the table gives a
well-formed one, so that the refusal is about the record and not the body) and a fresh
``Idempotency-Key``; session callers would send ``X-CSRFToken`` too, but the tests' app has
CSRF off. Access tokens narrowed to one district are checked by tests/api/test_token_matrix.py
on this module's world.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal.security import PUBLIC, SIGNED_IN
from tests.conftest import (
    DEMO_PASSWORD,
    close_app,
    login,
    make_app,
    wait_for_jobs,
)
from tests.portal.security.world import clone, demo_plus

FOREIGN_REGION = "550000000"  # Pavlodar region: no demo account holds a role there
# Placeholder KATO codes (demo only, not from the KATO file), like demo_sober's villages.
FOREIGN_DISTRICT = "558800000"
FOREIGN_SETTLEMENT = "558830100"
RECORD_MARK = "zzforeign"  # compared case-insensitively: names "ZZFOREIGN …", e-mails "zzforeign.…"
PLACE_MARK = "ZZPLACE"
FOREIGN_PASSWORD = "foreign officials 2026"
PDF = b"%PDF-1.4\n% ZZFOREIGN scan\n%%EOF\n"
TEST_CONFIG = {
    # The matrix takes minutes: sign-ins stay fresh and failed re-entries are not throttled.
    "FRESH_LOGIN_SECONDS": 3600,
    "SESSION_IDLE_SECONDS": 3600,
    "LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
    "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
    # Every actor calls the API from the same test address, thousands of times.
    "API_LIMIT_PER_ADDRESS": "100000 per minute",
    "API_LIMIT_PER_TOKEN": "100000 per minute",
}


# ---- the table: endpoint -> URL variants -----------------------------------------------------


class F(str):
    """A foreign record of this kind: its id (or token) goes into the URL."""


@dataclasses.dataclass(frozen=True)
class Variant:
    args: dict  # path arguments: F(kind) or a literal value
    query: dict  # query-string arguments: F(kind) or a literal value
    target: bool  # the URL names a foreign record: outsiders must be refused
    # The JSON body of an API POST (values F(kind) or literal): a well-formed one where the
    # operation requires fields, so that a refusal is about the record, not a 422 of the body.
    body: dict = dataclasses.field(default_factory=dict)


def obj(query: dict | None = None, body: dict | None = None, **args) -> Variant:
    """A URL naming a foreign record (in its path, or in the query for a form about it)."""
    return Variant(args, query or {}, True, body or {})


def page(**query) -> Variant:
    """A page or list; with foreign ids in its filters it must still show nothing foreign."""
    return Variant({}, query, False)


def reference(**args) -> Variant:
    """A URL naming national reference data (no jurisdiction of its own)."""
    return Variant(args, {}, False)


USER, GRANT, RUN, FAILED_RUN = F("user"), F("grant"), F("run"), F("failed_run")
APPLICATION, MEMBER, PATROL = F("application"), F("member"), F("patrol_unit")
SHIFT, SIGNUP, CONTRIBUTION = F("shift"), F("signup"), F("contribution")
PROGRAM, LINE, DECISION = F("program"), F("line"), F("decision")
COMMISSION, SEAT, NOMINATION = F("commission"), F("seat"), F("nomination")
SESSION, ITEM, PAYOUT = F("session"), F("item"), F("payout")
DECLARATION, INITIATIVE, INQUIRY = F("declaration"), F("initiative"), F("inquiry")
DISTRICT, SETTLEMENT, TOKEN = F("district"), F("settlement"), F("token")
PENDING = F("pending_contribution")
CALENDAR_DAY = F("calendar_day")  # a real day of the national calendar (not foreign)
NOTE, FEED_TOKEN = F("notification"), F("calendar_token")
HEARING, COMPLAINT, COMPLAINT_FILE = F("hearing"), F("complaint"), F("complaint_file")
EXPORT_RUN, API_TOKEN = F("export_run"), F("api_token")  # issue 21
CERTIFICATE_NUMBER = F("certificate_number")
# A day the API's probes log a contribution on (recent: within any limit of the domain).
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def api_call(**body) -> Variant:
    """An API POST naming no record in its URL, with a JSON body (foreign ids in it)."""
    return Variant({}, {}, False, body)


ENDPOINTS: dict[str, list[Variant]] = {
    # administration
    "admin.activate": [obj(user_id=USER)],
    "admin.attendance_settings": [page()],
    "admin.new_token": [page()],
    "admin.new_token_for": [obj(user_id=USER)],
    "admin.revoke_token": [obj(token_id=API_TOKEN)],
    "admin.revoke_token_confirm": [obj(token_id=API_TOKEN)],
    "admin.tokens": [page()],
    "admin.audit_chain": [page()],
    "admin.calendar_days": [page()],
    "admin.contribution_kinds": [page()],
    "admin.deactivate": [obj(user_id=USER)],
    "admin.edit_retention_rule": [reference(kind="member_expired")],
    "admin.edit_user": [obj(user_id=USER)],
    "admin.force_reset": [obj(user_id=USER)],
    "admin.grant": [obj(user_id=USER)],
    "admin.new_unit": [page(), page(parent=DISTRICT)],
    "admin.new_user": [page()],
    "admin.operations": [page()],
    "admin.outbox": [page()],
    "admin.register_settings": [page()],
    "admin.remove_calendar_day": [reference(day=CALENDAR_DAY)],
    "admin.rename_unit": [obj(unit_id=DISTRICT)],
    "admin.reset_mfa": [obj(user_id=USER)],
    "admin.retention_rules": [page()],
    "admin.retry_run": [obj(run_id=FAILED_RUN)],
    "admin.revoke": [obj(grant_id=GRANT)],
    "admin.run_retention": [page()],
    "admin.units": [page()],
    "admin.user": [obj(user_id=USER)],
    "admin.users": [page()],
    "admin.verify_audit": [page()],
    # the JSON API (issue 21)
    "api-docs.openapi_json": [page()],
    "api_docs": [page()],
    "api_session.whoami": [page()],
    "api_coordination.application": [obj(application_id=APPLICATION)],
    "api_coordination.applications": [page(), page(status="submitted", q="ZZFOREIGN")],
    "api_coordination.confirm_contribution": [obj(contribution_id=PENDING)],
    "api_coordination.confirm_contributions": [api_call(ids=[PENDING])],
    "api_coordination.contributions_list": [page(), page(member_id=MEMBER)],
    "api_coordination.pass_check": [obj(application_id=APPLICATION, body={"confirmed": True})],
    "api_coordination.petition": [obj(application_id=APPLICATION)],
    "api_coordination.refuse": [
        obj(application_id=APPLICATION, body={"reason": "probe", "confirmed": True})
    ],
    "api_coordination.register_applicant": [
        obj(application_id=APPLICATION, body={"confirmed": True})
    ],
    "api_coordination.reject_contribution": [
        obj(contribution_id=PENDING, body={"reason": "probe"})
    ],
    "api_coordination.shift": [obj(shift_id=SHIFT)],
    "api_coordination.shifts_list": [page(), page(unit_id=DISTRICT)],
    "api_coordination.take_check": [obj(application_id=APPLICATION)],
    "api_exports.file": [obj(run_id=EXPORT_RUN)],
    "api_exports.show": [obj(run_id=EXPORT_RUN)],
    "api_exports.start": [api_call(dataset="payouts", format="csv", unit_id=DISTRICT)],
    "api_me.certificate": [page(), obj(query={"member_id": MEMBER})],
    "api_me.inbox": [page()],
    "api_me.me": [page()],
    "api_me.memberships": [page()],
    "api_me.rewards": [page()],
    "api_me_contributions.history": [page(), obj(query={"member_id": MEMBER})],
    "api_me_contributions.kinds": [page()],
    "api_me_contributions.log": [
        api_call(
            member_id=MEMBER,
            kind="preventive_event",
            occurred_on=YESTERDAY,
            description="probe",
        )
    ],
    "api_me_shifts.cancel": [obj(signup_id=SIGNUP)],
    "api_me_shifts.check_in": [obj(signup_id=SIGNUP)],
    "api_me_shifts.check_out": [obj(signup_id=SIGNUP)],
    "api_me_shifts.my_shifts": [page(), obj(query={"member_id": MEMBER})],
    "api_me_shifts.open_shifts": [page(), obj(query={"member_id": MEMBER})],
    "api_me_shifts.sign_up": [obj(shift_id=SHIFT)],
    "api_money.decisions": [page(), page(pending="true")],
    "api_money.ledger_entries": [page(), page(line=LINE)],
    "api_money.line": [obj(line_id=LINE)],
    "api_money.lines": [page(), page(unit=DISTRICT)],
    "api_money.payouts_list": [page(), page(line=LINE)],
    "api_public.certificate": [obj(number=CERTIFICATE_NUMBER, query={"token": TOKEN})],
    "api_public.sober_statistics": [page()],
    # the offline patrol app (issue 21)
    "pwa.app_shell": [page()],
    "pwa.manifest": [page()],
    "pwa.service_worker": [page()],
    # hearings and complaints (issue 20)
    "appeals.adopt": [obj(hearing_id=HEARING)],
    "appeals.attachment": [obj(complaint_id=COMPLAINT, attachment_id=COMPLAINT_FILE)],
    "appeals.cases": [
        page(),
        page(type="complaint", status="decided", overdue="1"),
        page(page="2"),
    ],
    "appeals.complaint": [obj(complaint_id=COMPLAINT)],
    "appeals.complaint_decision": [obj(complaint_id=COMPLAINT)],
    "appeals.complaint_decision_pdf": [obj(complaint_id=COMPLAINT)],
    "appeals.decide": [obj(complaint_id=COMPLAINT)],
    "appeals.enter_objection": [obj(hearing_id=HEARING)],
    "appeals.forward": [obj(complaint_id=COMPLAINT)],
    "appeals.forward_confirm": [obj(complaint_id=COMPLAINT)],
    "appeals.grant": [obj(complaint_id=COMPLAINT)],
    "appeals.hearing": [obj(hearing_id=HEARING)],
    "appeals.hearing_act": [obj(hearing_id=HEARING)],
    "appeals.hearing_act_pdf": [obj(hearing_id=HEARING)],
    "appeals.hearing_notice": [obj(hearing_id=HEARING)],
    "appeals.hearing_notice_pdf": [obj(hearing_id=HEARING)],
    "appeals.legal_grounds": [page()],
    "appeals.my_attachment": [obj(complaint_id=COMPLAINT, attachment_id=COMPLAINT_FILE)],
    "appeals.my_cases": [page()],
    "appeals.my_complaint": [obj(complaint_id=COMPLAINT)],
    "appeals.my_hearing": [obj(hearing_id=HEARING)],
    "appeals.my_new_complaint": [obj(query={"hearing": HEARING})],
    "appeals.my_objection": [obj(hearing_id=HEARING)],
    "appeals.my_oral_request": [obj(hearing_id=HEARING)],
    "appeals.my_remarks": [obj(hearing_id=HEARING)],
    "appeals.new_hearing": [obj(query={"act_kind": "suspend", "subject_id": MEMBER})],
    "appeals.new_paper_complaint": [obj(query={"hearing": HEARING})],
    "appeals.notify": [obj(hearing_id=HEARING)],
    "appeals.notify_confirm": [obj(hearing_id=HEARING)],
    "appeals.police_outcome": [obj(complaint_id=COMPLAINT)],
    "appeals.record_act_receipt": [obj(hearing_id=HEARING)],
    "appeals.record_delivery": [obj(hearing_id=HEARING)],
    "appeals.record_protocol": [obj(hearing_id=HEARING)],
    "appeals.restore_term": [obj(complaint_id=COMPLAINT)],
    "appeals.review_bodies": [page()],
    "appeals.state_reasons": [obj(hearing_id=HEARING)],
    "appeals.withdraw": [obj(hearing_id=HEARING)],
    # the account
    "auth.change_password": [page()],
    "auth.confirm": [page()],
    "auth.forgot_password": [page()],
    "auth.login": [page()],
    "auth.logout": [page()],
    "auth.mfa_setup": [page()],
    "auth.mfa_verify": [page()],
    "auth.new_password": [page()],
    "auth.regenerate_recovery_codes": [page()],
    "auth.reset_password": [page()],
    # the reward commission
    "commission.agenda": [obj(session_id=SESSION)],
    "commission.attach_scan": [obj(session_id=SESSION)],
    "commission.candidates": [page()],
    "commission.close_session": [obj(session_id=SESSION)],
    "commission.close_session_confirm": [obj(session_id=SESSION)],
    "commission.commission": [obj(commission_id=COMMISSION)],
    "commission.commission_rules": [obj(commission_id=COMMISSION)],
    "commission.commission_names": [obj(commission_id=COMMISSION)],
    "commission.commissions": [page()],
    "commission.declare_conflict": [obj(item_id=ITEM)],
    "commission.end_term": [obj(member_id=SEAT)],
    "commission.fail": [obj(item_id=ITEM)],
    "commission.finalize_minutes": [obj(session_id=SESSION)],
    "commission.finalize_minutes_confirm": [obj(session_id=SESSION)],
    "commission.hand_over": [obj(item_id=ITEM)],
    "commission.minutes_docx": [obj(session_id=SESSION)],
    "commission.minutes_pdf": [obj(session_id=SESSION)],
    "commission.my_nominations": [page()],
    "commission.my_rewards": [page()],
    "commission.my_sessions": [page()],
    "commission.nominate": [obj(member_id=MEMBER)],
    "commission.nominate_initiative": [obj(initiative_id=INITIATIVE)],
    "commission.nomination": [obj(nomination_id=NOMINATION)],
    "commission.open_session": [obj(session_id=SESSION)],
    "commission.paper_vote": [obj(session_id=SESSION, item_id=ITEM)],
    "commission.pay": [obj(item_id=ITEM)],
    "commission.ask_iban": [obj(item_id=ITEM)],
    "commission.payout": [obj(item_id=ITEM)],
    "commission.payouts_list": [page()],
    "commission.plan_session": [page()],
    "commission.policies_page": [page()],
    "commission.print_minutes": [obj(session_id=SESSION)],
    "commission.record_act": [obj(session_id=SESSION)],
    "commission.scan": [obj(session_id=SESSION)],
    "commission.session_page": [obj(session_id=SESSION)],
    "commission.sessions_list": [page()],
    "commission.submit_nomination": [obj(nomination_id=NOMINATION)],
    "commission.tax_rates_page": [page()],
    "commission.void": [obj(item_id=ITEM)],
    "commission.vote": [obj(item_id=ITEM)],
    # the budget
    "finance.close_year": [page()],
    "finance.decision": [obj(decision_id=DECISION)],
    "finance.decisions": [page()],
    "finance.line": [obj(line_id=LINE)],
    "finance.lines": [page(), page(unit=DISTRICT)],
    "finance.mci": [page()],
    "finance.new_decision": [page()],
    "finance.new_line": [page(), page(program=PROGRAM)],
    "finance.new_program": [page()],
    "finance.programs": [page()],
    "finance.reconcile": [page()],
    "finance.set_mci": [page()],
    "finance.verify_decision": [obj(decision_id=DECISION)],
    "finance.years": [page()],
    # job runs
    "jobruns.result_file": [obj(run_id=RUN)],
    "jobruns.show": [obj(run_id=RUN)],
    "jobruns.status": [obj(run_id=RUN)],
    # operations
    "ops.healthz": [page()],
    "ops.readyz": [page()],
    "metrics.metrics": [page()],
    # the maslikhat's oversight
    "oversight.answer_inquiry": [obj(inquiry_id=INQUIRY)],
    "oversight.appeal_complaint": [obj(complaint_id=COMPLAINT)],
    "oversight.appeal_hearing": [obj(hearing_id=HEARING)],
    "oversight.appeal_statistics": [page(), page(unit_id=DISTRICT)],
    "oversight.appeal_statistics_csv": [page(), page(unit_id=DISTRICT)],
    "oversight.ask_inquiry": [page()],
    "oversight.audit_log": [page()],
    "oversight.close_inquiry": [obj(inquiry_id=INQUIRY)],
    "oversight.compute_flags": [page()],
    "oversight.contribution": [obj(contribution_id=CONTRIBUTION)],
    "oversight.dashboard": [page()],
    "oversight.decision": [obj(decision_id=DECISION)],
    "oversight.exports_page": [page(), page(unit_id=DISTRICT)],
    "oversight.follow_up_inquiry": [obj(inquiry_id=INQUIRY)],
    "oversight.inquiry": [obj(inquiry_id=INQUIRY)],
    "oversight.inquiry_list": [page(), page(all="1")],
    "oversight.line": [obj(line_id=LINE)],
    "oversight.member": [obj(member_id=MEMBER)],
    "oversight.new_inquiry": [obj(query={"object_type": "budget_line", "object_id": LINE})],
    "oversight.order_session_report": [page()],
    "oversight.payout": [obj(item_id=ITEM)],
    "oversight.print_session_report": [obj(run_id=RUN)],
    "oversight.red_flags": [page()],
    "oversight.reveal": [
        obj(object_type="member", object_id=MEMBER, field="iin"),
        obj(object_type="application", object_id=APPLICATION, field="iin"),
        obj(object_type="payout", object_id=PAYOUT, field="iban"),
    ],
    "oversight.reward": [obj(item_id=ITEM)],
    "oversight.session": [obj(session_id=SESSION)],
    "oversight.session_reports": [page()],
    "oversight.start_export": [page()],
    "oversight.verify_audit": [page()],
    # public pages
    "public.favicon": [page()],
    "public.home": [page()],
    "public.set_language": [page()],
    # shifts and contributions
    "shifts.attendance": [obj(shift_id=SHIFT)],
    "shifts.cancel_shift": [obj(shift_id=SHIFT)],
    "shifts.cancel_signup": [obj(signup_id=SIGNUP)],
    "shifts.check_in": [obj(signup_id=SIGNUP)],
    "shifts.check_out": [obj(signup_id=SIGNUP)],
    "shifts.edit_shift": [obj(shift_id=SHIFT)],
    "shifts.manage": [page(), page(unit=DISTRICT)],
    "shifts.member_contributions": [obj(member_id=MEMBER)],
    "shifts.mine": [page(), page(member=MEMBER)],
    # the inbox and the calendar link of shifts (issue 19)
    "inbox.index": [page()],
    "inbox.mark_read": [obj(note_id=NOTE)],
    "inbox.mark_all_read": [page()],
    "calendar.issue_link": [obj(member_id=MEMBER)],
    "calendar.feed": [obj(token=FEED_TOKEN)],
    "shifts.my_contributions": [page(), page(member=MEMBER)],
    "shifts.new_shift": [page()],
    "shifts.queue": [page()],
    "shifts.shift": [obj(shift_id=SHIFT)],
    "shifts.sign_up": [obj(shift_id=SHIFT)],
    "shifts.summary": [page(), obj(query={"unit": DISTRICT})],
    "shifts.undo_check_out": [obj(signup_id=SIGNUP)],
    "shifts.undo_member_check_out": [obj(shift_id=SHIFT, signup_id=SIGNUP)],
    # sober settlements
    "sober.add_outlet": [obj(declaration_id=DECLARATION)],
    "sober.comment_initiative": [obj(initiative_id=INITIATIVE)],
    "sober.confirm": [obj(declaration_id=DECLARATION)],
    "sober.declaration": [obj(declaration_id=DECLARATION)],
    "sober.declare": [page(), page(unit=SETTLEMENT)],
    "sober.district": [obj(unit_id=DISTRICT)],
    "sober.import_indicators": [page()],
    "sober.indicator_kinds": [page()],
    "sober.initiative": [obj(initiative_id=INITIATIVE)],
    "sober.initiatives": [page()],
    "sober.public_page": [page()],
    "sober.record_file": [obj(declaration_id=DECLARATION)],
    "sober.record_indicator": [page(), page(unit=SETTLEMENT)],
    "sober.registry": [page()],
    "sober.review_initiative": [obj(initiative_id=INITIATIVE)],
    "sober.revoke": [obj(declaration_id=DECLARATION)],
    "sober.settlement": [obj(unit_id=SETTLEMENT)],
    "sober.submit_initiative": [page()],
    # volunteers and the register
    "volunteers.application": [obj(application_id=APPLICATION)],
    "volunteers.applications": [page()],
    "volunteers.apply": [page()],
    "volunteers.cabinet": [page()],
    "volunteers.own_iban": [page()],
    "volunteers.certificate": [obj(member_id=MEMBER)],
    "volunteers.certificate_pdf": [obj(member_id=MEMBER)],
    "volunteers.import_register": [page()],
    "volunteers.import_template_file": [page()],
    "volunteers.member": [obj(member_id=MEMBER)],
    "volunteers.member_status": [obj(member_id=MEMBER)],
    "volunteers.member_unit": [obj(member_id=MEMBER)],
    "volunteers.members": [page(), page(unit=DISTRICT, patrol_unit=PATROL)],
    "volunteers.pass_check": [obj(application_id=APPLICATION)],
    "volunteers.pass_check_confirm": [obj(application_id=APPLICATION)],
    "volunteers.petition": [obj(application_id=APPLICATION)],
    "volunteers.refuse": [obj(application_id=APPLICATION)],
    "volunteers.register_applicant": [obj(application_id=APPLICATION)],
    "volunteers.register_confirm": [obj(application_id=APPLICATION)],
    "volunteers.signup": [page()],
    "volunteers.signup_code": [page()],
    "volunteers.take_check": [obj(application_id=APPLICATION)],
    "volunteers.unit": [page(), obj(patrol_unit_id=PATROL)],
    "volunteers.units": [page()],
    "volunteers.verify": [obj(token=TOKEN)],
    "volunteers.walk_in": [page()],
    "volunteers.withdraw": [obj(application_id=APPLICATION)],
    "volunteers.withdraw_consent": [obj(application_id=APPLICATION)],
}
NOT_VIEWS = {"static"}

# Endpoints that answer about a foreign record on purpose, with why.
WIDE = {
    "volunteers.verify": "the public certificate check behind the QR code: anyone holding the "
    "token sees initials and validity, never the name or the IIN",
    "api_public.certificate": "the same public certificate check in the API (number and token)",
}
# Pages where names of places anywhere in the country are shown on purpose, with why.
PLACE_NAMES_SHOWN = {
    "volunteers.signup": "a new account picks its home settlement among all of the country",
    "volunteers.apply": "an applicant picks the settlement among all of the country",
    "sober.public_page": "the public register of sober settlements covers the whole country",
    "api_public.sober_statistics": "the public page's statistics, country-wide, in the API",
}
# Secrets of the foreign records a page shows on purpose, with why.
SECRETS_SHOWN = {
    "volunteers.verify": {"certificate token", "certificate number"},  # the checked certificate
    "api_public.certificate": {"certificate token", "certificate number"},
}
# Server errors that only the tests' configuration causes, with why.
TEST_CONFIG_5XX: dict[str, str] = {}
# Object URLs that no foreign official opens with a 200, with why (none so far).
NO_POSITIVE_CONTROL: dict[str, str] = {
    "calendar.feed": "the token of a shift calendar is its member's secret, kept hashed: nobody "
    "else holds a valid one, so every actor gets 404 (tests/portal/test_calendar_feed.py opens "
    "a valid link)",
}


# POSTs that change what later cells see: they run after every other endpoint.
WRITES_LAST = {
    "auth.logout",  # ends every session of the account (the client signs in again)
    "oversight.compute_flags",  # a deputy's own flags run replaces the country-wide one
    "admin.activate",  # the national admin acts on the foreign account and its grant
    "admin.deactivate",
    "admin.force_reset",  # ends the foreign account's sessions, like the two-factor reset
    "admin.grant",
    "admin.reset_mfa",
    "admin.revoke",
    "admin.retry_run",  # the national admin queues the failed foreign run again
    "admin.remove_calendar_day",  # the admins remove a day of the national calendar
    "admin.verify_audit",  # new job runs
    "admin.run_retention",  # new job runs (nothing of the world is past its retention)
    "oversight.verify_audit",
    "finance.reconcile",
    "admin.revoke_token",  # the national admin may revoke the foreign citizen's token
    "api_exports.start",  # the national admin's export of the foreign district runs
}


def ordered_endpoints() -> list[str]:
    """Reads first, then the writes that change what other cells see."""
    return sorted(ENDPOINTS, key=lambda e: (e in WRITES_LAST, e))


# ---- the world --------------------------------------------------------------------------------


@dataclasses.dataclass
class Actor:
    label: str  # e-mail, or "anonymous"
    roles: frozenset[str]
    client: object
    group: str  # "anonymous", "outsider", "national" (country-wide admin) or "insider"

    def fresh_client(self, app):
        client = app.test_client()
        assert login(client, self.label, _password(self.label)).status_code == 302
        return client


def _password(email: str) -> str:
    return FOREIGN_PASSWORD if email.startswith("zzforeign.") else DEMO_PASSWORD


@dataclasses.dataclass(repr=False)
class World:
    app: object
    db: str
    ids: dict[str, object]
    secrets: dict[str, str]  # exact strings of the foreign records (IIN, IBAN, token …)
    actors: list[Actor]
    stats: dict
    own: dict[str, int]  # records of the demo region, for the form probes

    def __repr__(self) -> str:
        return f"World({self.db})"


def _iban(bank_and_account: str) -> str:
    """A Kazakh IBAN with valid check digits for ``bank_and_account`` (16 characters)."""
    digits = "".join(str(int(c, 36)) for c in bank_and_account + "KZ00")
    return f"KZ{98 - int(digits) % 97:02d}{bank_and_account}"


def _build_foreign(session, app) -> tuple[dict, dict[str, str]]:
    """A district of another region with one record of every kind, through the services."""
    import sober
    from budget import appropriations
    from core import accounts, calendar, clock, places
    from core.db import utcnow
    from core.iin import make_iin
    from core.scope import Scope
    from incentives import inquiries, nominations, payouts, policy, sessions
    from portal import jobs
    from volunteers import contributions, enrolment, register, shifts

    now = utcnow()
    today = clock.local_date(now)
    region = places.by_kato(session, FOREIGN_REGION)
    district = places.add_unit(
        session,
        kato=FOREIGN_DISTRICT,
        name_kk=f"{PLACE_MARK} ауданы",
        name_ru=f"{PLACE_MARK} район",
        level="district",
        parent=region,
    )
    settlement = places.add_unit(
        session,
        kato=FOREIGN_SETTLEMENT,
        name_kk=f"{PLACE_MARK} ауылы",
        name_ru=f"село {PLACE_MARK}",
        level="settlement",
        parent=district,
    )

    def official(key: str, *roles: str) -> accounts.User:
        # @demo.kz: the demo waiver of the second factor covers them in the test app too.
        user = accounts.create_user(
            session,
            email=f"zzforeign.{key}@demo.kz",
            phone=None,
            full_name=f"ZZFOREIGN {key.title()}",
            preferred_language="kk",
            unit_id=district.id,
            password=FOREIGN_PASSWORD,
            actor_id=None,
        )
        for role in roles:
            accounts.grant_role(
                session, user_id=user.id, role=role, unit_id=district.id, actor_id=None
            )
        return user

    coordinator = official("coordinator", "coordinator")
    coordinator2 = official("coordinator2", "coordinator")
    registrar = official("registrar", "registrar")
    secretary = official("secretary", "secretary")
    chair = official("chair", "chair")
    member1 = official("member", "member")
    member2 = official("member2", "member")
    finance = official("finance", "finance")
    finance2 = official("finance2", "finance")
    deputy = official("deputy", "deputy")
    volunteer = official("volunteer", "volunteer")  # the foreign member's own account
    citizen = official("citizen", "volunteer")  # the account /admin/users/<id> is about
    grant = next(g for g in citizen.grants if g.role == "volunteer")

    # The register: a patrol unit, a registered member, an application still open.
    patrol = register.save_patrol_unit(
        session,
        unit_id=district.id,
        name="ZZFOREIGN Patrol",
        coordinator_id=coordinator.id,
        leader_member_id=None,
        actor_id=registrar.id,
    )
    consent = enrolment.current_consent(session, today)

    def apply(serial: int, name: str, applicant, on: dt.date):
        return enrolment.submit_application(
            session,
            kind="patrol_member",
            unit_id=settlement.id,
            patrol_unit_id=patrol.id,
            iin=make_iin(dt.date(1988, 4, 9), "male", serial),
            full_name=name,
            phone=None,
            email=None,
            address="ZZFOREIGN street 7",
            is_citizen=True,
            no_criminal_record=True,
            not_on_register=True,
            consent_version=consent.version,
            applicant_id=applicant.id if applicant else None,
            actor_id=coordinator.id,
            channel="walk_in" if applicant is None else "web",
            today=on,
        )

    issued = today - dt.timedelta(days=40)
    joined = apply(9971, "ZZFOREIGN Member Person", volunteer, issued)
    enrolment.take_check(session, application_id=joined.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=joined.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=joined.id, actor_id=coordinator.id, today=issued)
    member = enrolment.register_applicant(
        session, application_id=joined.id, actor_id=registrar.id, today=issued
    )
    application = apply(9972, "ZZFOREIGN Applicant Person", citizen, today)

    # A shift ahead with the member signed up, and a confirmed contribution.
    starts = now + dt.timedelta(days=3)
    (shift,) = shifts.plan_shift(
        session,
        unit_id=settlement.id,
        patrol_unit_id=None,
        place="ZZFOREIGN square",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        capacity=5,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=now,
    )
    signup = shifts.sign_up(
        session, shift_id=shift.id, member_id=member.id, actor_id=volunteer.id, now=now
    )
    contribution = contributions.log_contribution(
        session,
        member_id=member.id,
        kind="preventive_event",
        occurred_on=today - dt.timedelta(days=10),
        minutes=None,
        description="ZZFOREIGN lesson at the school",
        reference=None,
        actor_id=coordinator2.id,
        today=today,
    )
    pending = contributions.log_contribution(
        session,
        member_id=member.id,
        kind="preventive_event",
        occurred_on=today - dt.timedelta(days=5),
        minutes=None,
        description="ZZFOREIGN meeting with parents",
        reference=None,
        actor_id=coordinator2.id,
        today=today,
    )  # left waiting in the foreign coordinators' queue
    # Confirmed by the coordinator who then nominates: a red flag (with the member's name).
    contributions.confirm(
        session,
        contribution_id=contribution.id,
        actor_id=coordinator.id,
        scope=Scope.within([district.id]),
        now=now,
    )

    # The budget: program, line, an adoption entered by one officer and verified by another.
    program = appropriations.create_program(
        session,
        actor_id=finance.id,
        unit_id=district.id,
        fiscal_year=today.year,
        functional_group="03",
        sub_function="1",
        administrator="252",
        program="003",
        sub_program="",
        name_kk="ZZFOREIGN Program",
        name_ru="ZZFOREIGN Program",
        administrator_body="ZZFOREIGN akimat",
    )
    line = appropriations.create_line(
        session, program_id=program.id, purpose="citizen_rewards", actor_id=finance.id
    )
    decision = appropriations.enter_decision(
        session,
        unit_id=district.id,
        number="ZZ/1",
        decided_on=dt.date(today.year - 1, 12, 20),
        session_number="I",
        kind="adoption",
        reference="ZZFOREIGN maslikhat decision",
        amendments=[(line.id, 5_000_000 * 100)],
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=decision.id, actor_id=finance2.id)

    # The commission: policy, members, a nomination, a session closed with minutes, a payout.
    policy.set_policy(
        session,
        unit_id=district.id,
        effective_from=dt.date(today.year, 1, 1),
        resolution="ZZFOREIGN akimat resolution",
        forms=["thanks", "certificate", "valuable_gift", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=30,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=None,
    )
    commission = policy.create_commission(
        session,
        unit_id=district.id,
        name_kk="ZZFOREIGN Commission",
        name_ru="ZZFOREIGN Commission",
        body_kk="Әкімдік",
        body_ru="Акимат",
        actor_id=None,
    )
    seats = [
        policy.add_member(
            session,
            commission_id=commission.id,
            user_id=user.id,
            role=role,
            position_kk="ZZFOREIGN office",
            position_ru="ZZFOREIGN office",
            term_from=dt.date(today.year, 1, 1),
            term_to=None,
            actor_id=None,
        )
        for user, role in ((chair, "chair"), (secretary, "secretary"), (member1, "member"))
    ]
    seats.append(
        policy.add_member(
            session,
            commission_id=commission.id,
            user_id=member2.id,
            role="member",
            position_kk="ZZFOREIGN office",
            position_ru="ZZFOREIGN office",
            term_from=dt.date(today.year, 1, 1),
            term_to=None,
            actor_id=None,
        )
    )
    session.flush()
    nomination = nominations.nominate(
        session,
        commission_id=commission.id,
        member_id=member.id,
        contribution_ids=[contribution.id],
        justification="ZZFOREIGN justification",
        form="cash",
        amount_tiyn=10 * policy.mci_tiyn(session, today.year),
        entered_in="mci",
        nominator_id=coordinator.id,
        today=today,
    )
    sitting = sessions.plan(
        session,
        commission_id=commission.id,
        held_on=today,
        place_kk="ZZFOREIGN hall",
        place_ru="ZZFOREIGN hall",
        on_paper=False,
        actor_id=secretary.id,
    )
    sessions.add_to_agenda(
        session, session_id=sitting.id, nomination_ids=[nomination.id], actor_id=secretary.id
    )
    sessions.open_session(
        session,
        session_id=sitting.id,
        present_ids={s.id for s in seats},
        actor_id=secretary.id,
        now=now,
    )
    item = sitting.items[0]
    for seat in seats:
        sessions.vote(
            session,
            item_id=item.id,
            commission_member_id=seat.id,
            choice="for",
            reason=None,
            entered_by_id=seat.user_id,
        )
    sessions.close(session, session_id=sitting.id, actor_id=secretary.id, now=now)
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ZZFOREIGN minutes",
        text_ru="ZZFOREIGN minutes",
        actor_id=secretary.id,
        now=now,
    )
    sessions.record_act(
        session, session_id=sitting.id, number="ZZFOREIGN act", date=today, actor_id=secretary.id
    )
    from core import uploads

    scan = uploads.store(
        session,
        filename="zzforeign-minutes.pdf",
        content_type="application/pdf",
        content=PDF,
        owner_id=secretary.id,
    )
    sessions.attach_scan(
        session, session_id=sitting.id, file_id=scan.id, content=PDF, actor_id=secretary.id
    )
    assert item.outcome == "approved", item.outcome_reason
    iban = _iban("125KZT5004100977")
    payout = payouts.record_payment(
        session,
        item_id=item.id,
        iban=iban,
        order_number="ZZFOREIGN-ORDER",
        order_date=today,
        amount_tiyn=nomination.amount_tiyn,
        idempotency_key=f"zzforeign-{uuid.uuid4().hex}",
        actor_id=finance.id,
        today=today,
    )

    # Sober settlements: a confirmed declaration with its record, an initiative supported.
    record = sober.store_record_pdf(
        session, filename="zzforeign-record.pdf", content=PDF, owner_id=coordinator.id
    )
    declaration = sober.declare(
        session,
        unit_id=settlement.id,
        gathered_on=today - dt.timedelta(days=200),
        attendance=150,
        record_reference="ZZFOREIGN record No 1",
        record_file_id=record.id,
        signatories=[
            ("ZZFOREIGN Akim", "rural_akim"),
            ("ZZFOREIGN Inspector", "police_inspector"),
            ("ZZFOREIGN Elder", "elders_council"),
        ],
        outlets=[("ZZFOREIGN shop", today - dt.timedelta(days=190))],
        actor_id=coordinator.id,
        scope=Scope.within([district.id]),
        today=today,
    )
    sober.confirm(
        session,
        declaration_id=declaration.id,
        actor_id=coordinator.id,
        scope=Scope.within([district.id]),
    )
    initiative = sober.submit_initiative(
        session,
        unit_id=settlement.id,
        title="ZZFOREIGN initiative",
        description="ZZFOREIGN description",
        measures="ZZFOREIGN measures",
        team="ZZFOREIGN team",
        requested_incentive="ZZFOREIGN incentive",
        proposer_role="activist",
        actor_id=volunteer.id,
        home_unit_id=volunteer.unit_id,
    )
    for status in ("under_review", "supported"):
        sober.review_initiative(
            session,
            initiative_id=initiative.id,
            to_status=status,
            comment="ZZFOREIGN review",
            actor_id=coordinator.id,
            scope=Scope.within([district.id]),
        )

    # A deputy's inquiry, and runs: the deputy's report and the scheduled red flags.
    inquiry = inquiries.ask(
        session,
        object_type="budget_line",
        object_id=line.id,
        text="ZZFOREIGN question about the line",
        deputy_id=deputy.id,
        scope=Scope.within([district.id]),
        today=today,
    )
    run = jobs.submit(
        "oversight.report",
        requested_by_id=deputy.id,
        unit_id=district.id,
        params={"unit_id": district.id, "year": today.year, "quarter": None},
    )
    # A failed run of a foreign officer's (no jurisdiction on the run: the requester's counts).
    from core import jobruns

    failed = jobruns.create_run(
        session, kind="budget.reconcile", requested_by_id=finance.id, unit_id=None, params={}
    )
    session.flush()
    jobruns.fail(session, failed.id, error="ZZFOREIGN reconciliation failed")
    session.commit()
    wait_for_jobs(app)
    jobs.submit("oversight.flags", requested_by_id=None, unit_id=None, params={})
    session.commit()
    wait_for_jobs(app)
    # Issue 20: the foreign member's suspension, heard (an objection), adopted, complained of
    # on the portal with a file, forwarded and overturned by the named reviewing official.
    from appeals import complaints as appeal_complaints
    from appeals import hearings, settings
    from appeals.models import ComplaintAttachment, LegalGround

    reviewer = official("reviewer", "reviewer")
    settings.set_review_body(
        session,
        unit_id=district.id,
        review_unit_id=None,
        reviewer_id=reviewer.id,  # a named official (the unit above is the region's)
        body_kk="ZZFOREIGN akimat",
        body_ru="ZZFOREIGN akimat",
        how_kk="ZZFOREIGN how",
        how_ru="ZZFOREIGN how",
        actor_id=accounts.find_by_login(session, "admin@demo.kz").id,
    )
    in_district = Scope.within([district.id])
    hearing = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[session.scalar(select(LegalGround.code).where(LegalGround.act_kind == "suspend"))],
        grounds_text="ZZFOREIGN grounds",
        actor_id=registrar.id,
        scope=in_district,
        now=now,
    )
    hearings.notify(session, hearing_id=hearing.id, actor_id=registrar.id, scope=in_district)
    hearings.object(
        session,
        hearing_id=hearing.id,
        body="ZZFOREIGN objection",
        channel="portal",
        actor_id=volunteer.id,
    )
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="ZZFOREIGN reasons",
        actor_id=registrar.id,
        scope=in_district,
        exception_kind="urgency",
        exception_reason="ZZFOREIGN urgency",
    )
    complaint = appeal_complaints.file(
        session,
        actor_id=volunteer.id,
        channel="portal",
        hearing_id=hearing.id,
        name="ZZFOREIGN Member Person",
        iin=member.iin,
        address="ZZFOREIGN street 7",
        contact=None,
        act_challenged="ZZFOREIGN act",
        grounds="ZZFOREIGN complaint grounds",
        request="ZZFOREIGN request",
        attachments=[appeal_complaints.Upload("zzforeign-evidence.pdf", "application/pdf", PDF)],
    )
    appeal_complaints.forward(
        session, complaint_id=complaint.id, actor_id=registrar.id, scope=in_district
    )
    appeal_complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="cancel",
        reasons="ZZFOREIGN decision",
        actor_id=reviewer.id,
    )
    complaint_file = session.scalar(
        select(ComplaintAttachment.id).where(ComplaintAttachment.complaint_id == complaint.id)
    )

    # A message in the foreign citizen's inbox; the foreign member's calendar link, made by
    # them, whose token only they saw (the table sends one of the same form).
    from core import notifications
    from volunteers.calendar_feeds import issue_link

    if member.user_id is not None:
        issue_link(session, member_id=member.id, user_id=member.user_id, replacing=None)
    note_id = notifications.queue_message(
        session,
        user_id=citizen.id,
        email=citizen.email,
        kind="inquiry.answered",
        params={"inquiry_id": inquiry.id},
        language="kk",
    ).id
    feed_token = uuid.uuid4().hex
    # Issue 21: the foreign citizen's access token (issued by the national administrator), and
    # an export of the foreign district started by its deputy.
    from core import api_tokens
    from incentives import exports

    national = accounts.find_by_login(session, "admin@demo.kz")
    api_token, _secret = api_tokens.issue(
        session,
        user_id=citizen.id,
        name="ZZFOREIGN token",
        grants=[("volunteer", district.id)],
        expires_at=now + dt.timedelta(days=30),
        actor_id=national.id,
        now=now,
    )
    filters = exports.Filters(year=None, unit_id=district.id, date_from=None, date_to=None)
    export_run = jobs.submit(
        "oversight.export",
        requested_by_id=deputy.id,
        unit_id=district.id,
        params={"dataset": "payouts", "format": "csv", **filters.as_dict()},
    )
    session.commit()
    wait_for_jobs(app)
    session.expire_all()
    day = session.scalars(select(calendar.CalendarDay.day).order_by(calendar.CalendarDay.day))
    ids = {
        "user": citizen.id,
        "grant": grant.id,
        "run": run.id,
        "failed_run": failed.id,
        "application": application.id,
        "member": member.id,
        "patrol_unit": patrol.id,
        "shift": shift.id,
        "signup": signup.id,
        "contribution": contribution.id,
        "pending_contribution": pending.id,
        "program": program.id,
        "line": line.id,
        "decision": decision.id,
        "commission": commission.id,
        "seat": seats[-1].id,
        "nomination": nomination.id,
        "session": sitting.id,
        "item": item.id,
        "payout": payout.id,
        "declaration": declaration.id,
        "initiative": initiative.id,
        "inquiry": inquiry.id,
        "district": district.id,
        "settlement": settlement.id,
        "token": member.verify_token,
        "calendar_day": day.first().isoformat(),
        "notification": note_id,
        "calendar_token": feed_token,
        "hearing": hearing.id,
        "complaint": complaint.id,
        "complaint_file": complaint_file,
        "api_token": api_token.id,
        "export_run": export_run.id,
        "certificate_number": member.certificate_no,
    }
    secrets = {
        "member IIN": member.iin,
        "applicant IIN": application.iin,
        "IBAN": iban,
        "certificate token": member.verify_token,
        "certificate number": member.certificate_no,
    }
    return ids, secrets


def _regional_admin(session) -> None:
    """An administrator of the demo region: every admin screen, but not the foreign region."""
    from core import accounts, places

    region = places.by_kato(session, "350000000")
    user = accounts.create_user(
        session,
        email="admin.region@demo.kz",
        phone=None,
        full_name="Regional Administrator",
        preferred_language="en",
        unit_id=region.id,
        password=_password("admin.region@demo.kz"),
        actor_id=None,
    )
    accounts.grant_role(session, user_id=user.id, role="admin", unit_id=region.id, actor_id=None)


def _own_ids(session) -> dict[str, int]:
    """Records of the demo region the probes use alongside a foreign id."""
    from core import accounts, places
    from core.db import utcnow
    from incentives.models import Commission
    from volunteers.activity_models import Shift
    from volunteers.models import Member

    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    own = session.scalar(select(Member).where(Member.user_id == volunteer.id))
    district = places.by_kato(session, "354000000")
    return {
        "region": places.by_kato(session, "350000000").id,
        "volunteer_user": volunteer.id,
        "registrar_user": accounts.find_by_login(session, "registrar@demo.kz").id,
        "commission": session.scalar(select(Commission.id).order_by(Commission.id)),
        "shift": session.scalar(
            select(Shift.id)
            .where(
                Shift.patrol_unit_id == own.patrol_unit_id,
                Shift.status == "planned",
                Shift.starts_at > utcnow(),
            )
            .order_by(Shift.starts_at)
        ),
        "member": session.scalar(
            select(Member.id)
            .join(places.AdminUnit, Member.unit_id == places.AdminUnit.id)
            .where(Member.status == "active", places.units_within_clause([district.id]))
            .order_by(Member.id)
        ),
    }


def _accounts(session) -> list[tuple[str, frozenset[str], str]]:
    """Every demo account (and the foreign officials): e-mail, roles, group."""
    from core import accounts, places

    country = places.by_kato(session, places.COUNTRY_KATO).id
    users = session.scalars(
        select(accounts.User)
        .where(accounts.User.email.like("%@demo.kz"))
        .order_by(accounts.User.id)
    ).all()
    found = []
    for user in users:
        if user.email.startswith("zzforeign."):
            group = "insider"
        elif any(g.unit_id == country for g in user.grants):
            group = "national"
        else:
            group = "outsider"
        found.append((user.email, frozenset(user.roles()), group))
    return found


def _actors(app, accounts) -> list[Actor]:
    """One signed-in client per account (outside any app context), and an anonymous one."""
    actors = [Actor("anonymous", frozenset(), app.test_client(), "anonymous")]
    for email, roles, group in accounts:
        client = app.test_client()
        response = login(client, email, _password(email))
        assert response.status_code == 302, (email, response.status_code)
        actors.append(Actor(email, roles, client, group))
    return actors


def _write_marks(app) -> tuple:
    """The newest row of every append-only table a refused request must not touch."""
    from core import audit, jobruns, uploads
    from core.notifications import Notification
    from portal.extensions import db

    with app.app_context():
        marks = tuple(
            db.session.execute(
                select(
                    select(func.max(audit.AuditEvent.seq)).scalar_subquery(),
                    select(func.max(jobruns.JobRun.id)).scalar_subquery(),
                    select(func.max(Notification.id)).scalar_subquery(),
                    select(func.max(uploads.StoredFile.id)).scalar_subquery(),
                )
            ).one()
        )
        db.session.remove()
    return marks


def _add_foreign(url: str) -> dict:
    """Add the foreign district to the copy of the demo template at ``url``; return its ids."""
    from portal.extensions import db

    app = make_app(url, **TEST_CONFIG)
    try:
        with app.app_context():
            ids, secrets = _build_foreign(db.session, app)
            db.session.commit()
            db.session.remove()
    finally:
        close_app(app)
    return {"ids": ids, "secrets": secrets}


def clone_foreign(request, backend: str, tmp_path: Path):
    """Copy the demo with the foreign district (built once per run, ``world.demo_plus``) for
    one module; return (database URL, ids, secrets, cleanup). tests/api/test_token_matrix.py
    starts from it too."""
    location, found = demo_plus(request, backend, "foreign", _add_foreign)
    url, drop = clone(request, backend, location, tmp_path)
    return url, found["ids"], found["secrets"], drop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    from portal.extensions import db

    started = time.perf_counter()
    url, ids, secrets, drop = clone_foreign(
        request, request.param, tmp_path_factory.mktemp("authz")
    )
    app = make_app(url, **TEST_CONFIG)
    try:
        with app.app_context():
            _regional_admin(db.session)
            db.session.commit()
            accounts = _accounts(db.session)
            own = _own_ids(db.session)
            db.session.remove()
        actors = _actors(app, accounts)
        built = time.perf_counter() - started
        stats = {"cells": 0, "requests": 0, "failures": 0, "built_s": built, "started": started}
        yield World(app, request.param, ids, secrets, actors, stats, own)
        line = (
            f"S5 IDOR matrix [{request.param}]: {len(ENDPOINTS)} endpoints × "
            f"{sum(a.group != 'insider' for a in actors)} actors (every demo account, a regional "
            f"admin, anonymous) = {stats['cells']} checked cells, {stats['failures']} failures; "
            f"{stats['requests']} requests with the {sum(a.group == 'insider' for a in actors)} "
            f"foreign controls; world built in {built:.1f} s, matrix "
            f"{time.perf_counter() - started - built:.1f} s"
        )
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        else:
            print(line)
    finally:
        close_app(app)
        drop()


# ---- the matrix -------------------------------------------------------------------------------


def _value(value, ids):
    return ids[value] if isinstance(value, F) else value


def _url(app, endpoint: str, variant: Variant, ids: dict) -> str:
    adapter = app.url_map.bind("localhost")
    path = adapter.build(endpoint, {k: _value(v, ids) for k, v in variant.args.items()})
    if variant.query:
        path += "?" + urlencode({k: _value(v, ids) for k, v in variant.query.items()})
    return path


def _leaks(endpoint: str, body: str, secrets: dict[str, str]) -> list[str]:
    found = []
    lowered = body.lower()
    at = lowered.find(RECORD_MARK)
    if at >= 0:
        found.append(body[max(0, at - 60) : at + 60].replace("\n", " "))
    shown = SECRETS_SHOWN.get(endpoint, set())
    found += [name for name, value in secrets.items() if name not in shown and value in body]
    places_ok = endpoint in PLACE_NAMES_SHOWN
    if not places_ok and PLACE_MARK in body:
        at = body.find(PLACE_MARK)
        found.append("place: " + body[max(0, at - 60) : at + 40].replace("\n", " "))
    return found


def is_api(endpoint: str) -> bool:
    """Tell whether ``endpoint`` belongs to the JSON API (blueprints ``api_*``, its document)."""
    return endpoint.startswith(("api_", "api-docs."))


PROBLEM_TYPE = "application/problem+json"


def _api_form(response) -> list[str]:
    """The API's refusals are problems, and it never redirects (there is no page to go to)."""
    status, problems = response.status_code, []
    if 400 <= status < 600 and response.mimetype != PROBLEM_TYPE:
        problems.append(f"{status} answered as {response.mimetype}, not {PROBLEM_TYPE}")
    if 300 <= status < 400:
        problems.append(f"{status} redirect to {response.headers.get('Location')}: no page here")
    return problems


def _check(endpoint, variant, method, actor, response, needed, marks_before, world) -> list[str]:
    """Return what is wrong with one response (empty when it is as expected)."""
    status = response.status_code
    problems = []
    if status >= 500 and endpoint not in TEST_CONFIG_5XX:
        problems.append(f"server error {status}")
    public, signed_in = PUBLIC in needed, SIGNED_IN in needed
    api = is_api(endpoint)
    if api:
        problems += _api_form(response)
    if actor.group == "anonymous":
        if api and not public and status != 401:  # the API answers 401, never a redirect
            problems.append(f"anonymous got {status}, not 401")
        elif not api and not public:
            location = urlsplit(response.headers.get("Location", "")).path
            if status != 302 or location != "/login":
                problems.append(
                    f"anonymous got {status} {location or ''}, not a redirect to /login"
                )
    elif not (public or signed_in or actor.roles & needed):
        if status != 403:
            problems.append(f"role not allowed, got {status} instead of 403")
    elif (
        actor.group == "outsider"
        and variant.target
        and endpoint not in WIDE
        and status not in (403, 404)
    ):
        problems.append(f"foreign record answered {status} instead of 403/404")
    if actor.group in ("anonymous", "outsider") and not 300 <= status < 400:
        # Every body an outsider gets, error pages and re-rendered forms included.
        body = response.get_data().decode("utf-8", errors="replace")  # files too
        leaks = _leaks(endpoint, body, world.secrets)
        if leaks:
            problems.append(f"{status}: foreign data shown: {leaks}")
    if method == "POST" and status in (403, 404) and marks_before is not None:
        after = _write_marks(world.app)
        if after != marks_before:
            problems.append(
                f"refused POST wrote rows (audit, run, note, file): {marks_before} → {after}"
            )
    return problems


@pytest.mark.parametrize("endpoint", ordered_endpoints())
def test_idor_matrix(world, endpoint):
    app = world.app
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    assert rules, f"{endpoint} is in the table but not in the URL map: drop it from ENDPOINTS"
    needed = app.view_functions[endpoint]._required_roles
    failures, positives = [], {}
    for variant in ENDPOINTS[endpoint]:
        matching = [r for r in rules if set(r.arguments) == set(variant.args)]
        assert matching, f"{endpoint}: no rule takes exactly {sorted(variant.args)}"
        url = _url(app, endpoint, variant, world.ids)
        methods = [m for m in ("GET", "POST") if any(m in r.methods for r in matching)]
        for method in methods:
            actors = world.actors
            if method == "POST" and is_api(endpoint):
                # The national administrator's well-formed POST may succeed and start a job:
                # last, so that its writes are never counted against another actor's refusal.
                actors = sorted(actors, key=lambda a: a.group == "national")
            for actor in actors:
                if actor.group == "insider" and (method != "GET" or not variant.target):
                    continue  # foreign officials only prove that the record is there
                client = actor.client
                marks = _write_marks(app) if method == "POST" else None
                if method == "GET":
                    response = client.get(url)
                elif is_api(endpoint):
                    response = client.post(
                        url,
                        json={k: _value(v, world.ids) for k, v in variant.body.items()},
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                else:
                    response = client.post(url, data={})
                    wait_for_jobs(app)  # a job started by the request finishes before the next
                world.stats["requests"] += 1
                if endpoint == "auth.logout" and actor.group != "anonymous":
                    actor.client = actor.fresh_client(app)  # logging out ended every session
                if actor.group != "insider":
                    world.stats["cells"] += 1
                    for problem in _check(
                        endpoint, variant, method, actor, response, needed, marks, world
                    ):
                        failures.append(f"{method} {url} as {actor.label}: {problem}")
                elif response.status_code >= 500:
                    failures.append(f"{method} {url} as {actor.label}: {response.status_code}")
                if method == "GET" and variant.target and actor.group in ("insider", "national"):
                    positives.setdefault(url, []).append(response.status_code)
    for url, statuses in positives.items():
        if 200 not in statuses and endpoint not in NO_POSITIVE_CONTROL and endpoint not in WIDE:
            failures.append(
                f"GET {url}: no foreign official opened it ({sorted(set(statuses))}): "
                "the table may name the wrong record"
            )
    world.stats["failures"] += len(failures)
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)


def test_table_covers_every_endpoint(world):
    """A new endpoint fails here until the table says which foreign record its URL names."""
    app = world.app
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - NOT_VIEWS
    assert sorted(endpoints - set(ENDPOINTS)) == [], "add these endpoints to ENDPOINTS"
    assert sorted(set(ENDPOINTS) - endpoints) == [], "these endpoints no longer exist"
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_VIEWS:
            continue
        variants = ENDPOINTS[rule.endpoint]
        assert any(set(v.args) == set(rule.arguments) for v in variants), (
            f"{rule.rule}: no variant fills its arguments {sorted(rule.arguments)}"
        )
    for variants in ENDPOINTS.values():
        for variant in variants:
            for value in (*variant.args.values(), *variant.query.values()):
                assert not isinstance(value, F) or value in world.ids, value
    assert set(WIDE) <= set(ENDPOINTS) and set(PLACE_NAMES_SHOWN) <= set(ENDPOINTS)
    # Every role has at least one account outside the foreign region.
    from core.accounts import ROLES

    covered = set().union(*(a.roles for a in world.actors if a.group == "outsider"))
    assert covered == set(ROLES)


# Views whose only guard of the foreign record is the jurisdiction check (GET, no side effect).
GUARDED_BY_SCOPE = (
    "admin.user",
    "api_coordination.application",
    "api_coordination.shift",
    "commission.payout",
    "commission.session_page",
    "finance.decision",
    "finance.line",
    "oversight.appeal_complaint",
    "oversight.appeal_hearing",
    "oversight.inquiry",
    "oversight.member",
    "shifts.shift",
    "sober.declaration",
    "sober.initiative",
    "volunteers.application",
    "volunteers.member",
)


def test_matrix_catches_a_missing_jurisdiction_check(world, monkeypatch):
    """Negative control: with the jurisdiction check switched off, the same cells must fail."""
    from sqlalchemy import select

    from core import places

    def every_unit(session, scope_ids):
        return frozenset(session.scalars(select(places.AdminUnit.id))) if scope_ids else frozenset()

    # Switched off where a unit's path is compared, and where the ids a scope covers are read
    # (a resolved scope, as portal.security.current_scope gives, and unit_ids_covered).
    monkeypatch.setattr(places, "within", lambda _session, _unit_id, unit_ids: bool(unit_ids))
    monkeypatch.setattr(places, "covered_by", every_unit)
    caught = {}
    for endpoint in GUARDED_BY_SCOPE:
        needed = world.app.view_functions[endpoint]._required_roles
        variant = next(v for v in ENDPOINTS[endpoint] if v.target)
        url = _url(world.app, endpoint, variant, world.ids)
        found = []
        for actor in world.actors:
            if actor.group == "outsider" and (SIGNED_IN in needed or actor.roles & needed):
                response = actor.client.get(url)
                found += _check(endpoint, variant, "GET", actor, response, needed, None, world)
        caught[endpoint] = len(found)
    assert all(caught.values()), f"not caught without the check: {caught}"


# Lists widened to everywhere: a read that bypasses core.scope must fail the matrix.
LIST_PAGES = (
    "volunteers.members",
    "finance.lines",
    "sober.registry",
    "api_coordination.applications",
    "api_money.lines",
)


def test_a_list_that_ignores_the_scope_fails_the_matrix(world, monkeypatch):
    """Negative control for lists: with every scoped read widened to everywhere, the matrix
    sees the foreign records on pages of people outside their region and fails."""
    from sqlalchemy import true

    from core.scope import Scope, forget_statements

    for endpoint in LIST_PAGES:
        test_idor_matrix(world, endpoint)  # the control: it holds as the code is
    failures_before = world.stats["failures"]
    monkeypatch.setattr(Scope, "clause", lambda self, unit_column: true())
    # Statements built once per scope were built with the real condition: built again, the
    # lists themselves are widened (not only their place pickers); and the widened ones are
    # not left for the tests that follow in this process.
    forget_statements()
    try:
        for endpoint in LIST_PAGES:
            with pytest.raises(AssertionError, match="foreign data shown"):
                test_idor_matrix(world, endpoint)
    finally:
        monkeypatch.undo()
        forget_statements()
    world.stats["failures"] = failures_before  # the planted failures are not the matrix's


class Own(str):
    """A record of the demo region (``World.own``)."""


# Foreign ids in the body of a well-formed POST: (account, endpoint, path args, query, data).
# The twin (the same data with a record of the account's own region) must succeed, which
# proves the probe is refused for the foreign id and not for a malformed form.
FORM_PROBES = [
    ("coordinator@demo.kz", "shifts.queue", {}, {}, {"action": "confirm", "ids": PENDING}, None),
    (
        "deputy@demo.kz",
        "oversight.ask_inquiry",
        {},
        {},
        {"object_type": "budget_line", "object_id": LINE, "text": "Why so much?"},
        None,
    ),
    (
        "deputy@demo.kz",
        "oversight.compute_flags",
        {},
        {},
        {"unit_id": DISTRICT},
        {"unit_id": Own("region")},
    ),
    (
        "deputy@demo.kz",
        "oversight.start_export",
        {},
        {},
        {"dataset": "payouts", "format": "csv", "unit_id": DISTRICT},
        {"dataset": "payouts", "format": "csv", "unit_id": Own("region")},
    ),
    (
        "finance@demo.kz",
        "oversight.order_session_report",
        {},
        {},
        {"unit_id": DISTRICT, "year": "2026", "period": "year"},
        {"unit_id": Own("region"), "year": "2026", "period": "year"},
    ),
    (
        "finance@demo.kz",
        "finance.close_year",
        {},
        {},
        {"unit_id": DISTRICT, "year": "2019"},
        {"unit_id": Own("region"), "year": "2019"},
    ),
    (
        "admin.region@demo.kz",
        "admin.grant",
        {"user_id": Own("volunteer_user")},
        {},
        {"role": "coordinator", "unit_id": DISTRICT},
        {"role": "coordinator", "unit_id": Own("region")},
    ),
    (
        "admin.region@demo.kz",
        "commission.commission",
        {"commission_id": Own("commission")},
        {},
        {"user_id": USER, "role": "member", "term_from": "2026-01-01"},
        {"user_id": Own("registrar_user"), "role": "member", "term_from": "2026-01-01"},
    ),
    (
        "registrar@demo.kz",
        "volunteers.unit",
        {},
        {},
        {"name": "Probe unit", "unit_id": DISTRICT, "coordinator_id": 0, "leader_member_id": 0},
        {
            "name": "Probe unit",
            "unit_id": Own("region"),
            "coordinator_id": 0,
            "leader_member_id": 0,
        },
    ),
    (
        "volunteer@demo.kz",
        "shifts.sign_up",
        {"shift_id": Own("shift")},
        {},
        {"member_id": MEMBER},
        None,
    ),
    (
        "coordinator@demo.kz",
        "shifts.member_contributions",
        {"member_id": Own("member")},
        {"corrects": CONTRIBUTION},
        {"kind": "preventive_event", "occurred_on": "2026-11-01", "description": "Probe"},
        None,
    ),
]


def _fill(values: dict, world: World) -> dict:
    return {
        k: world.own[v] if isinstance(v, Own) else world.ids[v] if isinstance(v, F) else v
        for k, v in values.items()
    }


@pytest.mark.parametrize(
    "probe", FORM_PROBES, ids=[f"{p[1]}-{n}" for n, p in enumerate(FORM_PROBES)]
)
def test_foreign_ids_in_forms_change_nothing(world, probe):
    """A well-formed POST naming a foreign record in a field writes nothing and shows nothing."""
    email, endpoint, args, query, data, twin = probe
    app = world.app
    actor = next(a for a in world.actors if a.label == email)
    path = app.url_map.bind("localhost").build(endpoint, _fill(args, world))
    if query:
        path += "?" + urlencode(_fill(query, world))
    marks = _write_marks(app)
    response = actor.client.post(path, data=_fill(data, world))
    wait_for_jobs(app)
    body = response.get_data().decode("utf-8", errors="replace")
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    assert _write_marks(app) == marks, "the refused POST wrote rows"
    assert not _leaks(endpoint, body, world.secrets)
    if twin is not None:
        response = actor.client.post(path, data=_fill(twin, world))
        wait_for_jobs(app)
        assert response.status_code == 302, (response.status_code, response.text[:2000])


# Foreign ids in the JSON body of a well-formed API POST: (account, endpoint, path args, body,
# twin). As for the forms: nothing written, nothing shown, and the twin with a record of the
# account's own region succeeds (so the probe is refused for the id, not for its shape).
API_PROBES = [
    ("coordinator@demo.kz", "api_coordination.confirm_contributions", {}, {"ids": [PENDING]}, None),
    (
        "volunteer@demo.kz",
        "api_me_shifts.sign_up",
        {"shift_id": Own("shift")},
        {"member_id": MEMBER},
        None,
    ),
    (
        "volunteer@demo.kz",
        "api_me_contributions.log",
        {},
        {
            "member_id": MEMBER,
            "kind": "preventive_event",
            "occurred_on": YESTERDAY,
            "description": "Probe",
        },
        None,
    ),
    (
        "deputy@demo.kz",
        "api_exports.start",
        {},
        {"dataset": "payouts", "format": "csv", "unit_id": DISTRICT},
        {"dataset": "payouts", "format": "csv", "unit_id": Own("region")},
    ),
    (
        "finance@demo.kz",
        "api_exports.start",
        {},
        {"dataset": "ledger", "format": "xlsx", "unit_id": DISTRICT},
        {"dataset": "ledger", "format": "xlsx", "unit_id": Own("region")},
    ),
]


def _fill_json(values, world: World):
    if isinstance(values, dict):
        return {k: _fill_json(v, world) for k, v in values.items()}
    if isinstance(values, list):
        return [_fill_json(v, world) for v in values]
    return world.own[values] if isinstance(values, Own) else _value(values, world.ids)


@pytest.mark.parametrize("probe", API_PROBES, ids=[f"{p[1]}-{n}" for n, p in enumerate(API_PROBES)])
def test_foreign_ids_in_api_bodies_change_nothing(world, probe):
    """A well-formed API POST naming a foreign record in its body writes nothing, shows nothing."""
    email, endpoint, args, body, twin = probe
    app = world.app
    actor = next(a for a in world.actors if a.label == email)
    path = app.url_map.bind("localhost").build(endpoint, _fill_json(args, world))
    marks = _write_marks(app)
    response = actor.client.post(
        path, json=_fill_json(body, world), headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    wait_for_jobs(app)
    text = response.get_data(as_text=True)
    if response.status_code == 200 and endpoint == "api_coordination.confirm_contributions":
        # The bulk answer names each id: the foreign one refused, as not found.
        answer = response.get_json()
        assert answer["confirmed"] == [], answer
        assert [r["status"] in (403, 404) for r in answer["refused"]] == [True], answer
    else:
        assert 400 <= response.status_code < 500, (response.status_code, text[:300])
        assert response.mimetype == PROBLEM_TYPE
    assert _write_marks(app) == marks, "the refused POST wrote rows"
    assert not _leaks(endpoint, text, world.secrets)
    if twin is not None:
        response = actor.client.post(
            path, json=_fill_json(twin, world), headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        wait_for_jobs(app)
        assert 200 <= response.status_code < 300, (response.status_code, response.text[:500])
