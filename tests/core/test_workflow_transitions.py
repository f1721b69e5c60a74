"""One transition mechanism: declared workflows match the database, and nothing else moves a status.

(a) every declared workflow's states are exactly the values its status column's CHECK allows in
    the migrated database (SQLite and PostgreSQL);
(b) a static scan of the application packages fails on any status change outside
    ``core/transitions.py``: attribute assignment, ``setattr``, ``update(Model).values(status=…)``,
    or a record created in a state its workflow does not start in;
(c) ``core.transitions.advance`` itself: one guarded step, a 409 naming who moved first, and the
    caller's refusal when an extra guard fails.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core.errors import DomainError
from core.transitions import REGISTRY, AlreadyMoved, Workflow, advance

# Both databases: each workflow's CHECK constraint in both databases.
pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "volunteers", "budget", "incentives", "sober", "portal", "demo")
MECHANISM = Path("core/transitions.py")

# Places that may CREATE records in a state other than their workflow's initial one, because
# they load history rather than take a step: the import of an akimat's paper register enters
# people the akimat registered before the portal existed (application "registered").
# Nothing here may assign or UPDATE a status: only records' creation is exempt.
# The demo loaders (demo/) get no exemption: they go through the domain functions,
# and the scale loader writes history as plain row tuples (bulk COPY), not as models.
HISTORY_LOADERS = {
    ("volunteers/importing.py", "application", "registered"),
}


def load_workflows() -> dict[str, Workflow]:
    """Import every ``<package>/workflow.py`` so that each declared workflow registers."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("workflow.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            importlib.import_module(module)
    return dict(REGISTRY)


def test_every_package_declares_its_workflows():
    workflows = load_workflows()
    for name in (
        "application",
        "member",
        "shift",
        "signup",
        "contribution",
        "inquiry",
        "sober_declaration",
        "sober_initiative",
        "commission_session",
        "nomination",
    ):
        assert name in workflows, name


# ---- (a) the states are the database's --------------------------------------------------------


def _check_values(checks: list[dict], table: str, column: str) -> set[str] | None:
    """Return the values of the ``<column> IN (…)`` CHECK of ``table``, as reflected."""
    wanted = f"ck_{table}_{column}_known"
    for check in checks:
        if check["name"] == wanted:
            return set(re.findall(r"'([^']*)'", check["sqltext"]))
    return None


def test_workflow_states_equal_the_status_check_of_the_database(app):
    from portal.extensions import db

    workflows = load_workflows()
    with app.app_context(), db.engine.connect() as conn:
        inspector = inspect(conn)
        for workflow in workflows.values():
            table = workflow.model.__tablename__
            allowed = _check_values(inspector.get_check_constraints(table), table, workflow.column)
            assert allowed is not None, f"{table}.{workflow.column} has no CHECK of its values"
            assert allowed == set(workflow.states), workflow.name
            # Every step leads somewhere the constraint allows, from somewhere it allows.
            for step in workflow.steps.values():
                assert {*step.sources, step.target} <= allowed, (workflow.name, step.name)


# ---- (b) nothing assigns a status outside the mechanism ---------------------------------------


def _model_index(workflows: dict[str, Workflow]) -> dict[str, Workflow]:
    return {wf.model.__name__: wf for wf in workflows.values()}


def _root_call(node: ast.AST) -> ast.Call | None:
    """Follow ``a(...).b(...).c`` down to the first call of the chain, ``a(...)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        inner = node.func.value
        if not isinstance(inner, ast.Call):
            return node
        node = inner
    return node if isinstance(node, ast.Call) else None


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _model_of(expr: ast.AST) -> str | None:
    """Return ``Model`` for ``Model`` or ``Model.__table__``."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute) and expr.attr == "__table__":
        return _model_of(expr.value)
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _status_values(call: ast.Call, column: str) -> list[ast.AST]:
    """Return the expressions a ``.values(...)`` call gives the status column."""
    found = [k.value for k in call.keywords if k.arg == column]
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            found += [
                v
                for k, v in zip(arg.keys, arg.values, strict=True)
                if isinstance(k, ast.Constant) and k.value == column
            ]
    return found


