"""The house rules of DESIGN.md that a reader cannot see from one file: every module says what
belongs in it, no ``utils``, a module past ~500 lines says in its docstring why it is one, and
a test for PostgreSQL only is marked to run there."""

from __future__ import annotations

import ast
import re
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


# How a test says it runs on PostgreSQL only: it skips itself when the backend is not it.
POSTGRES_ONLY = re.compile(
    r"""not [\w.()]+\.startswith\(["']postgres"""
    r"""|!= ["']postgresql["']"""
    r"""|(?<![\w.()])(?<!not )[\w.()]+\.startswith\(["']sqlite["']\)"""
    r"""|== ["']sqlite["']"""
)


def _skips_unless_postgres(source: str, test: ast.AST) -> bool:
    """Tell whether ``test`` calls ``pytest.skip`` under a condition that the backend is not
    PostgreSQL (``not db_url.startswith("postgresql")``, ``dialect.name == "sqlite"`` …)."""
    for node in ast.walk(test):
        if isinstance(node, ast.If) and POSTGRES_ONLY.search(
            ast.get_source_segment(source, node.test) or ""
        ):
            calls = [ast.get_source_segment(source, n) or "" for n in ast.walk(node)]
            if any(c.startswith("pytest.skip(") for c in calls):
                return True
    return False


def _marks(source: str, module: ast.Module, test: ast.AST, owner: ast.AST | None) -> str:
    marks = [n for n in (test, owner) if n is not None for n in getattr(n, "decorator_list", [])]
    for scope in (module, owner):
        for n in getattr(scope, "body", []):
            if isinstance(n, ast.Assign) and [getattr(t, "id", "") for t in n.targets] == [
                "pytestmark"
            ]:
                marks.append(n)
    return " ".join(ast.get_source_segment(source, m) or "" for m in marks)


def test_a_test_for_postgresql_only_is_marked_to_run_there():
    """A test that skips itself unless the database is PostgreSQL runs only in its PostgreSQL
    case, which the suite deselects unless the test is marked ``both_databases``
    (tests/conftest.py): unmarked, it ran in no run but ``--full``, as a shift's last-place
    race and a lock-order test did. Test functions and the test methods of classes."""
    unmarked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
        tests = [(n, None) for n in module.body]
        tests += [(m, n) for n in module.body if isinstance(n, ast.ClassDef) for m in n.body]
        for test, owner in tests:
            if not isinstance(test, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not test.name.startswith("test") or not _skips_unless_postgres(source, test):
                continue
            if "both_databases" not in _marks(source, module, test, owner):
                unmarked.append(f"{path.relative_to(ROOT)}::{test.name}")
    assert unmarked == [], "mark these @pytest.mark.both_databases"
