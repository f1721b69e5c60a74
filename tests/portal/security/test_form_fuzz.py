"""S13 and S14: fuzz every form and every filter, probe every search with SQL-injection strings.

Every rule of the URL map that accepts POST is driven with arbitrary field dicts, signed in as a
demo official whose role the view allows and whose jurisdiction covers the record in the URL;
GET views that read the query string get arbitrary filters. The field names come from the
WTForms classes the view uses, the input names of its page, and names the view reads from
``request.form``/``request.args`` directly, plus random extra names. The values cover arbitrary
Unicode, 20,000-character strings, NUL bytes, right-to-left text, numbers as text, huge and
negative numbers, dates in odd formats, empty values and missing fields. Most examples start
from what a browser would send with the page's form (so they get past validation to the domain
and the database) and change, drop or add a few fields; a fixed set of probes first puts a NUL
byte, RTL text, an injection string and a 12-digit number (an IIN, which the audit chain
refuses to hold) in every text field at once, 5,000 characters in each,
out-of-range numbers in each number and the first and last day Python knows in each date.
The numbers (issue 17, finding 11) go past a BIGINT both ways (2^63, twenty digits), and are
negative, 1e309 (a float's infinity) and NaN; a number field is one whose value is a number,
whose input is ``type="number"`` or ``inputmode="numeric"``/``"decimal"`` (an amount typed as
text), or a WTForms integer, decimal or float field, filled in or not.

Asserted for every request: the status is below 500; a 4xx changed no row of any table (no
half-written record); a GET changed nothing; a success that added rows added an audit event.
A POST endpoint, or a GET view reading the query string, without an entry here fails
``test_every_form_endpoint_is_fuzzed``, unless ``NOT_FORMS`` says why another test fuzzes it.

S14: every search and filter parameter gets injection strings (quotes, ``;DROP``, Unicode
quotes, ``%``, ``_``, backslashes); the page must list no more rows than for a nonsense string.

Examples per endpoint: ``PORTAL_FUZZ_EXAMPLES`` (default 10; a third for forms without fields), plus
the probes. ``PORTAL_FUZZ_NO_SHRINK=1`` skips shrinking a failure (faster when hunting).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import io
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import close_app, login, make_app, wait_for_jobs
from tests.portal.security.world import (
    PLAIN_LOGIN,
    SELF_LOGIN,
    TARGET_LOGIN,
    clone_world,
    table_counts,
)

# Random examples per form on top of the fixed probes; 10 keeps the suite under 5 minutes with
# 100+ forms (PORTAL_FUZZ_EXAMPLES=200 for a hunting run).
EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "10"))
# Shrinking a failure to its smallest form can take a minute or two; skip it when hunting.
PHASES = (
    [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("PORTAL_FUZZ_NO_SHRINK")
    else [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
)
FEW = max(2, EXAMPLES // 3)

V, C, R = "volunteer@demo.kz", "coordinator@demo.kz", "registrar@demo.kz"
S, M, F = "secretary@demo.kz", "member@demo.kz", "finance@demo.kz"
D, A = "deputy@demo.kz", "admin@demo.kz"
ANON = None  # not signed in
FRESH = "fresh"  # SELF_LOGIN signed in anew for every example (the view may end its sessions)


@dataclasses.dataclass(frozen=True)
class Target:
    """How to reach one endpoint: who signs in, the URL arguments, names the view reads raw."""

    login: str | None
    url: Callable[[dict], dict | list[dict]] = lambda ids: {}
    names: tuple[str, ...] = ()  # read from request.form / request.args, or built in helpers
    files: tuple[str, ...] = ()  # file fields
    page: Callable[[dict], str] | None = None  # a page whose inputs name the form's fields
    examples: int | None = None
    # Values that make the page's form valid where a generic filler cannot guess them.
    fill: Callable[[dict], dict] = lambda ids: {}


# The confirmation page's mark: irreversible steps post only with it (issue 19, finding 4).
YES = {"confirmed": "yes"}


def _ids(**names: str) -> Callable[[dict], dict]:
    return lambda ids: {arg: ids[key] for arg, key in names.items()}


# ---- the POST endpoints -----------------------------------------------------------------------
# Ordered so that a record still exists in the state a later form needs (votes before the
# session closes, answers before the inquiry closes, the volunteer's own withdrawal last).
def _iin(serial: int) -> str:
    from core.iin import make_iin

    return make_iin(dt.date(1991, 3, 14), "female", serial)


def _application(ids: dict) -> dict:
    return {
        "kind": "public_assistant",
        "unit_id": str(ids["settlement"]),
        "iin": _iin(4242),
        "phone": "+77015550101",
        "is_citizen": "y",
        "no_criminal_record": "y",
        "not_on_register": "y",
        "consent": "y",
    }


def _later(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


POST_TARGETS: dict[str, Target] = {
    # sign-in and the account
    "auth.login": Target(ANON, names=("login", "password", "next")),
    "auth.mfa_verify": Target(ANON, names=("code",)),
    "auth.confirm": Target(PLAIN_LOGIN, names=("password", "code", "next")),
    "auth.mfa_setup": Target(PLAIN_LOGIN, names=("code",)),
    "auth.regenerate_recovery_codes": Target(PLAIN_LOGIN, examples=FEW),
    "auth.change_password": Target(FRESH, names=("current", "new", "confirm")),
    "auth.logout": Target(FRESH, examples=FEW),
    # Password resets: asking for a code, the code step of a reset started before for an
    # unknown address (no code ever matches), the new password owed at a held sign-in.
    "auth.forgot_password": Target(ANON, names=("email",)),
    "auth.reset_password": Target(ANON, names=("code", "new", "confirm")),
    "auth.new_password": Target(ANON, names=("new", "confirm")),
    "public.set_language": Target(PLAIN_LOGIN, names=("lang", "next")),
    # citizens
    "volunteers.signup": Target(
        ANON, fill=lambda ids: {"email": "fuzz-signup@demo.kz", "phone": ""}
    ),
    # At the code step of a sign-up started before (wrong codes: 401, then the request lapses).
    "volunteers.signup_code": Target(ANON, names=("code",)),
    "volunteers.apply": Target(PLAIN_LOGIN, fill=_application),
    "shifts.sign_up": Target(
        V, _ids(shift_id="open_shift"), names=("member_id",), page=lambda ids: "/my/shifts"
    ),
    "shifts.check_in": Target(V, _ids(signup_id="signup_now"), page=lambda ids: "/my/shifts"),
    "shifts.check_out": Target(
        V, _ids(signup_id="signup_now"), page=lambda ids: "/my/shifts", fill=lambda ids: YES
    ),
    "shifts.undo_check_out": Target(V, _ids(signup_id="signup_now"), page=lambda ids: "/my/shifts"),
    "shifts.cancel_signup": Target(
        V, _ids(signup_id="signup_later"), page=lambda ids: "/my/shifts"
    ),
    "shifts.my_contributions": Target(
        V, names=("member",), fill=lambda ids: {"kind": "preventive_event"}
    ),
    "sober.submit_initiative": Target(V),
    "sober.comment_initiative": Target(
        C,
        _ids(initiative_id="initiative_any"),
        page=lambda ids: f"/sober/initiatives/{ids['initiative_any']}",
    ),
    # enrolment and the register
    "volunteers.walk_in": Target(C, fill=lambda ids: {**_application(ids), "iin": _iin(4343)}),
    "volunteers.take_check": Target(C, _ids(application_id="application_submitted")),
    "volunteers.refuse": Target(
        C,
        _ids(application_id="application_police_check"),
        page=lambda ids: f"/volunteers/applications/{ids['application_police_check']}",
        fill=lambda ids: YES,
    ),
    "volunteers.pass_check": Target(
        C, _ids(application_id="application_police_check"), fill=lambda ids: YES
    ),
    "volunteers.petition": Target(C, _ids(application_id="application_passed")),
    "volunteers.register_applicant": Target(
        R, _ids(application_id="application_petitioned"), fill=lambda ids: YES
    ),
    "volunteers.member_status": Target(
        C, _ids(member_id="member"), page=lambda ids: f"/volunteers/members/{ids['member']}"
    ),
    "volunteers.member_unit": Target(
        C, _ids(member_id="member"), page=lambda ids: f"/volunteers/members/{ids['member']}"
    ),
    "volunteers.unit": Target(C, lambda ids: [{}, {"patrol_unit_id": ids["patrol_unit"]}]),
    "volunteers.import_register": Target(R, files=("file",)),
    "oversight.reveal": Target(
        R, lambda ids: {"object_type": "member", "object_id": ids["member"], "field": "iin"}
    ),
    # shifts and contributions
    "shifts.new_shift": Target(
        C, fill=lambda ids: {"day": _later(3), "start": "19:00", "end": "23:00"}
    ),
    "shifts.edit_shift": Target(C, _ids(shift_id="shift")),
    "shifts.attendance": Target(
        C,
        _ids(shift_id="shift"),
        names=("present",),
        page=lambda ids: f"/shifts/{ids['shift']}",
    ),
    "shifts.undo_member_check_out": Target(C, _ids(shift_id="shift_now", signup_id="signup_now")),
    "shifts.cancel_shift": Target(
        C, _ids(shift_id="shift"), page=lambda ids: f"/shifts/{ids['shift']}"
    ),
    "shifts.queue": Target(C, names=("ids",), fill=lambda ids: {"action": "reject"}),
    "shifts.member_contributions": Target(
        C,
        _ids(member_id="member"),
        names=("corrects",),
        fill=lambda ids: {"kind": "preventive_event"},
    ),
    # sober settlements
    "sober.declare": Target(C, files=("record_file",)),
    "sober.confirm": Target(C, _ids(declaration_id="declaration_declared"), examples=FEW),
    "sober.add_outlet": Target(
        C,
        _ids(declaration_id="declaration_confirmed"),
        page=lambda ids: f"/sober/declarations/{ids['declaration_confirmed']}",
    ),
    "sober.revoke": Target(
        C,
        _ids(declaration_id="declaration_confirmed"),
        page=lambda ids: f"/sober/declarations/{ids['declaration_confirmed']}",
    ),
    "sober.record_indicator": Target(C),
    "sober.import_indicators": Target(C, files=("file",)),
    "sober.indicator_kinds": Target(A, fill=lambda ids: {"code": "fuzz_indicator"}),
    "sober.review_initiative": Target(
        C,
        _ids(initiative_id="initiative_submitted"),
        page=lambda ids: f"/sober/initiatives/{ids['initiative_submitted']}",
    ),
    # the reward commission
    "commission.policies_page": Target(A),
    "commission.commissions": Target(A),
    "commission.commission": Target(A, _ids(commission_id="commission")),
    "commission.end_term": Target(
        A,
        _ids(member_id="commission_member"),
        page=lambda ids: f"/commission/admin/commissions/{ids['commission']}",
    ),
    "commission.nominate": Target(
        C,
        _ids(member_id="candidate_member"),
        names=("year", "quarter"),
        fill=lambda ids: {"reward_form": "cash", "amount": "2", "unit": "mci"},
    ),
    "commission.nominate_initiative": Target(
        C,
        _ids(initiative_id="initiative_supported"),
        page=lambda ids: f"/sober/initiatives/{ids['initiative_supported']}",
        # A money form in MCI: the amount is parsed and multiplied by the year's MCI.
        fill=lambda ids: {
            "nominate-reward_form": "valuable_gift",
            "nominate-unit": "mci",
            "nominate-amount": "1",
        },
    ),
    "commission.submit_nomination": Target(C, _ids(nomination_id="draft_nomination"), examples=FEW),
    "commission.plan_session": Target(S, page=lambda ids: "/commission/sessions"),
    "commission.agenda": Target(
        S,
        _ids(session_id="planned_session"),
        page=lambda ids: f"/commission/sessions/{ids['planned_session']}",
    ),
    "commission.open_session": Target(
        S,
        _ids(session_id="planned_session"),
        page=lambda ids: f"/commission/sessions/{ids['planned_session']}",
    ),
    "commission.vote": Target(
        M, _ids(item_id="open_item"), page=lambda ids: "/commission/my-sessions"
    ),
    "commission.paper_vote": Target(
        S,
        _ids(session_id="paper_session", item_id="paper_item"),
        page=lambda ids: f"/commission/sessions/{ids['paper_session']}",
    ),
    "commission.close_session": Target(
        S, _ids(session_id="open_session"), examples=FEW, fill=lambda ids: YES
    ),
    # After the close: a declared conflict would recuse the member from the vote above.
    "commission.declare_conflict": Target(M, _ids(item_id="open_item"), names=("reason",)),
    "commission.finalize_minutes": Target(
        S, _ids(session_id="open_session"), examples=FEW, fill=lambda ids: YES
    ),
    "commission.record_act": Target(
        S,
        _ids(session_id="open_session"),
        page=lambda ids: f"/commission/sessions/{ids['open_session']}",
        fill=lambda ids: {"number": "12", "date": _later(0)},
    ),
    "commission.attach_scan": Target(S, _ids(session_id="open_session"), files=("file",)),
    "commission.fail": Target(
        F, _ids(item_id="cash_item"), page=lambda ids: f"/commission/payouts/{ids['cash_item']}"
    ),
    "commission.pay": Target(
        F,
        _ids(item_id="cash_item"),
        page=lambda ids: f"/commission/payouts/{ids['cash_item']}",
        fill=lambda ids: {"iban": "KZ86125KZT5004100100", **YES},
    ),
    "commission.void": Target(
        F,
        _ids(item_id="cash_item"),
        page=lambda ids: f"/commission/payouts/{ids['cash_item']}",
        fill=lambda ids: YES,
    ),
    "commission.hand_over": Target(
        F,
        _ids(item_id="gift_item"),
        page=lambda ids: f"/commission/payouts/{ids['gift_item']}",
        fill=lambda ids: YES,
    ),
    "commission.tax_rates_page": Target(
        F,
        page=lambda ids: "/commission/tax-rates",
        fill=lambda ids: {"rate": "10", "legal_basis": "Салық кодексі"},
    ),
    # Last of the commission's forms: the rules it sets apply to sessions closed from now on.
    "commission.commission_rules": Target(
        A,
        _ids(commission_id="commission"),
        names=("secretary_votes", "chair_stand_in"),
    ),
    "commission.commission_names": Target(
        A,
        _ids(commission_id="commission"),
        page=lambda ids: f"/commission/admin/commissions/{ids['commission']}",
    ),
    # the budget
    "finance.new_program": Target(
        F,
        fill=lambda ids: {
            "fiscal_year": "2027",
            "functional_group": "03",
            "sub_function": "1",
            "administrator": "252",
            "program": "009",
            "sub_program": "",
        },
    ),
    "finance.new_line": Target(F, names=("program",)),
    "finance.new_decision": Target(
        F,
        fill=lambda ids: {
            "changes-0-line_id": str(ids["line"]),
            "changes-0-amount": "1 000",
            **{f"changes-{i}-amount": "" for i in range(1, 40)},
        },
    ),
    "finance.verify_decision": Target(F, _ids(decision_id="pending_decision"), examples=FEW),
    # 2030, not this year: closing the demo year would freeze every later budget form.
    "finance.close_year": Target(
        F, page=lambda ids: "/finance/years", fill=lambda ids: {"year": "2030"}
    ),
    "finance.reconcile": Target(F, examples=FEW),
    "finance.set_mci": Target(A, page=lambda ids: "/finance/mci?year=2026"),
    # oversight
    "oversight.verify_audit": Target(D, examples=FEW),
    "oversight.start_export": Target(
        D,
        names=("dataset", "format", "year", "unit_id", "date_from", "date_to"),
        page=lambda ids: "/oversight/exports",
        fill=lambda ids: {"year": "2026"},
    ),
    "oversight.compute_flags": Target(D, names=("unit_id",), page=lambda ids: "/oversight/flags"),
    "oversight.order_session_report": Target(
        D, names=("unit_id", "year", "period"), page=lambda ids: "/oversight/reports"
    ),
    "oversight.ask_inquiry": Target(
        D,
        names=("object_type", "object_id", "text"),
        page=lambda ids: (
            f"/oversight/inquiries/new?object_type=budget_line&object_id={ids['line']}"
        ),
    ),
    "oversight.answer_inquiry": Target(
        F, _ids(inquiry_id="inquiry"), page=lambda ids: f"/oversight/inquiries/{ids['inquiry']}"
    ),
    "oversight.follow_up_inquiry": Target(
        D, _ids(inquiry_id="inquiry"), page=lambda ids: f"/oversight/inquiries/{ids['inquiry']}"
    ),
    "oversight.close_inquiry": Target(D, _ids(inquiry_id="inquiry"), examples=FEW),
    # administration
    "admin.new_user": Target(A, fill=lambda ids: {"email": "fuzz-new@demo.kz", "phone": ""}),
    "admin.edit_user": Target(A, _ids(user_id="target_user"), fill=lambda ids: {"phone": ""}),
    # access tokens of the API (issue 21): before admin.revoke takes the target's grant away
    "admin.new_token": Target(A, fill=lambda ids: {"login": TARGET_LOGIN}),
    "admin.new_token_for": Target(
        A,
        _ids(user_id="target_user"),
        fill=lambda ids: {
            "name": "fuzz token",
            "grants": f"registrar:{ids['district']}",
            "expires_at": _later(30),
        },
    ),
    "admin.revoke_token": Target(A, _ids(token_id="api_token"), fill=lambda ids: YES),
    "admin.attendance_settings": Target(
        A, fill=lambda ids: {"unit_id": str(ids["district"]), "minutes": "90"}
    ),
    "admin.grant": Target(
        A, _ids(user_id="target_user"), page=lambda ids: f"/admin/users/{ids['target_user']}"
    ),
    "admin.revoke": Target(A, _ids(grant_id="target_grant"), examples=FEW),
    "admin.reset_mfa": Target(A, _ids(user_id="target_user"), examples=FEW),
    "admin.force_reset": Target(A, _ids(user_id="target_user"), examples=FEW),
    "admin.deactivate": Target(A, _ids(user_id="target_user"), examples=FEW),
    "admin.activate": Target(A, _ids(user_id="target_user"), examples=FEW),
    "admin.calendar_days": Target(A, names=("year",), fill=lambda ids: {"day": _later(400)}),
    "admin.remove_calendar_day": Target(A, _ids(day="calendar_day"), examples=FEW),
    "admin.contribution_kinds": Target(
        A, names=("code",), fill=lambda ids: {"code": "fuzz_kind", "points": "2"}
    ),
    "admin.register_settings": Target(A),
    "admin.verify_audit": Target(A, examples=FEW),
    "admin.edit_retention_rule": Target(A, lambda ids: {"kind": "member_expired"}),
    "admin.run_retention": Target(A, examples=FEW),
    "admin.retry_run": Target(A, _ids(run_id="failed_run"), examples=FEW),
    "admin.new_unit": Target(
        A,
        fill=lambda ids: {
            "parent_id": str(ids["region"]),
            "level": "district",
            "kato": "359900000",
        },
    ),
    "admin.rename_unit": Target(A, _ids(unit_id="other_district")),
    # the inbox, the calendar link, the own IBAN and asking for it (issue 19)
    "commission.ask_iban": Target(F, _ids(item_id="cash_item"), examples=FEW),
    "inbox.mark_read": Target(V, _ids(note_id="own_notification"), names=("open", "page")),
    "inbox.mark_all_read": Target(V, examples=FEW),
    "calendar.issue_link": Target(V, _ids(member_id="own_member"), names=("made",)),
    "volunteers.own_iban": Target(V, page=lambda ids: "/my"),
    # last: the volunteer's own withdrawal would end their part in the forms above
    "volunteers.withdraw": Target(V, _ids(application_id="own_application"), examples=FEW),
    "volunteers.withdraw_consent": Target(V, _ids(application_id="own_application"), examples=FEW),
}

# ---- the GET endpoints that read the query string ---------------------------------------------
# Hearings and complaints (issue 20), last: an adopted act changes the volunteer's record.
RV = "reviewer@demo.kz"
POST_TARGETS.update(
    {
        "appeals.my_objection": Target(V, _ids(hearing_id="hearing_notified")),
        "appeals.my_oral_request": Target(V, _ids(hearing_id="hearing_notified"), examples=FEW),
        "appeals.record_protocol": Target(
            R,
            _ids(hearing_id="hearing_notified"),
            page=lambda ids: f"/appeals/hearings/{ids['hearing_notified']}",
            fill=lambda ids: YES,
        ),
        "appeals.my_remarks": Target(V, _ids(hearing_id="hearing_notified")),
        "appeals.enter_objection": Target(R, _ids(hearing_id="hearing_notified")),
        "appeals.adopt": Target(
            R,
            _ids(hearing_id="hearing_notified"),
            page=lambda ids: f"/appeals/hearings/{ids['hearing_notified']}",
            fill=lambda ids: YES,
        ),
        "appeals.my_new_complaint": Target(
            V, lambda ids: {"hearing": ids["hearing_adopted"]}, files=("attachments",)
        ),
        "appeals.new_paper_complaint": Target(
            R, lambda ids: {"hearing": ids["hearing_adopted"]}, files=("attachments",)
        ),
        "appeals.decide": Target(RV, _ids(complaint_id="complaint"), fill=lambda ids: YES),
        "appeals.police_outcome": Target(C, _ids(complaint_id="complaint"), fill=lambda ids: YES),
        "appeals.grant": Target(R, _ids(complaint_id="complaint"), fill=lambda ids: YES),
        "appeals.forward": Target(R, _ids(complaint_id="complaint"), fill=lambda ids: YES),
        "appeals.notify": Target(
            R, _ids(hearing_id="hearing_drafted"), examples=FEW, fill=lambda ids: YES
        ),
        "appeals.withdraw": Target(R, _ids(hearing_id="hearing_drafted"), fill=lambda ids: YES),
        "appeals.new_hearing": Target(
            R,
            names=("act_kind", "subject_id"),
            page=lambda ids: f"/appeals/hearings/new?act_kind=expel&subject_id={ids['member']}",
            fill=lambda ids: {"act_kind": "expel", "subject_id": str(ids["member"])},
        ),
        "appeals.review_bodies": Target(A, page=lambda ids: "/appeals/review-bodies"),
        # the review fixes' forms (paper receipts, a sitting's reasons, a restored term)
        "appeals.record_delivery": Target(
            R,
            _ids(hearing_id="hearing_notified"),
            fill=lambda ids: {**YES, "how": "by_hand"},
        ),
        "appeals.record_act_receipt": Target(
            R, _ids(hearing_id="hearing_adopted"), fill=lambda ids: YES
        ),
        "appeals.state_reasons": Target(R, _ids(hearing_id="hearing_notified")),
        "appeals.restore_term": Target(R, _ids(complaint_id="complaint"), fill=lambda ids: YES),
    }
)

GET_TARGETS: dict[str, Target] = {
    "auth.login": Target(ANON, names=("next",)),
    "auth.confirm": Target(PLAIN_LOGIN, names=("next",)),
    "volunteers.applications": Target(C, names=("status", "due", "page")),
    "volunteers.members": Target(
        R, names=("page", "unit", "kind", "status", "patrol_unit", "expiring", "q")
    ),
    "admin.users": Target(A, names=("q", "page")),
    "admin.units": Target(A, names=("q", "page")),
    "admin.new_unit": Target(A, names=("parent",)),
    "admin.calendar_days": Target(A, names=("year",)),
    "admin.contribution_kinds": Target(A, names=("code",)),
    "finance.lines": Target(F, names=("page", "year", "purpose", "unit")),
    "finance.line": Target(F, _ids(line_id="line"), names=("kind", "from", "to", "page")),
    "finance.programs": Target(F, names=("year",)),
    "finance.decisions": Target(F, names=("page", "pending", "kind")),
    "finance.new_line": Target(F, names=("program",)),
    "finance.mci": Target(A, names=("year",)),
    "shifts.mine": Target(V, names=("member",)),
    "shifts.my_contributions": Target(V, names=("member",)),
    "shifts.manage": Target(C, names=("page", "when", "unit")),
    "shifts.queue": Target(C, names=("page",)),
    "shifts.member_contributions": Target(C, _ids(member_id="member"), names=("corrects",)),
    "shifts.summary": Target(C, names=("unit", "patrol_unit")),
    "commission.candidates": Target(C, names=("year", "quarter")),
    "commission.nominate": Target(C, _ids(member_id="candidate_member"), names=("year", "quarter")),
    "commission.minutes_docx": Target(S, _ids(session_id="final_session"), names=("lang",)),
    "commission.minutes_pdf": Target(S, _ids(session_id="final_session"), names=("lang",)),
    "commission.sessions_list": Target(S, names=("page",)),
    "commission.payouts_list": Target(F, names=("page",)),
    "sober.registry": Target(C, names=("status", "page")),
    "sober.declare": Target(C, names=("unit",)),
    "sober.record_indicator": Target(C, names=("unit",)),
    "sober.indicator_kinds": Target(A, names=("code",)),
    "sober.initiatives": Target(C, names=("status",)),
    "oversight.dashboard": Target(D, names=("year",)),
    "oversight.audit_log": Target(
        D, names=("actor", "action", "object_type", "object_id", "from", "to", "page")
    ),
    "oversight.exports_page": Target(
        D, names=("dataset", "format", "year", "unit_id", "date_from", "date_to")
    ),
    "oversight.red_flags": Target(D, names=("page",)),
    "appeals.cases": Target(R, names=("status", "type", "overdue", "page")),
    "appeals.new_hearing": Target(R, names=("act_kind", "subject_id")),
    "appeals.new_paper_complaint": Target(R, names=("hearing", "application", "kind")),
    "appeals.my_new_complaint": Target(V, names=("hearing", "application", "kind")),
    "appeals.hearing_notice_pdf": Target(R, _ids(hearing_id="hearing_adopted"), names=("lang",)),
    "appeals.hearing_act_pdf": Target(R, _ids(hearing_id="hearing_adopted"), names=("lang",)),
    "appeals.complaint_decision_pdf": Target(R, _ids(complaint_id="complaint"), names=("lang",)),
    "oversight.appeal_statistics": Target(D, names=("unit_id", "year", "quarter")),
    "oversight.appeal_statistics_csv": Target(D, names=("unit_id", "year", "quarter")),
    "oversight.inquiry_list": Target(F, names=("all", "page", "mine_page")),
    "oversight.new_inquiry": Target(D, names=("object_type", "object_id")),
    "oversight.print_session_report": Target(D, lambda ids: {"run_id": 1}, names=("lang",)),
}

# A 401 of these keeps the audited failure (and nothing else): a wrong password or code.
AUDITED_FAILURES = {"auth.login", "auth.confirm", "auth.mfa_verify", "oversight.reveal"}
# How a page shows why a request was refused: a field's error, an alert, the error page.
MESSAGE_MARKERS = ("invalid-feedback", "alert-danger", "alert-warning", 'role="alert"', "display-5")
# A job run is the record of its own request (who asked, when, with which parameters), and
# an upload it works on is part of that request: a request that only queues a job needs no
# audit event of its own; the job audits what it then changes.
JOB_TABLES = {"job_run", "stored_file"}

# ---- values -----------------------------------------------------------------------------------
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "שלום",
    "0",
    "-1",
    "1",
    "2",
    "-0",
    "1.5",
    "-99999999999999999999",
    "99999999999999999999999999999",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-1e309",
    "nan",
    "NaN",
    "sNaN",
    "inf",
    "-inf",
    "١٢٣",
    "²",
    "½",
    "2026-13-45",
    "31.12.2025",
    "2025/12/31",
    "9999-12-31",
    "0001-01-01",
    "12/31/2025",
    "2026-02-29",
    "2026-06-01",
    "24:00",
    "23:59",
    "00:00",
    "' OR 1=1--",
    "1; DROP TABLE user_account;--",
    "’ ‘ ” “",
    "%",
    "_",
    "\\",
    "<script>alert(1)</script>",
    "\r\n",
    "𝕳𝖊𝖑𝖑𝖔 👍🏽",
    "true",
    "on",
    "y",
    "None",
    "null",
    "KZ86125KZT5004100100",
    "demo-portal-2026",
]
EXTRA_NAMES = [
    "status",
    "role",
    "approved_by",
    "approved_by_id",
    "verified_by_id",
    "committed",
    "committed_tiyn",
    "amount_tiyn",
    "line_id",
    "unit_id",
    "user_id",
    "is_active",
    "session_epoch",
    "points",
    "iin",
    "id",
    "csrf_token",
    "next",
]
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
HUGE = st.tuples(
    st.sampled_from(["x", "Ж", "\u202e", "9", "%", "\x00", "’"]), st.integers(1, 20_000)
).map(lambda p: p[0] * p[1])
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**20, -(10**20)]).map(str),
    st.integers(-5, 3000).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
)
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%Y%m%d", "%d %B %Y"]
DATES = st.tuples(st.dates(), st.sampled_from(DATE_FORMATS)).map(
    lambda p: p[0].strftime(p[1]) if p[0].year >= 1000 else p[0].isoformat()
)


def _scalar(pool: list[str]):
    choices = [st.sampled_from(NASTY), TEXT, HUGE, NUMBERS, DATES]
    if pool:
        choices.append(st.sampled_from(pool))
        choices.append(st.sampled_from(pool))  # valid-looking values reach the domain
    return st.one_of(*choices)


def _value(pool: list[str]):
    scalar = _scalar(pool)
    return st.one_of(scalar, scalar, st.lists(scalar, min_size=2, max_size=4))


FILES = st.tuples(
    st.one_of(
        st.binary(max_size=3000),
        st.sampled_from(
            [
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                b"iin,full_name,kind,kato,phone,email,address,issued_on\n",
                b"kato,kind,year,quarter,value\n354030100,alcohol_crimes,2026,1,-5\n",
                b"kato,kind,year,quarter,value\n\x00,=HYPERLINK(1),99999999999,9,1e9\n",
                b"PK\x03\x04not really a workbook",
            ]
        ),
    ),
    st.sampled_from(
        [
            "x.csv",
            "x.pdf",
            "x.xlsx",
            "x",
            "../../etc/passwd.csv",
            "имя файла.pdf",
            "a" * 300 + ".csv",
        ]
    ),
)


def _fields(names: list[str], pool: list[str], files: tuple[str, ...], base: dict):
    """Field dicts: arbitrary ones, and (more often) the page's valid form with a few changes.

    Starting from what a browser would send reaches the domain and the database, where a
    field of arbitrary names and values is mostly stopped by the form's validation.
    """
    value = _value(pool)
    known = st.fixed_dictionaries({}, optional={n: value for n in names})
    extra = st.dictionaries(st.one_of(st.sampled_from(EXTRA_NAMES), TEXT), value, max_size=3)
    upload = st.fixed_dictionaries({}, optional=dict.fromkeys(files, FILES))
    arbitrary = st.tuples(known, extra, upload).map(lambda p: {**p[1], **p[0], **p[2]})
    if not base:
        return arbitrary
    keys = sorted(base)
    changed = st.tuples(
        st.dictionaries(st.sampled_from(keys), value, max_size=3),  # values replaced
        st.sets(st.sampled_from(keys), max_size=2),  # fields left out
        st.dictionaries(st.one_of(st.sampled_from(EXTRA_NAMES), TEXT), value, max_size=2),
        upload,
    ).map(
        lambda p: {
            **p[2],
            **{k: v for k, v in base.items() if k not in p[1]},
            **p[0],
            **p[3],
        }
    )
    return st.one_of(changed, changed, arbitrary)


# ---- the browser's view of a page -------------------------------------------------------------
_FILLERS = {
    "date": lambda: dt.date.today().isoformat(),
    "time": lambda: "10:00",
    "number": lambda: "1",
    "email": lambda: "fuzz-form@demo.kz",
    "password": lambda: "a long enough password",
    "tel": lambda: "+77010000000",
}


class _PageForms(HTMLParser):
    """The forms of a page and what a browser would send for each (empty fields filled in)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.numeric: set[str] = set()  # inputs a browser offers for numbers
        self._form = self._select = self._textarea = None

    def _add(self, name, value):
        self._form["fields"].setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if a.get("name"):
            self.names.add(a["name"])
        if a.get("value"):
            self.values.add(a["value"])
        if tag == "form":
            self._form = {
                "action": urlsplit(a.get("action", "")).path,
                "method": a.get("method", "get").lower(),
                "fields": {},
                "button": None,
            }
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "number" or a.get("inputmode") in ("numeric", "decimal"):
                self.numeric.add(name)
            if kind in ("submit", "reset", "image", "file", "button"):
                if kind == "submit" and self._form["button"] is None:
                    self._form["button"] = (name, a.get("value", ""))
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                if kind == "radio" and name not in self._form["fields"]:
                    self._form.setdefault("radios", {}).setdefault(name, a.get("value", "on"))
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if not value and kind in _FILLERS:
                value = _FILLERS[kind]()
            elif not value and kind in ("text", "search"):
                value = "Тест мәтіні"
            self._add(name, value)
        elif tag == "button" and self._form["button"] is None:
            self._form["button"] = (name, a.get("value", ""))
        elif tag == "select":
            self._select = {"name": name, "options": [], "selected": []}
        elif tag == "textarea":
            self._textarea = [name, ""]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = self._select["selected"] or self._select["options"][:1]
            for value in chosen:
                self._add(self._select["name"], value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._add(name, text.strip() or "Тест мәтіні")
            self._textarea = None
        elif tag == "form":
            self._form = None


class _Options(_PageForms):
    def handle_starttag(self, tag, attrs):
        if tag == "option" and self._select is not None:
            a = {k: (v if v is not None else "") for k, v in attrs}
            value = a.get("value", "")
            self._select["options"].append(value)
            if "selected" in a:
                self._select["selected"].append(value)
            if value:
                self.values.add(value)
            return
        super().handle_starttag(tag, attrs)


def _read_page(client, url: str) -> _Options | None:
    response = client.get(url)
    if response.status_code != 200 or "html" not in (response.mimetype or ""):
        return None
    parser = _Options()
    parser.feed(response.get_data(as_text=True))
    return parser


def _browser_data(parser: _Options, page: str, action: str, method: str) -> dict:
    """What a browser sends with the page's form for ``action`` (empty dict if none)."""
    for form in parser.forms:
        if (form["action"] or urlsplit(page).path) != action or form["method"] != method.lower():
            continue
        data = {k: v if len(v) > 1 else v[0] for k, v in form["fields"].items()}
        for name, value in form.get("radios", {}).items():
            data.setdefault(name, value)
        if form["button"] is not None:
            data.setdefault(*form["button"])
        data.pop("csrf_token", None)
        return data
    return {}


# ---- names of the fields ----------------------------------------------------------------------
_FORM_CLASS = re.compile(r"\b([A-Z]\w*Form)\b")


_NUMBER_FIELDS = ("IntegerField", "DecimalField", "FloatField")


def _form_field_names(app, view, numeric: set[str] | None = None) -> set[str]:
    """Names of the fields of every WTForms class the view's source names (without prefix);
    the names of its number fields are added to ``numeric`` too."""
    from flask_wtf import FlaskForm
    from wtforms import Form
    from wtforms.fields import FieldList, FormField

    func = inspect.unwrap(view)
    names: set[str] = set()
    for cls_name in set(_FORM_CLASS.findall(inspect.getsource(func))):
        cls = func.__globals__.get(cls_name)
        if not (inspect.isclass(cls) and issubclass(cls, Form)):
            continue
        with app.test_request_context("/", method="POST"):
            kwargs = {"meta": {"csrf": False}} if issubclass(cls, FlaskForm) else {}
            form = cls(formdata=None, **kwargs)
            stack = list(form)
            while stack:
                field = stack.pop()
                if isinstance(field, FieldList | FormField):
                    stack.extend(field)
                else:
                    names.add(field.name)
                    if numeric is not None and field.type in _NUMBER_FIELDS:
                        numeric.add(field.name)
    names.discard("csrf_token")
    return names


# ---- the world --------------------------------------------------------------------------------
class _Errors(logging.Handler):
    """Keep the tracebacks the app logs, to show with a failure."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append("".join(traceback.format_exception(*record.exc_info)))


class World:
    def __init__(self, app, ids):
        self.app, self.ids = app, ids
        self.clients: dict[str, object] = {}
        self.errors = _Errors()
        app.logger.addHandler(self.errors)

    def client(self, who: str | None):
        if who is ANON:
            client = self.app.test_client()
            # Each anonymous example comes from its own address, so that the per-address
            # sign-in limit (S8) answers 429 to the fuzzer only when it should.
            client.environ_base["REMOTE_ADDR"] = (
                f"10.{uuid.uuid4().int % 250}.0.{uuid.uuid4().int % 250}"
            )
            return client
        if who == FRESH:
            client = self.app.test_client()
            assert login(client, SELF_LOGIN).status_code == 302
            return client
        if who not in self.clients:
            client = self.app.test_client()
            assert login(client, who).status_code == 302, who
            self.clients[who] = client
        return self.clients[who]

    def user_roles(self, who: str) -> set[str]:
        from core import accounts
        from portal.extensions import db

        with self.app.app_context():
            user = accounts.find_by_login(db.session, who)
            roles = set(user.roles())
            db.session.remove()
        return roles


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    started = time.monotonic()
    url, ids, drop = clone_world(request, request.param, tmp_path_factory.mktemp("fuzz"))
    # Fresh-login checks (S7) are not what is fuzzed here: the sign-in stays fresh.
    app = make_app(url, FRESH_LOGIN_SECONDS=24 * 3600)
    found = World(app, ids)
    found.signup_token = _started_signup(app)
    found.reset_token, found.forced_user = _started_reset(app)
    found.started = started
    found.examples = 0
    found.endpoints = 0
    yield found
    print(
        f"\n[fuzz {request.param}] {found.endpoints} endpoints, {found.examples} examples, "
        f"{time.monotonic() - started:.1f} s"
    )
    close_app(app)
    drop()


# ---- the checks -------------------------------------------------------------------------------
def _short(data) -> str:
    def cut(v):
        if isinstance(v, str) and len(v) > 60:
            return f"{v[:40]!r}…({len(v)} chars)"
        if isinstance(v, tuple):
            return f"<file {v[1]!r}, {len(v[0])} bytes>"
        return repr(v)

    return "{" + ", ".join(f"{k!r}: {cut(v)}" for k, v in data.items()) + "}"


def _check(world: World, endpoint: str, method: str, url: str, data: dict, response, before, after):
    status = response.status_code
    changed = {t for t in after if after[t] != before.get(t)}
    where = f"{method} {url} ({endpoint}) with {_short(data)} -> {status}"
    if status >= 500:
        logged = world.errors.records[-1] if world.errors.records else ""
        pytest.fail(f"server error: {where}\n{logged[-3000:]}")
    if method == "GET":
        assert not changed, f"a GET changed {sorted(changed)}: {where}"
        return
    if 400 <= status < 500:
        allowed = {"audit_event"} if endpoint in AUDITED_FAILURES and status == 401 else set()
        assert changed <= allowed, f"a refused request changed {sorted(changed)}: {where}"
        if "html" in (response.mimetype or ""):
            body = response.get_data(as_text=True)
            assert any(marker in body for marker in MESSAGE_MARKERS), (
                f"a refused request shows no message: {where}"
            )
        return
    quiet = JOB_TABLES if after["job_run"] > before["job_run"] else set()
    business = changed - quiet - {"audit_event"}
    if business:
        assert after["audit_event"] > before["audit_event"], (
            f"a success changed {sorted(business)} without an audit event: {where}"
        )


def _prepare(world: World, endpoint: str, target: Target, method: str):
    """Return (urls, field names, value pool, browser's data, number fields) for an endpoint."""
    from flask import url_for

    app = world.app
    kwargs = target.url(world.ids)
    with app.test_request_context():
        urls = [
            url_for(endpoint, **kw) for kw in (kwargs if isinstance(kwargs, list) else [kwargs])
        ]
    names = set(target.names)
    numeric: set[str] = set()
    if method == "POST":
        names |= _form_field_names(app, app.view_functions[endpoint], numeric)
    pool: set[str] = set()
    who = SELF_LOGIN if target.login == FRESH else target.login
    reader = world.client(who)
    rule_methods = {m for r in app.url_map.iter_rules(endpoint) for m in r.methods}
    pages = [u for u in urls if "GET" in rule_methods]
    if target.page:
        pages.append(target.page(world.ids))
    base: dict = {}
    action = urlsplit(urls[-1]).path
    for page in pages:
        parser = _read_page(reader, page)
        if parser is None:
            continue
        names |= parser.names
        numeric |= parser.numeric
        pool |= parser.values
        base = base or _browser_data(parser, page, action, method)
    names.discard("csrf_token")
    if base or target.fill(world.ids):
        base = {**base, **target.fill(world.ids)}
    return urls, sorted(names), sorted(pool)[:200], base, numeric


def _send(client, world: World, endpoint: str, method: str, url: str, data: dict):
    if endpoint == "auth.mfa_verify":
        _pending_code_step(world, client)
    if endpoint == "volunteers.signup_code":
        with client.session_transaction() as sess:
            sess["signup"] = world.signup_token
    if endpoint == "auth.reset_password":
        with client.session_transaction() as sess:
            sess["password_reset"] = world.reset_token
    if endpoint == "auth.new_password":
        _held_for_new_password(world, client)
    if method == "GET":
        return client.get(url, query_string=_flatten(data))
    payload = {}
    for key, value in data.items():
        if isinstance(value, tuple):
            payload[key] = (io.BytesIO(value[0]), value[1])
        else:
            payload[key] = value
    return client.post(url, data=payload)


def _flatten(data: dict) -> list[tuple[str, str]]:
    pairs = []
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, v))
    return pairs


