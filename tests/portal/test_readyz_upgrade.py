"""/readyz during a rolling upgrade: one release ahead is ready, behind or unknown is not."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import select, text

from portal import asset_dir, releases
from tests.conftest import login_as

# Both databases: migrations (PostgreSQL runs them in one transaction with the record).
pytestmark = pytest.mark.both_databases

_LATER = '''"""A later release's migration."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None
{flag}


def upgrade():
    # What an expand step adds: a table, and nullable columns on tables every page reads.
    op.create_table("{revision}_note", sa.Column("id", sa.Integer(), primary_key=True))
    for table in ("user_account", "member", "application", "agenda_item", "payout"):
        op.add_column(table, sa.Column("{revision}_extra", sa.String(20), nullable=True))


def downgrade():
    for table in ("user_account", "member", "application", "agenda_item", "payout"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("{revision}_extra")
    op.drop_table("{revision}_note")
'''


def _code_head() -> str:
    return ScriptDirectory(str(asset_dir("migrations"))).get_current_head()


def _later_release(tmp_path: Path, *compatible: bool) -> Path:
    """Copy the migrations and add one later revision per flag, each after the previous one."""
    directory = tmp_path / "migrations"
    shutil.copytree(
        asset_dir("migrations"), directory, ignore=shutil.ignore_patterns("__pycache__")
    )
    down = _code_head()
    for number, flag in enumerate(compatible, start=9000):
        revision = f"{number}_later"
        (directory / "versions" / f"{revision}.py").write_text(
            _LATER.format(
                revision=revision,
                down=down,
                flag="COMPATIBLE_WITH_PREVIOUS = True" if flag else "",
            )
        )
        down = revision
    return directory


def _upgrade(app, directory: Path) -> None:
    with app.app_context():
        upgrade(directory=str(directory))


def test_readyz_accepts_a_database_one_expand_migration_ahead(app, client, session, tmp_path):
    _upgrade(app, _later_release(tmp_path, True))
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["migrations"].startswith("ok: 9000_later is ahead")
    servable = set(session.scalars(select(releases.schema_release.c.revision)))
    assert {"9000_later", _code_head()} <= servable


def test_readyz_refuses_a_database_ahead_through_a_contract_migration(app, client, tmp_path):
    _upgrade(app, _later_release(tmp_path, False))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].startswith("unknown: 9000_later")


def test_readyz_refuses_a_database_two_releases_ahead(app, client, tmp_path, monkeypatch):
    # 9000 is a cut release: code older than it is two releases behind 9001's schema.
    monkeypatch.setattr(releases, "RELEASE_HEADS", ("9000_later",))
    _upgrade(app, _later_release(tmp_path, True, True))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].startswith("unknown: 9001_later")


def test_readyz_refuses_a_database_behind_the_code(app, client, session):
    script = ScriptDirectory(str(asset_dir("migrations")))
    previous = script.get_revision(_code_head()).down_revision
    session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": previous})
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].startswith(f"behind: {previous}")


def test_servable_revisions_walk_back_through_expand_steps_to_the_previous_release(
    tmp_path, monkeypatch
):
    script = ScriptDirectory(str(_later_release(tmp_path, True, True, False, True)))
    assert releases.servable_revisions(script, "9003_later") == ["9003_later", "9002_later"]
    monkeypatch.setattr(releases, "RELEASE_HEADS", ("9000_later",))
    assert releases.servable_revisions(script, "9001_later") == ["9001_later", "9000_later"]
    monkeypatch.setattr(releases, "RELEASE_HEADS", ())
    walked = releases.servable_revisions(script, "9001_later")
    assert walked[:3] == ["9001_later", "9000_later", _code_head()]


ROLES = ("volunteer", "coordinator", "registrar", "secretary", "finance", "deputy", "admin")
_LINK = re.compile(r'href="(/[^"#?]*)"')


@pytest.mark.demo_data
def test_this_release_serves_its_main_pages_on_the_next_releases_expanded_schema(app, tmp_path):
    """Rolling upgrade: while one host has migrated to the next release's schema (expand only),
    the processes still on this release keep serving every role's main pages: each page its
    menu links to."""
    _upgrade(app, _later_release(tmp_path, True))
    assert app.test_client().get("/readyz").status_code == 200
    seen = 0
    for role in ROLES:
        client = app.test_client()
        login_as(client, f"{role}@demo.kz")
        home = client.get("/")
        assert home.status_code == 200, role
        for page in sorted(set(_LINK.findall(home.get_data(as_text=True)))):
            if page.startswith(("/static/", "/logout", "/lang")):
                continue
            response = client.get(page)
            assert response.status_code in (200, 302), (role, page, response.status_code)
            seen += 1
    assert seen > 30  # the menus were read, not skipped