class StatusScan(ast.NodeVisitor):
    """Collect every place a workflow's status is set outside the mechanism."""

    def __init__(self, path: str, workflows: dict[str, Workflow]):
        self.path = path
        self.models = _model_index(workflows)
        self.columns = {wf.column for wf in workflows.values()}
        # A literal state some workflow does not start in: a dict or call giving it creates
        # history ("registered" starts a complaint but is a later state of an application).
        self.later_states = {
            s for wf in workflows.values() for s in wf.states if s not in wf.initial
        }
        self.found: list[str] = []
        self.known: list[dict[str, str]] = [{}]  # per function: variable → model it holds

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        # ``x = session.get(Model, …)`` or ``x = Model(…)``: then ``x.status`` is Model's.
        known = {}
        for child in ast.walk(node):
            if (
                isinstance(child, ast.Assign)
                and len(child.targets) == 1
                and isinstance(child.targets[0], ast.Name)
                and isinstance(child.value, ast.Call)
            ):
                call = child.value
                if _call_name(call) == "get" and call.args and isinstance(call.args[0], ast.Name):
                    known[child.targets[0].id] = call.args[0].id
                elif isinstance(call.func, ast.Name) and call.func.id[:1].isupper():
                    known[child.targets[0].id] = call.func.id
        self.known.append(known)
        self.generic_visit(node)
        self.known.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _not_a_workflow(self, owner: ast.AST) -> bool:
        """Tell whether ``owner`` is known to hold a model that has no declared workflow."""
        model = self.known[-1].get(owner.id) if isinstance(owner, ast.Name) else None
        return model is not None and model not in self.models

    def flag(self, node: ast.AST, what: str, table: str | None = None, state=None) -> None:
        if (self.path, table, state) in HISTORY_LOADERS:
            return
        self.found.append(f"{self.path}:{node.lineno}: {what}")

    def _targets(self, target: ast.AST):
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                yield from self._targets(element)
        else:
            yield target

    def _check_assign(self, node: ast.AST, targets: list[ast.AST]) -> None:
        for target in targets:
            for element in self._targets(target):
                if (
                    isinstance(element, ast.Attribute)
                    and element.attr in self.columns
                    and not self._not_a_workflow(element.value)
                ):
                    self.flag(node, f"assigns .{element.attr}")

    def visit_Assign(self, node: ast.Assign) -> None:
        self._check_assign(node, node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_assign(node, [node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._check_assign(node, [node.target])
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and key.value in self.columns
                and isinstance(value, ast.Constant)
                and value.value in self.later_states
            ):
                tables = {
                    wf.model.__tablename__
                    for wf in self.models.values()
                    if value.value in wf.states and value.value not in wf.initial
                }
                if not any((self.path, t, value.value) in HISTORY_LOADERS for t in tables):
                    self.flag(node, f"writes a row in state {value.value!r}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if (
            name == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in self.columns
        ):
            self.flag(node, f"setattr(…, {node.args[1].value!r}, …)")
        if name == "values" and isinstance(node.func, ast.Attribute):
            root = _root_call(node.func.value)
            if root is not None and _call_name(root) in ("update", "insert") and root.args:
                workflow = self.models.get(_model_of(root.args[0]) or "")
                if workflow is not None:
                    for value in _status_values(node, workflow.column):
                        self._check_statement(node, _call_name(root), workflow, value)
        workflow = self.models.get(name or "") if isinstance(node.func, ast.Name) else None
        if workflow is not None:
            for keyword in node.keywords:
                if keyword.arg == workflow.column:
                    self._check_create(node, workflow, keyword.value)
        self.generic_visit(node)

    def _check_statement(self, node, kind: str, workflow: Workflow, value: ast.AST) -> None:
        if kind == "update":
            self.flag(node, f"update({workflow.model.__name__}).values({workflow.column}=…)")
        else:
            self._check_create(node, workflow, value)

    def _check_create(self, node, workflow: Workflow, value: ast.AST) -> None:
        state = value.value if isinstance(value, ast.Constant) else None
        if state in workflow.initial:
            return
        shown = repr(state) if state is not None else ast.unparse(value)
        self.flag(
            node,
            f"creates {workflow.model.__name__} in state {shown}",
            workflow.model.__tablename__,
            state,
        )


def scan(workflows: dict[str, Workflow]) -> list[str]:
    """Return every status change outside the mechanism, as ``path:line: what``."""
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == MECHANISM or "translations" in relative.parts:
                continue
            visitor = StatusScan(relative.as_posix(), workflows)
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(relative)))
            found += visitor.found
    return found