def _started_signup(app) -> str:
    """Start a sign-up whose code step the fuzzer then fills in; return its token."""
    from sqlalchemy import select

    from core import signups
    from core.places import AdminUnit
    from portal.extensions import db

    with app.app_context():
        token = signups.begin_signup(
            db.session,
            email="fuzz-code@demo.kz",
            phone=None,
            full_name="Код Тексеру",
            preferred_language="kk",
            unit_id=db.session.scalar(select(AdminUnit.id).limit(1)),
            password="a long enough password",
        )
        db.session.commit()
        db.session.remove()
    wait_for_jobs(app)
    return token


def _started_reset(app) -> tuple[str, int]:
    """Start a reset for an unknown address and make an account that owes a new password."""
    from sqlalchemy import select

    from core import accounts, password_resets
    from core.places import AdminUnit
    from portal.extensions import db

    with app.app_context():
        token = password_resets.begin_reset(db.session, email="fuzz-reset@example.kz")
        user = accounts.create_user(
            db.session,
            email="fuzz-forced@demo.kz",
            phone=None,
            full_name="Құпиясөз Ауыстыру",
            preferred_language="kk",
            unit_id=db.session.scalar(select(AdminUnit.id).limit(1)),
            password="a long enough password",
            actor_id=None,
        )
        user.must_reset = True
        db.session.commit()
        user_id = user.id
        db.session.remove()
    return token, user_id


