"""Uploaded and generated files kept in the database, so every web and worker host sees them."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, NotFound
from core.sealing import SealedBytes


class StoredFile(Base):
    """A file: an upload to import, or a report a job produced."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    # Sealed at rest: an uploaded register or a produced report is full of personal data.
    content: Mapped[bytes] = mapped_column(SealedBytes("file"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def store(
    session: Session, *, filename: str, content_type: str, content: bytes, owner_id: int | None
) -> StoredFile:
    """Keep a file and return its row."""
    row = StoredFile(
        filename=filename[:255],
        # A client names the type of an uploaded part: held to the column like the filename
        # (a longer one would be a 500 on PostgreSQL; found reviewing S13's import probes).
        content_type=content_type[:100],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        owner_id=owner_id,
    )
    session.add(row)
    session.flush()
    return row


def get_file(session: Session, file_id: int) -> StoredFile:
    """Return the file or raise NotFound."""
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound(N_("No such file."))
    return row
