"""The operations guide and the deploy/ files name commands and settings that exist (issue 18)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
DEPLOY = ROOT / "deploy"
# `flask --app wsgi <command> [<subcommand>] [options…]` up to the end of the code span or line.
_FLASK = re.compile(r"flask --app wsgi ([^`\n|;#]+)")


def _commands(app) -> click.Group:
    from flask_migrate.cli import db as migrate_db

    group = click.Group(commands=dict(app.cli.commands))
    group.add_command(migrate_db, "db")
    return group


def _resolve(group: click.Group, words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = group
    while words and isinstance(command, click.Group) and not words[0].startswith("-"):
        name = words.pop(0)
        found = command.commands.get(name)
        assert found is not None, f"no command {name!r}"
        command = found
    return command, words


def _check(group: click.Group, line: str) -> None:
    words = [w for w in shlex.split(line.replace("…", "x")) if not w.startswith("<")]
    command, rest = _resolve(group, words)
    assert not isinstance(command, click.Group), f"{line!r} names a group, not a command"
    accepted = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in accepted, f"{line!r}: {word} is not an option"


def _documented_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = GUIDE.read_text(encoding="utf-8") + readme
    return [m.group(1).strip() for m in _FLASK.finditer(text)]


def test_every_command_the_guide_and_readme_name_exists_with_its_options(app):
    group = _commands(app)
    lines = _documented_lines()
    for expected in (
        "db upgrade",
        "places load",
        "audit verify",
        "budget reconcile",
        "keys rotate",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    for line in lines:
        _check(group, line)


def _exec_start(unit: Path) -> list[str]:
    for line in unit.read_text().splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.removeprefix("ExecStart="))
    raise AssertionError(f"{unit.name} has no ExecStart")


@pytest.mark.parametrize("unit", sorted(p.name for p in DEPLOY.glob("*.service")))
def test_each_systemd_unit_runs_a_real_command_with_the_settings_file(app, unit):
    path = DEPLOY / unit
    text = path.read_text()
    assert "EnvironmentFile=/etc/portal/portal.env" in text
    assert "User=portal" in text and "Restart=on-failure" in text
    argv = _exec_start(path)
    program = Path(argv[0]).name
    if program == "gunicorn":
        config = argv[argv.index("-c") + 1]
        assert (ROOT / Path(config).name).is_file(), f"{config} is not in the repository"
        assert argv[-1] == "wsgi:app" and (ROOT / "wsgi.py").is_file()
    else:
        assert program == "flask" and argv[1:3] == ["--app", "wsgi"], argv
        _check(_commands(app), " ".join(argv[3:]))


def test_the_settings_example_holds_what_production_requires_and_only_documented_names():
    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "portal.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    required = {
        "PORTAL_ENV",
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "PORTAL_DATA_KEYS",
        "PORTAL_INDEX_KEY",
        "PORTAL_PUBLIC_BASE_URL",
        "PORTAL_TRUSTED_PROXIES",
    }
    assert required <= names
    documented = (ROOT / "README.md").read_text() + GUIDE.read_text()
    for name in names:
        assert re.search(rf"[`$]{name}\b", documented), f"{name} is set but documented nowhere"


def test_the_readme_links_the_guide():
    assert "docs/operations.md" in (ROOT / "README.md").read_text()