def _held_for_new_password(world: World, client) -> None:
    """Put the client at the new-password step, as after the password of a forced reset."""
    from core import accounts
    from portal.extensions import db

    with world.app.app_context():
        user = db.session.get(accounts.User, world.forced_user)
        pending = [user.id, user.session_epoch, time.time(), "/", False]
        db.session.remove()
    with client.session_transaction() as sess:
        sess["reset_pending"] = pending


def _pending_code_step(world: World, client) -> None:
    """Put the client at the code step, as after a correct password of the plain account."""
    from core import accounts
    from portal.extensions import db

    with world.app.app_context():
        user = accounts.find_by_login(db.session, PLAIN_LOGIN)
        pending = [user.id, user.session_epoch, time.time(), "/"]
        db.session.remove()
    with client.session_transaction() as sess:
        sess["mfa_pending"] = pending


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")
_INT = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d[\d \u00a0]*(?:[.,]\d+)?")
# Past a BIGINT (2^63) both ways, each in each number field alone (one refused field must
# not hide another's overflow); past an INTEGER, zero, a float's infinity and not a number in
# every number field at once (cheaper: a form's fields are all validated together).
OUT_OF_RANGE = ("9223372036854775808", "-99999999999999999999")
ALL_AT_ONCE = ("2147483648", "0", "1e309", "NaN")
# Entries of a repeated group after its first (changes-1-amount …): the first stands for all.
_LATER_ENTRY = re.compile(r"-[1-9]\d*-")


