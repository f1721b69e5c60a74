"""Sealing personal data at rest: what is stored cannot be read, moved, compared or forged."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core.sealing import Keyring, SealingError, blind_index
from tests.conftest import TEST_DATA_KEYS, TEST_INDEX_KEY

OLD = Keyring.parse(TEST_DATA_KEYS, TEST_INDEX_KEY)
NEW_KEY = "t2:" + "C" * 43


def test_a_sealed_value_opens_only_as_what_it_was_sealed_for():
    sealed = OLD.seal("921111500030", "iin")
    assert "921111500030" not in sealed and sealed.startswith("s1.t1.")
    assert OLD.open(sealed, "iin") == "921111500030"
    # The same IIN twice gives two different stored values (random nonce)...
    assert OLD.seal("921111500030", "iin") != sealed
    # ...and a value copied into another column (an IBAN's) does not open there.
    with pytest.raises(SealingError):
        OLD.open(sealed, "iban")
    tampered = sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")
    with pytest.raises(SealingError):
        OLD.open(tampered, "iin")


def test_keys_are_checked_and_old_keys_still_open_after_a_new_one_is_added():
    with pytest.raises(SealingError):
        Keyring.parse("", TEST_INDEX_KEY)
    with pytest.raises(SealingError):
        Keyring.parse("t1:c2hvcnQ", TEST_INDEX_KEY)  # 5 bytes
    with pytest.raises(SealingError):
        Keyring.parse(f"{TEST_DATA_KEYS},{TEST_DATA_KEYS}", TEST_INDEX_KEY)
    with pytest.raises(SealingError):
        Keyring.parse(TEST_DATA_KEYS, "c2hvcnQ")
    rotated = Keyring.parse(f"{NEW_KEY},{TEST_DATA_KEYS}", TEST_INDEX_KEY)
    old_value = OLD.seal("KZ86125KZT5004100100", "iban")
    assert rotated.open(old_value, "iban") == "KZ86125KZT5004100100"
    assert rotated.seal("x", "iban").startswith("s1.t2.")
    # The blind index does not depend on the data keys: lookups survive a rotation.
    assert rotated.blind("921111500030", "iin") == OLD.blind("921111500030", "iin")
    assert OLD.blind("921111500030", "iin") != OLD.blind("921111500030", "phone")


def test_sql_cannot_compare_a_sealed_column_by_mistake():
    from volunteers.models import Member

    with pytest.raises(TypeError, match="blind index"):
        Member.iin == "921111500030"  # noqa: B015
    with pytest.raises(TypeError):
        Member.iin.in_(["921111500030"])
    Member.iin.is_not(None)  # whether it is there may be asked
    # SQLAlchemy looks columns up in lists (``in`` asks ``==`` of column objects).
    from volunteers.models import Application

    assert Member.iin in [Application.iin, Member.iin]
    assert Member.iin not in [Application.iin]


def test_the_database_holds_sealed_values_and_the_orm_reads_them_plain(app, session):
    from core.account_models import User, find_by_login
    from volunteers.models import Member

    member = session.scalars(select(Member).order_by(Member.id)).first()
    stored = session.execute(
        text("SELECT iin, iin_index FROM member WHERE id = :id"), {"id": member.id}
    ).one()
    assert stored.iin.startswith("s1.t1.") and member.iin not in stored.iin
    assert stored.iin_index == blind_index(member.iin, "iin")
    assert len(member.iin) == 12 and member.iin.isdigit()
    # A phone signs in in any spelling although the column holds no digits of it.
    user = session.scalars(select(User).where(User.phone.is_not(None))).first()
    if user is not None:
        digits = user.phone[2:]
        spelled = f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
        assert find_by_login(session, spelled).id == user.id
        raw = session.scalar(text("SELECT phone FROM user_account WHERE id = :id"), {"id": user.id})
        assert digits not in raw


def test_keys_rotate_reseals_everything_and_can_resume(app, session):
    from core import key_rotation, sealing
    from portal.extensions import db

    runner = app.test_cli_runner()
    before = key_rotation.census(session, db.metadata)
    assert before["member.iin"]["t1"] > 0
    session.rollback()
    sealing.configure(Keyring.parse(f"{NEW_KEY},{TEST_DATA_KEYS}", TEST_INDEX_KEY))
    try:
        result = runner.invoke(args=["keys", "rotate", "--batch", "3"])
        assert result.exit_code == 0, result.output
        assert "re-sealed under key t2" in result.output
        with app.app_context():
            after = key_rotation.census(db.session, db.metadata)
        for column, counts in after.items():
            assert set(counts) <= {"t2"}, column
            assert sum(counts.values()) == sum(before[column].values()), column
        # A second run (an interrupted one resumed) finds nothing left to do.
        again = runner.invoke(args=["keys", "rotate"])
        assert again.exit_code == 0 and again.output.startswith("0 values re-sealed")
        from volunteers.models import Member

        with app.app_context():
            assert all(len(m.iin) == 12 for m in db.session.scalars(select(Member)))
    finally:
        sealing.configure(OLD)
