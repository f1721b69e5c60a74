"""Every step and record the audit log names has a label, and its record a page (finding 7)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core import accounts, audit
from core.jobruns import JobRun
from portal import labels
from portal.oversight.pii_views import TARGETS
from portal.oversight.record_links import RECORD_PAGES
from tests.conftest import login_as
from volunteers.register import MEMBER_STEP_TO

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "volunteers", "budget", "incentives", "sober", "appeals", "portal")
# Values of names the scan cannot follow by itself: (module, name) -> the values it takes.
SPELLED_OUT = {
    ("portal/oversight/pii_views.py", "object_type"): {kind for kind, _field in TARGETS},
    ("volunteers/register.py", "to_status"): set(MEMBER_STEP_TO),
}


def _strings(node) -> set[str] | None:
    """The strings an expression can be, or None when it is not made of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


class _Module:
    """One module's functions, for following a name to the constants it is given."""

    def __init__(self, path: Path, source: str):
        self.path = path.relative_to(ROOT).as_posix()
        self.tree = ast.parse(source)
        self._parents: dict | None = None

    @property
    def parents(self) -> dict:
        if self._parents is None:  # only modules with a name to follow need it
            self._parents = {
                child: parent
                for parent in ast.walk(self.tree)
                for child in ast.iter_child_nodes(parent)
            }
        return self._parents

    def function_of(self, node):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def values_of(self, name: str, where) -> set[str] | None:
        """The constants ``name`` takes inside the function around ``where``."""
        if (self.path, name) in SPELLED_OUT:
            return SPELLED_OUT[(self.path, name)]
        function = self.function_of(where)
        if function is None:
            return None
        found: set[str] = set()
        for node in ast.walk(function):  # name = "..." (or a conditional of constants)
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                values = self.expand(node.value, node)
                if values is None:
                    return None
                found |= values
        params = [a.arg for a in function.args.args + function.args.kwonlyargs]
        if name in params and not function.name.startswith("_"):
            return None  # a public function: callers elsewhere may pass anything
        if name in params:  # a private one's parameter: what the module's calls pass
            position = params.index(name)
            for call in ast.walk(self.tree):
                if not (isinstance(call, ast.Call) and _callee(call) == function.name):
                    continue
                given = {k.arg: k.value for k in call.keywords}
                arg = given.get(name)
                if arg is None and position < len(call.args):
                    arg = call.args[position]
                if arg is None:
                    continue
                values = self.expand(arg, call)
                if values is None:
                    return None
                found |= values
        return found or None

    def expand(self, node, where) -> set[str] | None:
        """The strings an expression takes: constants, names given constants, f-strings."""
        direct = _strings(node)
        if direct is not None:
            return direct
        if isinstance(node, ast.Name):
            return self.values_of(node.id, where)
        if isinstance(node, ast.JoinedStr):
            results = {""}
            for part in node.values:
                if isinstance(part, ast.Constant):
                    options = {part.value}
                else:
                    options = self.expand(part.value, where)
                    if options is None:
                        return None
                results = {r + o for r in results for o in options}
            return results
        return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def audited() -> tuple[dict[str, set[str]], list[str]]:
    """Every action and object type passed to ``audit.record`` anywhere, and what is unknown."""
    found = {"action": set(), "object_type": set()}
    unknown = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if "record(" not in source:
                continue
            module = _Module(path, source)
            for call in ast.walk(module.tree):
                if not (isinstance(call, ast.Call) and _callee(call) == "record"):
                    continue
                given = {k.arg: k.value for k in call.keywords}
                if not {"action", "object_type"} <= set(given):
                    continue
                if module.path == "core/audit.py":
                    continue  # the chain's own copy of events (repair, verification)
                for key in found:
                    values = module.expand(given[key], call)
                    if values is None:
                        unknown.append(f"{module.path}:{call.lineno} {key}")
                    else:
                        found[key] |= values
    return found, unknown


def test_every_audited_action_and_record_type_has_a_label():
    found, unknown = audited()
    assert unknown == [], "values the scan cannot follow: add them to SPELLED_OUT"
    assert len(found["action"]) > 90 and len(found["object_type"]) > 30  # the scan sees them
    assert {"session.conflict", "ledger.disburse", "member.suspended", "user.erase"} <= found[
        "action"
    ]
    assert {"agenda_item", "job_run", "payout", "application"} <= found["object_type"]
    assert sorted(found["action"] - set(labels.AUDIT_ACTION_LABELS)) == []
    assert sorted(found["object_type"] - set(labels.AUDIT_OBJECT_LABELS)) == []


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_audit_labels_are_translated(lang):
    """Merged into the catalogs from /tmp/briefs/out/H6-translations.tsv by ``dev.py i18n``."""
    path = ROOT / "portal" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    tables = (labels.AUDIT_ACTION_LABELS, labels.AUDIT_OBJECT_LABELS)
    msgids = {label._args[0] for table in tables for label in table.values()}
    assert sorted(m for m in msgids if not catalog.get(m)) == []


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="event">(.*?)</tr>', page, re.S)


def _no_codes(rows: list[str]) -> None:
    """A row shows words: no ``agenda_item``, ``job_run`` nor ``payout.paid`` in its text."""
    for row in rows:
        text = re.sub(r"<[^>]+>", " ", row)
        assert not re.search(r"\b[a-z]+(_[a-z]+)+\b|\b[a-z_]+\.[a-z_]+\b", text), text


@pytest.mark.demo_data
def test_audit_log_names_records_in_words_and_links_resolve(app, session):
    # An export the deputy made: its task's page is theirs to open from the log.
    deputy_id = accounts.find_by_login(session, "deputy@demo.kz").id
    run = JobRun(kind="oversight.export", status="succeeded", requested_by_id=deputy_id)
    session.add(run)
    session.flush()
    audit.record(
        session,
        action="oversight.export",
        object_type="job_run",
        object_id=run.id,
        actor_id=deputy_id,
        payload={"rows": 0},
    )
    session.commit()
    kinds = [*RECORD_PAGES, "job_run"]
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    deputy.post("/language", data={"lang": "ru"})
    opened, opened_urls = set(), []
    for kind in kinds:
        page = deputy.get(f"/oversight/audit?object_type={kind}")
        assert page.status_code == 200
        rows = _rows(page.text)
        _no_codes(rows)
        links = sorted(set(re.findall(r'<td><a href="([^"]+)"', "".join(rows))))
        for href in [h for h in links if h.split("/")[2] not in opened][:1]:
            assert deputy.get(href).status_code == 200, href
            opened.add(href.split("/")[2])
            opened_urls.append(href)
    # Lines, decisions, sessions, rewards, payouts, members, contributions of the demo data.
    assert {"lines", "sessions", "rewards", "payouts", "members", "contributions"} <= opened
    assert f"/jobs/{run.id}" in str(opened_urls)
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    page = admin.get("/admin/audit")
    assert page.status_code == 200
    [body] = re.findall(r"<tbody>(.*?)</tbody>", page.text, re.S)
    _no_codes(re.findall(r"<tr>(.*?)</tr>", body, re.S))
    for href in sorted(set(re.findall(r'<a href="([^"]+)"', body)))[:1]:
        assert admin.get(href).status_code == 200, href