def _probes(base: dict, numeric: set[str] = frozenset()) -> list[dict]:
    """Deterministic variants of the valid form that random examples reach too rarely.

    Every free-text field at once gets a NUL byte, then right-to-left marks and emoji, then an
    injection string, then a 12-digit number (all still pass the form's validation, so they
    reach the database and the audit chain); each text field alone gets 5,000 characters; each
    number field (``numeric`` names it, or its value is a number) gets ``OUT_OF_RANGE`` alone
    and ``ALL_AT_ONCE`` with the others, each date the first and the last day Python knows.
    """
    if not base:
        return []
    texts = [
        k
        for k, v in base.items()
        if isinstance(v, str)
        and not (_DATE.fullmatch(v) or _TIME.fullmatch(v) or _INT.fullmatch(v))
        and k not in ("key", "consent_version", "next")
    ]
    probes = []
    for change in (
        lambda v: v + "\x00",
        lambda v: "\u202e" + v + " 👍🏽 مرحبا",
        lambda v: v + "' OR 1=1--",
        # A number shaped as an IIN, as someone pastes one into a name or a reason: the audit
        # chain refuses to hold one (core.audit), and that refusal must never be a 500.
        lambda v: v + " 061211600012",
    ):
        probes.append({**base, **{k: change(base[k]) for k in texts}})
    for k in texts:
        probes.append({**base, k: "Ж" * 5000})
    numbers = []
    for k, v in base.items():
        if not isinstance(v, str):
            continue
        if (k in numeric or _NUMBER.fullmatch(v)) and not _LATER_ENTRY.search(k):
            numbers.append(k)
            probes += [{**base, k: n} for n in OUT_OF_RANGE]
        elif _DATE.fullmatch(v):
            probes += [{**base, k: d} for d in ("9999-12-31", "0001-01-01")]
    if numbers:
        probes += [{**base, **dict.fromkeys(numbers, n)} for n in ALL_AT_ONCE]
    return probes


