"""The scale demo's register: patrol units, members with their applications, open applications."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import (
    func,
    select,
    update,
)

from core import calendar, calendar_rules
from core.accounts import User
from core.iin import make_iin
from core.search_text import search_key
from demo.scale.base import HOMES, STREETS, UNIT_SIZE, _local, _Person, _split, _token
from demo.scale.rows import (
    _CHANNEL,
    _GIVEN,
    APPLICATION_COLUMNS,
    DECLARED,
    MEMBER_COLUMNS,
    PATROL_COLUMNS,
    _row,
)
from volunteers import enrolment, register
from volunteers.models import Application, Consent, Member, MemberStatusChange, PatrolUnit

VOLUNTEER_ACCOUNTS = 100  # active members who can sign in (bench/load.py drives 50 users)


class _Register:
    """The register step (a part of the generator)."""

    # ---- the register ------------------------------------------------------------------------

    def register(self) -> dict[str, int]:
        """Write the patrol units, the members with their applications, and open applications."""
        session, bulk = self.session, self.bulk
        bulk.lock(PatrolUnit, Application, Consent, Member, MemberStatusChange)
        consent = enrolment.current_consent(session, self.today).version
        holidays, transfers = calendar._rules(session)
        taken_iins = set(session.scalars(select(Application.iin)))
        validity = {k: register.validity_months(session, u) for k, u in self.homes.items()}
        shares = _split(self.size, {k: HOMES[k] for k in self.homes})
        patrol_rows, app_rows, consent_rows, member_rows, change_rows = [], [], [], [], []
        by_certificate: dict[tuple[int, int], list[list]] = defaultdict(list)
        app_ids = iter(bulk.ids(Application, self.size + self._open_count()))
        member_ids = iter(bulk.ids(Member, self.size))
        for kato, count in shares.items():
            if not count:
                continue
            home, issuer = self.homes[kato], self.issuer_of[kato]
            staff = self.staff[issuer.id]
            patrol_ids = list(bulk.ids(PatrolUnit, max(1, round(count / UNIT_SIZE))))
            for n, patrol_id in enumerate(patrol_ids, start=1):
                patrol_rows.append(
                    (  # in the order of PATROL_COLUMNS
                        patrol_id,
                        f"{home.name_kk} №{n} ерікті патрулі",
                        home.id,
                        None,
                        staff.coordinator_id,
                        self.now - dt.timedelta(days=1200),
                    )
                )
                self.patrol_issuer[patrol_id] = issuer.id
                self.patrol_home[patrol_id] = home
            for i in range(count):
                person, rows = self._member(
                    next(app_ids),
                    next(member_ids),
                    home,
                    issuer,
                    patrol_ids[i % len(patrol_ids)],
                    staff,
                    validity[kato],
                    taken_iins,
                    holidays,
                    transfers,
                )
                application, member, changes = rows
                app_rows.append(application)
                consent_rows.append(
                    (application[0], consent, application[_GIVEN], application[_CHANNEL])
                )
                # The certificate number is known once the year's numbers are reserved.
                by_certificate[(issuer.id, person.issued_on.year)].append(member)
                member_rows.append(member)
                change_rows.extend(changes)
                self.people.append(person)
                self.patrols[person.patrol_id].append(person)
        for (issuer_id, year), rows in by_certificate.items():
            issuer = self.unit_by_id[issuer_id]
            rows.sort(key=lambda r: (r["issued_on"], r["id"]))  # in order of issue
            first = register.reserve_certificate_numbers(session, issuer, year, len(rows))
            for seq, row in enumerate(rows, start=first):
                row["certificate_no"] = register.certificate_number(issuer, year, seq)
        for application in self._open_applications(app_ids, taken_iins, holidays, transfers):
            app_rows.append(application)
            consent_rows.append(
                (application[0], consent, application[_GIVEN], application[_CHANNEL])
            )
        bulk.write(PatrolUnit, PATROL_COLUMNS, patrol_rows)
        bulk.write(Application, APPLICATION_COLUMNS, app_rows)
        consent_ids = bulk.ids(Consent, len(consent_rows))
        bulk.write(
            Consent,
            ("id", "application_id", "version", "given_at", "channel"),
            ((cid, *row) for cid, row in zip(consent_ids, consent_rows, strict=True)),
        )
        bulk.write(Member, MEMBER_COLUMNS, (_row(MEMBER_COLUMNS, **r) for r in member_rows))
        change_ids = bulk.ids(MemberStatusChange, len(change_rows))
        bulk.write(
            MemberStatusChange,
            ("id", "member_id", "from_status", "to_status", "reason", "actor_id", "at"),
            ((cid, *row) for cid, row in zip(change_ids, change_rows, strict=True)),
        )
        # Each unit is led by its first active member.
        first_active = (
            select(func.min(Member.id))
            .where(Member.patrol_unit_id == PatrolUnit.id, Member.status == "active")
            .scalar_subquery()
        )
        session.execute(
            update(PatrolUnit)
            .where(PatrolUnit.id.in_([r[0] for r in patrol_rows]))
            .values(leader_member_id=first_active)
            .execution_options(synchronize_session=False)
        )
        return {
            "patrol_unit": len(patrol_rows),
            "application": len(app_rows),
            "consent": len(consent_rows),
            "member": len(member_rows),
            "member_status_change": len(change_rows),
            "user_account": self._volunteer_accounts(member_rows),
        }

    def _volunteer_accounts(self, member_rows: list[dict]) -> int:
        """Give the first active members a sign-in, ``volunteer.<member id>@demo.kz``.

        Scaled members are register entries without accounts, so a load test could sign in as
        one volunteer only (bench/load.py, issue 16); these sign in with the demo password.
        """
        chosen = [r for r in member_rows if r["status"] == "active"][:VOLUNTEER_ACCOUNTS]
        for row in chosen:
            user_id, _made = self._account(
                f"volunteer.{row['id']}@demo.kz", "volunteer", row["unit_id"], self.password_hash
            )
            self.session.execute(
                update(User)
                .where(User.id == user_id)
                .values(full_name=row["full_name"], search_name=search_key(row["full_name"]))
            )
            self.session.execute(
                update(Member)
                .where(Member.id == row["id"])
                .values(user_id=user_id)
                .execution_options(synchronize_session=False)
            )
        return len(chosen)

    def _iin(self, taken: set[str], born: dt.date, sex: str) -> str:
        while True:
            iin = make_iin(born, sex, self.rng.randint(0, 9999))
            if iin not in taken:
                taken.add(iin)
                return iin

    def _born(self) -> tuple[dt.date, str]:
        rng = self.rng
        born = dt.date(1958, 1, 1) + dt.timedelta(days=rng.randint(0, 46 * 365))
        return born, rng.choice(("male", "female"))

    def _member(
        self, app_id, member_id, home, issuer, patrol_id, staff, months, taken, holidays, transfers
    ):
        rng, today = self.rng, self.today
        born, sex = self._born()
        iin = self._iin(taken, born, sex)
        name = self._name(sex)
        # Three in four joined before the year shown; the rest during it.
        if rng.random() < 0.75:
            issued = self.first_day - dt.timedelta(days=rng.randint(1, 700))
        else:
            issued = self.first_day + dt.timedelta(days=rng.randint(0, max(0, self.days - 20)))
        expires = register.add_months(issued, months)
        fate = rng.random()
        status = "active"
        for share, outcome in ((0.025, "suspended"), (0.035, "expelled"), (0.055, "withdrawn")):
            if fate < share:
                status = outcome
                break
        ended = None
        if status != "active":
            low = max(issued + dt.timedelta(days=30), self.first_day)
            ended = min(low + dt.timedelta(days=rng.randint(0, 300)), today - dt.timedelta(days=1))
        if expires <= today:
            status, ended = "expired", expires
        submitted = issued - dt.timedelta(days=rng.randint(25, 45))
        checked = submitted + dt.timedelta(days=rng.randint(5, 20))
        petitioned = checked + dt.timedelta(days=rng.randint(1, 3))
        channel = rng.choice(("walk_in", "walk_in", "import", "web"))
        kind = "patrol_member" if rng.random() < 0.7 else "public_assistant"
        application = _row(
            APPLICATION_COLUMNS,
            **DECLARED,
            id=app_id,
            kind=kind,
            status="registered",
            live=status in ("active", "suspended"),
            unit_id=home.id,
            patrol_unit_id=patrol_id,
            applicant_id=None,
            entered_by_id=None if channel == "web" else staff.coordinator_id,
            channel=channel,
            iin=iin,
            full_name=name,
            birth_date=born,
            phone=f"+7701{rng.randint(0, 9_999_999):07d}",
            email=None,
            address=f"{home.name_kk}, {rng.choice(STREETS)} к-сі, {rng.randint(1, 120)}",
            submitted_at=_local(submitted, 10),
            police_due_on=submitted + dt.timedelta(days=enrolment.POLICE_CHECK_DAYS),
            check_by_id=staff.coordinator_id,
            check_outcome="passed",
            checked_at=_local(checked, 11),
            refusal_reason=None,
            petitioned_at=_local(petitioned, 12),
            registration_due_on=calendar_rules.add_working_days(
                petitioned, enrolment.REGISTRATION_WORKING_DAYS, holidays, transfers
            ),
            registered_at=_local(issued, 11),
            closed_at=None,
        )
        reason = {
            "suspended": "Тәртіп бұзғаны үшін уақытша",
            "expelled": "Міндеттерін бірнеше рет орындамады",
            "withdrawn": "Өз өтініші бойынша",
            "expired": "certificate expired",
        }.get(status)
        member = {
            "id": member_id,
            "application_id": app_id,
            "user_id": None,
            "kind": kind,
            "iin": iin,
            "full_name": name,
            "unit_id": home.id,
            "patrol_unit_id": patrol_id,
            "coordinator_id": staff.coordinator_id,
            "certificate_no": None,  # known once the year's numbers are reserved
            "verify_token": _token(rng),
            "issued_on": issued,
            "expires_on": expires,
            "status": status,
            "status_reason": reason,
            "created_at": _local(issued, 11),
        }
        changes = [(member_id, None, "active", "", staff.coordinator_id, _local(issued, 11))]
        if ended is not None:
            actor = None if status == "expired" else staff.coordinator_id
            changes.append((member_id, "active", status, reason, actor, _local(ended, 17)))
        person = _Person(
            id=member_id,
            home_id=home.id,
            issuer_id=issuer.id,
            patrol_id=patrol_id,
            iin=iin,
            issued_on=issued,
            expires_on=expires,
            active_until=ended - dt.timedelta(days=1) if ended else expires,
            active=status == "active",
        )
        return person, (application, member, changes)

    def _open_count(self) -> int:
        return max(10, self.size // 100)

    def _open_applications(self, app_ids, taken, holidays, transfers) -> Iterator[tuple]:
        """Yield applications still on their way: submitted, being checked, petitioned, refused."""
        rng, today = self.rng, self.today
        states = ("submitted", "police_check", "passed", "petitioned", "refused")
        homes = list(self.homes)
        for n in range(self._open_count()):
            kato = homes[n % len(homes)]
            home, staff = self.homes[kato], self.staff[self.issuer_of[kato].id]
            state = states[n % len(states)]
            age = rng.randint(31, 45) if n % 3 == 0 else rng.randint(1, 25)  # a third overdue
            submitted = today - dt.timedelta(days=age)
            born, sex = self._born()
            checked = petitioned = due = None
            status, outcome, reason, live, closed = state, None, None, True, None
            if state in ("passed", "petitioned", "refused"):
                checked = _local(submitted + dt.timedelta(days=min(age - 1, 3)), 11)
                outcome = "refused" if state == "refused" else "passed"
                status = "police_check" if state == "passed" else state
            if state == "petitioned":
                day = submitted + dt.timedelta(days=min(age - 1, 4))
                petitioned = _local(day, 12)
                due = calendar_rules.add_working_days(
                    day, enrolment.REGISTRATION_WORKING_DAYS, holidays, transfers
                )
            if state == "refused":
                reason, live, closed = "Заң талаптарына сәйкес келмейді", False, checked
            yield _row(
                APPLICATION_COLUMNS,
                **DECLARED,
                id=next(app_ids),
                kind="patrol_member" if n % 2 else "public_assistant",
                status=status,
                live=live,
                unit_id=home.id,
                patrol_unit_id=None,
                applicant_id=None,
                entered_by_id=staff.coordinator_id,
                channel="walk_in",
                iin=self._iin(taken, born, sex),
                full_name=self._name(sex),
                birth_date=born,
                phone=f"+7702{rng.randint(0, 9_999_999):07d}",
                email=None,
                address=f"{home.name_kk}, {rng.choice(STREETS)} к-сі, {rng.randint(1, 120)}",
                submitted_at=_local(submitted, 10),
                police_due_on=submitted + dt.timedelta(days=enrolment.POLICE_CHECK_DAYS),
                check_by_id=staff.coordinator_id if state != "submitted" else None,
                check_outcome=outcome,
                checked_at=checked,
                refusal_reason=reason,
                petitioned_at=petitioned,
                registration_due_on=due,
                registered_at=None,
                closed_at=closed,
            )
