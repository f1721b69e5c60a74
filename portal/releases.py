"""Which code may serve which schema: expand-then-contract upgrades and what /readyz accepts.

Rolling upgrade: one host runs ``flask --app wsgi db upgrade``, then the hosts restart one by one,
so for a while the previous release's processes serve a schema one release ahead. That works
because migrations are written **expand then contract**:

- *expand* (add a table, a nullable column or one with a server default, an index, a wider
  type): the code of the migration's ``down_revision`` still runs after it. Such a migration
  says so with ``COMPATIBLE_WITH_PREVIOUS = True`` at module level.
- *contract* (drop or rename a column or table, NOT NULL without a default, a narrower type or a
  tighter constraint the previous code could violate): it comes one release after the code
  stopped using what it removes, and leaves the flag out (False).

The previous release's code does not have the new migration modules, so the database carries the
answer: after every upgrade or downgrade, ``migrations/env.py`` calls :func:`record_servable`,
which writes into ``schema_release`` the revisions whose code may serve the schema: the current
one, then down the chain while each step is an expand step, stopping at the previous release's
head (one release back at most, :data:`RELEASE_HEADS`). :func:`migration_state` (``/readyz``)
accepts the database when it is at the code's head or names the code's head there; behind (an
ancestor of the head) or unknown (ahead through a contract step, or foreign) is not ready.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, String, Table, delete, insert, inspect, select

from core.db import Base

# The migration head each cut release shipped with, oldest first: append one when cutting a
# release (its version is pyproject's). None has been cut from this tree yet, so the walk in
# record_servable is bounded by the expand flags alone.
RELEASE_HEADS: tuple[str, ...] = ()

schema_release = Table(
    "schema_release",
    Base.metadata,
    # A migration head whose code may serve this schema; rewritten by migrations/env.py.
    Column("revision", String(64), primary_key=True),
)


def servable_revisions(script: ScriptDirectory, current: str | None) -> list[str]:
    """Return ``current`` and the revisions behind it whose code may serve its schema."""
    if current is None:
        return []
    servable = [current]
    revision = script.get_revision(current)
    while (
        revision is not None
        and getattr(revision.module, "COMPATIBLE_WITH_PREVIOUS", False)
        and isinstance(revision.down_revision, str)
    ):
        servable.append(revision.down_revision)
        if revision.down_revision in RELEASE_HEADS:
            break  # the previous release: one release back at most
        revision = script.get_revision(revision.down_revision)
    return servable


def record_servable(connection: Connection, script: ScriptDirectory) -> None:
    """Rewrite ``schema_release`` for the database's current revision (from migrations/env.py)."""
    if not inspect(connection).has_table("schema_release"):
        return  # downgraded below the migration that creates it
    current = MigrationContext.configure(connection).get_current_revision()
    servable = servable_revisions(script, current)
    # `flask db current` runs the environment too: it must not write when nothing changed.
    if set(connection.scalars(select(schema_release.c.revision))) == set(servable):
        return
    connection.execute(delete(schema_release))
    for revision in servable:
        connection.execute(insert(schema_release).values(revision=revision))


def migration_state(connection: Connection, script: ScriptDirectory) -> tuple[bool, str]:
    """Return whether this code may serve the database, and what /readyz shows about it."""
    head = script.get_current_head()
    current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return True, "ok"
    known = {r.revision for r in script.walk_revisions()}
    if current is None or current in known:
        return False, f"behind: {current or 'none'} (code: {head})"
    if inspect(connection).has_table("schema_release"):
        servable = connection.scalars(select(schema_release.c.revision)).all()
        if head in servable:
            return True, f"ok: {current} is ahead and declares {head} compatible"
    return False, f"unknown: {current} (code: {head}; not declared compatible)"