def _one(world: World, endpoint: str, target: Target, method: str, url: str, data: dict):
    """Send one request and check it (the body of every example)."""
    app = world.app
    world.examples += 1
    client = world.client(target.login)  # signing in writes rows: before the snapshot
    wait_for_jobs(app)
    before = table_counts(app)
    response = _send(client, world, endpoint, method, url, data)
    wait_for_jobs(app)
    after = table_counts(app)
    _check(world, endpoint, method, url, data, response, before, after)


def _fuzz(world: World, endpoint: str, target: Target, method: str):
    app = world.app
    if target.login not in (ANON, FRESH):
        required = app.view_functions[endpoint]._required_roles
        roles = world.user_roles(target.login)
        assert "public" in required or "signed-in" in required or roles & required, (
            f"{target.login} holds none of {sorted(required)} for {endpoint}"
        )
    urls, names, pool, base, numeric = _prepare(world, endpoint, target, method)
    files = target.files if method == "POST" else ()
    count = target.examples or (EXAMPLES if names or files else FEW)
    world.endpoints += 1
    for data in _probes(base, numeric):
        _one(world, endpoint, target, method, urls[-1], data)

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        phases=PHASES,
    )
    @given(url=st.sampled_from(urls), data=_fields(names, pool, files, base))
    def run(url, data):
        _one(world, endpoint, target, method, url, data)

    run()


