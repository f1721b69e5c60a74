"""Re-sealing personal data under the current data key, in batches that can be resumed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import LargeBinary, MetaData, String, Table, literal, select, type_coerce, update
from sqlalchemy.orm import Session

from core import audit
from core.sealing import PREFIX, Sealed, SealedBytes, keyring


def sealed_columns(metadata: MetaData) -> list[tuple[Table, str, Sealed | SealedBytes]]:
    """Return every sealed column of the schema: (table, column name, its type)."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Sealed | SealedBytes):
                found.append((table, column.name, column.type))
    return found


def _raw(table: Table, name: str, kind):
    """The column as stored (no opening), so that a value is re-sealed, not sealed twice."""
    return type_coerce(table.c[name], LargeBinary() if isinstance(kind, SealedBytes) else String())


def _key_id(stored) -> str:
    text = bytes(stored).decode("ascii") if isinstance(stored, bytes | memoryview) else stored
    parts = text.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else "?"


def census(session: Session, metadata: MetaData) -> dict[str, Counter]:
    """Count the stored values of each sealed column by the key that sealed them."""
    counts = {}
    for table, name, kind in sealed_columns(metadata):
        raw = _raw(table, name, kind)
        counts[f"{table.name}.{name}"] = Counter(
            _key_id(value) for value in session.scalars(select(raw).where(raw.is_not(None)))
        )
    return counts


def rotate(
    session: Session,
    metadata: MetaData,
    *,
    batch: int = 500,
    commit: Callable[[], None],
    progress: Callable[[str, int], None] = lambda _column, _done: None,
) -> int:
    """Re-seal, under the current key, every value sealed with an older one; return how many.

    Each batch is committed with its audit event, so an interrupted run resumes where it
    stopped: what is already under the current key is passed over.
    """
    ring = keyring()
    current = ring.current_id
    total = 0
    for table, name, kind in sealed_columns(metadata):
        (key,) = table.primary_key.columns
        raw = _raw(table, name, kind)
        last = None
        done = 0
        while True:
            query = select(key, raw).where(raw.is_not(None)).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            rows = session.execute(query).all()
            if not rows:
                break
            changed = 0
            for row_id, stored in rows:
                if _key_id(stored) == current:
                    continue
                if isinstance(kind, SealedBytes):
                    plain = ring.open_bytes(bytes(stored).decode("ascii"), kind.purpose)
                    fresh = literal(ring.seal(plain, kind.purpose).encode("ascii"), LargeBinary())
                else:
                    fresh = literal(ring.seal(ring.open(stored, kind.purpose), kind.purpose))
                session.execute(update(table).where(key == row_id).values({name: fresh}))
                changed += 1
            last = rows[-1][0]
            if changed:
                audit.record(
                    session,
                    action="keys.rotate",
                    object_type="sealed_column",
                    object_id=None,
                    actor_id=None,
                    payload={"column": f"{table.name}.{name}", "values": changed, "key": current},
                )
                commit()
                done += changed
                progress(f"{table.name}.{name}", done)
        total += done
    return total