def test_no_code_moves_a_status_outside_core_transitions():
    found = scan(load_workflows())
    assert found == [], "status changed outside core.transitions:\n" + "\n".join(found)


SAMPLE = """
def bad(session, app, sid):
    app.status = "police_check"
    previous, member.status = member.status, "expelled"
    setattr(app, "status", "refused")
    session.execute(update(Shift).where(Shift.id == sid).values(status="cancelled"))
    session.execute(update(Signup.__table__).values({"status": "no_show"}))
    Contribution(member_id=1, status="confirmed")
    Contribution(member_id=1, status=state)
    rows = [{"iin": "1", "status": "registered"}]

def good(session, app):
    note = session.get(Notification, 1)
    note.status = "failed"
    Contribution(member_id=1, status="logged")
    audit(payload={"status": app.status})
    session.execute(update(Shift).values(taken=0))
    row.update(status="paid")
"""


def test_the_scan_finds_each_way_of_moving_a_status():
    visitor = StatusScan("sample.py", load_workflows())
    visitor.visit(ast.parse(SAMPLE))
    lines = sorted({int(f.split(":")[1]) for f in visitor.found})
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10], visitor.found


# ---- (c) the mechanism itself -----------------------------------------------------------------


def test_advance_moves_once_and_names_who_moved_first(app):
    from core import audit
    from portal.extensions import db
    from tests.factories.volunteers import fields, user
    from volunteers import enrolment
    from volunteers.models import Application
    from volunteers.workflow import APPLICATION

    with app.app_context():
        engine = db.engine
    with Session(engine) as s:
        application = enrolment.submit_application(s, **fields(s))
        coordinator = user(s, "coordinator@demo.kz")
        s.commit()
        app_id, coordinator_id, name = application.id, coordinator.id, coordinator.full_name
    # A second request read the application before the first one moved it.
    stale_session = Session(engine, expire_on_commit=False)
    stale = stale_session.get(Application, app_id)
    stale_session.commit()

    with Session(engine) as s:
        record = s.get(Application, app_id)
        advance(s, APPLICATION, record, "take_check", values={"check_by_id": coordinator_id})
        assert record.status == "police_check" and record.check_by_id == coordinator_id
        audit.record(
            s,
            action="application.take_check",
            object_type="application",
            object_id=app_id,
            actor_id=coordinator_id,
            payload={},
        )
        s.commit()

    with pytest.raises(AlreadyMoved) as moved:
        advance(stale_session, APPLICATION, stale, "take_check")
    assert stale.status == "submitted"  # the loser's object is not pretended moved
    stale_session.rollback()
    stale_session.close()
    assert moved.value.status == 409
    assert moved.value.params == {"who": name, "state": "police_check"}
    # The person reads the state by its label, in their language, never the stored code.
    from flask_babel import force_locale, gettext

    from portal.i18n import translate_error

    with app.test_request_context(), force_locale("ru"):
        shown = translate_error(moved.value)
        assert gettext("Police check") in shown and "police_check" not in shown
        assert name in shown

    # A later event without an actor (a job's) is what moved the record last: nobody is named.
    with Session(engine) as s:
        audit.record(
            s,
            action="application.job_touch",
            object_type="application",
            object_id=app_id,
            actor_id=None,
            payload={},
        )
        s.commit()
    with Session(engine) as s, pytest.raises(AlreadyMoved) as unnamed:
        advance(s, APPLICATION, s.get(Application, app_id), "take_check")
    assert "who" not in unnamed.value.params

    # The state allows the step but an extra guard does not: the caller's refusal, no change.
    refusal = DomainError("Record a passed check first.")
    with Session(engine) as s:
        record = s.get(Application, app_id)
        with pytest.raises(DomainError) as refused:
            advance(
                s,
                APPLICATION,
                record,
                "petition",
                where=[Application.check_outcome == "passed"],
                refused=refusal,
            )
        assert refused.value is refusal
        s.rollback()
        assert s.scalar(select(Application.status).where(Application.id == app_id)) == (
            "police_check"
        )