@pytest.mark.parametrize("endpoint", list(POST_TARGETS))
def test_forms_fuzz_never_5xx(world, endpoint):
    _fuzz(world, endpoint, POST_TARGETS[endpoint], "POST")


@pytest.mark.parametrize("endpoint", list(GET_TARGETS))
def test_filters_fuzz_never_5xx(world, endpoint):
    _fuzz(world, endpoint, GET_TARGETS[endpoint], "GET")


# ---- S14: SQL-injection probes ---------------------------------------------------------------
INJECTIONS = [
    "' OR 1=1--",
    "1; DROP TABLE user_account;--",
    "' OR ''='",
    '" OR ""="',
    "1 OR 1=1",
    "’ OR ‘1’=‘1",
    "’",
    "‘",
    "”",
    "“",
    "%",
    "%%",
    "_",
    "%_%",
    "\\",
    "\\%",
    "' UNION SELECT email, password_hash FROM user_account--",
]
NONSENSE = "zqxjv-nonexistent-4711"
# Every search or filter of a list: endpoint -> (who, URL arguments, query parameters).
SEARCHES = {
    "volunteers.members": (R, {}, ("q", "unit", "kind", "status", "patrol_unit", "page")),
    "volunteers.applications": (C, {}, ("q", "status", "due", "page")),
    "admin.users": (A, {}, ("q", "page")),
    "finance.lines": (F, {}, ("year", "purpose", "unit", "page")),
    "finance.line": (F, {"line_id": "line"}, ("kind", "from", "to", "page")),
    "finance.decisions": (F, {}, ("kind", "pending", "page")),
    "finance.programs": (F, {}, ("year",)),
    "oversight.audit_log": (
        D,
        {},
        ("actor", "action", "object_type", "object_id", "from", "to", "page"),
    ),
    "oversight.dashboard": (D, {}, ("year",)),
    "oversight.exports_page": (D, {}, ("dataset", "format", "year", "unit_id")),
    "oversight.inquiry_list": (F, {}, ("all", "page")),
    "shifts.manage": (C, {}, ("when", "unit", "page")),
    "shifts.summary": (C, {}, ("unit", "patrol_unit")),
    "sober.registry": (C, {}, ("status", "page")),
    "sober.initiatives": (C, {}, ("status",)),
    "commission.candidates": (C, {}, ("year", "quarter")),
}
EXPORT_FILTERS = ("year", "unit_id", "date_from", "date_to")


