"""/readyz during a rolling upgrade: one release ahead is ready, behind or unknown is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import select, text

from portal import asset_dir, releases

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
    op.create_table("{revision}_note", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
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
