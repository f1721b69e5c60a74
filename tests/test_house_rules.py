"""The house rules of DESIGN.md that a reader cannot see from one file: every module says what
belongs in it, no ``utils``, a module past ~500 lines says in its docstring why it is one, and
a test for PostgreSQL only is marked to run there."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "volunteers", "budget", "incentives", "sober", "appeals", "portal", "demo")
SPLIT_AT = 500  # lines: DESIGN.md splits a module "only when it passes ~500 lines"
REASON = "Longer than 500 lines"  # how a module that stays whole opens its reason


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def test_the_packages_are_where_the_rules_look():
    assert len(modules()) > 100  # a renamed package would leave the rules below nothing to check


def test_every_module_says_what_belongs_in_it():
    silent = [str(p.relative_to(ROOT)) for p in modules() if not docstring(p).strip()]
    assert silent == [], "give these modules a docstring saying what belongs in them"


def test_no_utils():
    found = [p for p in modules() if "utils" in p.relative_to(ROOT).with_suffix("").parts]
    assert found == []


def test_a_module_past_500_lines_says_why_it_stays_whole():
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := p.read_text(encoding="utf-8").count("\n")) > SPLIT_AT
    }
    unexplained = sorted(name for name in long if REASON not in docstring(ROOT / name))
    assert unexplained == [], (
        f"split these modules, or open a paragraph of their docstring with '{REASON} on "
        f"purpose:' and the reason: {[(n, long[n]) for n in unexplained]}"
    )


# How a test says it runs on PostgreSQL only: it skips itself on any other backend.
POSTGRES_ONLY = ('not db_url.startswith("postgresql")', '.dialect.name != "postgresql"')


def _marked_both(node: ast.AST, module: ast.Module, source: str) -> bool:
    marks = [ast.get_source_segment(source, d) or "" for d in getattr(node, "decorator_list", [])]
    marks += [
        ast.get_source_segment(source, n) or ""
        for n in module.body
        if isinstance(n, ast.Assign) and [getattr(t, "id", "") for t in n.targets] == ["pytestmark"]
    ]
    return any("both_databases" in m for m in marks)


def test_a_test_for_postgresql_only_is_marked_to_run_there():
    """A test that skips itself on SQLite runs only in its PostgreSQL case, which the suite
    deselects unless the test is marked ``both_databases`` (tests/conftest.py): unmarked, it
    ran in no run but ``--full``, as a shift's last-place race and a lock-order test did."""
    unmarked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
        for node in module.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            body = ast.get_source_segment(source, node) or ""
            if any(p in body for p in POSTGRES_ONLY) and not _marked_both(node, module, source):
                unmarked.append(f"{path.relative_to(ROOT)}::{node.name}")
    assert unmarked == [], "mark these @pytest.mark.both_databases"