def _rows(response) -> int:
    return response.get_data(as_text=True).count("<tr")


@pytest.mark.parametrize("endpoint", list(SEARCHES))
def test_sql_injection_probes(world, endpoint):
    """An injection string finds no more records than nonsense does, and breaks nothing."""
    from flask import url_for

    who, kwargs, params = SEARCHES[endpoint]
    client = world.client(who)
    with world.app.test_request_context():
        url = url_for(endpoint, **{k: world.ids[v] for k, v in kwargs.items()})
    before = table_counts(world.app)
    for param in params:
        baseline = client.get(url, query_string={param: NONSENSE})
        assert baseline.status_code < 500, (endpoint, param)
        for probe in INJECTIONS:
            response = client.get(url, query_string={param: probe})
            where = f"GET {url}?{param}={probe!r} -> {response.status_code}"
            assert response.status_code < 500, where
            assert _rows(response) <= _rows(baseline), (
                f"{where} lists {_rows(response)} rows, nonsense lists {_rows(baseline)}"
            )
    assert table_counts(world.app) == before, f"probing {endpoint} changed the database"


def test_sql_injection_probes_in_export_filters(world):
    """The export's filters refuse injection strings with a 4xx and queue nothing."""
    client = world.client(D)
    before = table_counts(world.app)
    for param in EXPORT_FILTERS:
        for probe in INJECTIONS:
            data = {"dataset": "payouts", "format": "csv", param: probe}
            response = client.post("/oversight/exports", data=data)
            assert 400 <= response.status_code < 500, (param, probe, response.status_code)
    assert table_counts(world.app) == before


