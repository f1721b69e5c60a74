"""A dump or a copy of the database shows no IIN, IBAN, phone or TOTP secret in clear (issue 17)."""

from __future__ import annotations

import re
import subprocess

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from stdnum import iban as iban_numbers

from core.iin import InvalidIIN, parse_iin
from tests.conftest import engine_of

# Both databases: SQLite's file and PostgreSQL's dump are what a thief or a backup gets.
pytestmark = pytest.mark.both_databases

# A run of exactly 12 digits standing alone: not inside a hash, a token or sealed text.
_TWELVE = re.compile(rb"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
_KZ_IBAN = re.compile(rb"KZ\d{2}[0-9A-Z]{16}")


def _scenario(app, session) -> None:
    """What the portal keeps beyond the demo: an enrolled authenticator and an uploaded register."""
    from core import mfa, uploads
    from core.accounts import User
    from demo.commission import DEMO_IBAN
    from volunteers.models import Member

    user = session.scalar(select(User).where(User.email == "coordinator@demo.kz"))
    secret = mfa.new_secret()
    mfa.enable(session, user_id=user.id, secret=secret, code=pyotp.TOTP(secret).now())
    members = session.scalars(select(Member).limit(3)).all()
    csv = "iin,full_name,iban\n" + "".join(f"{m.iin},{m.full_name},{DEMO_IBAN}\n" for m in members)
    uploads.store(
        session,
        filename="register.csv",
        content_type="text/csv",
        content=csv.encode(),
        owner_id=user.id,
    )
    session.commit()


def _database_bytes(app) -> bytes:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    engine_of(app).dispose()
    if url.get_backend_name() == "sqlite":
        with open(url.database, "rb") as fh:
            return fh.read()
    return subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout


@pytest.mark.demo_data
def test_a_copy_of_the_database_holds_no_personal_identifier_in_clear(app, session):
    from core.accounts import User
    from core.mfa import TotpFactor
    from incentives.models import Payout
    from volunteers.models import Application, Member

    _scenario(app, session)
    iins = set(session.scalars(select(Member.iin))) | set(session.scalars(select(Application.iin)))
    phones = {p for p in session.scalars(select(User.phone)) if p} | {
        p for p in session.scalars(select(Application.phone)) if p
    }
    ibans = {i for i in session.scalars(select(Payout.iban)) if i}
    secrets = set(session.scalars(select(TotpFactor.secret)))
    assert iins and phones and ibans and secrets  # the scenario has each kind to find
    session.rollback()
    session.close()

    dump = _database_bytes(app)
    assert len(dump) > 100_000
    # pg_dump writes binary columns (files) as hex: read them as the bytes they hold.
    dump += b"".join(
        bytes.fromhex(m.group(1).decode()) for m in re.finditer(rb"\\x((?:[0-9a-f]{2})+)", dump)
    )
    for value in iins | phones | ibans | secrets:
        assert value.encode() not in dump, "a known personal value is stored in clear"
    # And no other IIN: any standalone run of 12 digits that is a valid IIN.
    for match in _TWELVE.finditer(dump):
        try:
            parse_iin(match.group().decode())
        except InvalidIIN:
            continue
        pytest.fail(f"a valid IIN is stored in clear at byte {match.start()}")
    for match in _KZ_IBAN.finditer(dump):
        assert not iban_numbers.is_valid(match.group().decode()), "an IBAN is stored in clear"