# ---- ids in the address ----------------------------------------------------------------------
ROLE_LOGINS = {
    "public": ANON,
    "signed-in": PLAIN_LOGIN,
    **{r: f"{r}@demo.kz" for r in ("volunteer", "coordinator", "registrar", "secretary")},
    **{r: f"{r}@demo.kz" for r in ("member", "chair", "finance", "deputy", "admin")},
}
HUGE_IDS = (2**31, 2**63, 10**20, 0)


def test_huge_ids_in_the_address_are_not_found(world):
    """Every rule with an ``<int:...>`` answers ids beyond an INTEGER with a 4xx, never a 500."""
    app = world.app
    for who in ROLE_LOGINS.values():
        world.client(who)  # signing in writes rows: before the snapshot
    before = table_counts(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [a for a, c in rule._converters.items() if type(c).__name__ == "IdConverter"]
        if not ints:
            continue
        required = sorted(app.view_functions[rule.endpoint]._required_roles)
        client = world.client(ROLE_LOGINS[required[0]])
        others = {a: "x" for a in rule.arguments if a not in ints}
        for method in sorted(rule.methods & {"GET", "POST"}):
            for huge in HUGE_IDS:
                path = rule.rule
                for arg in ints:
                    path = re.sub(rf"<int:{arg}>", str(huge), path)
                for arg, value in others.items():
                    path = re.sub(rf"<[^>]*{arg}>", value, path)
                response = client.open(path, method=method, data={} if method == "POST" else None)
                assert response.status_code < 500, f"{method} {path} -> {response.status_code}"
                checked += 1
    assert checked > 100
    assert table_counts(app) == before


# ---- the inventory ----------------------------------------------------------------------------
# Endpoints that take no form and no filter of a page, by the prefix of their name, with why.
NOT_FORMS = {
    "api_": "the JSON API (issue 21) takes JSON bodies and typed query parameters, not forms: "
    "tests/api/test_schemathesis.py fuzzes every operation from its OpenAPI document",
}


def _not_a_form(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.startswith(tuple(NOT_FORMS))


def _inventory_app():
    import tempfile

    return make_app(f"sqlite:///{tempfile.mkdtemp()}/inventory.sqlite3")


def test_every_form_endpoint_is_fuzzed():
    """Every rule accepting POST is fuzzed, and every view that reads the query string."""
    app = _inventory_app()
    try:
        posts = {
            r.endpoint
            for r in app.url_map.iter_rules()
            if "POST" in r.methods and not _not_a_form(r.endpoint)
        }
        assert sorted(posts - set(POST_TARGETS)) == [], "POST endpoints nobody fuzzes"
        assert sorted(set(POST_TARGETS) - posts) == [], "fuzz targets that are no endpoint"
        reads_args = set()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or _not_a_form(rule.endpoint):
                continue
            source = inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))
            if re.search(r"request\.(args|values)", source):
                reads_args.add(rule.endpoint)
        assert sorted(reads_args - set(GET_TARGETS)) == [], "GET filters nobody fuzzes"
        endpoints = {r.endpoint for r in app.url_map.iter_rules()}
        stale = [p for p in NOT_FORMS if not any(e.startswith(p) for e in endpoints)]
        assert stale == [], "NOT_FORMS names no endpoint"
    finally:
        close_app(app)
