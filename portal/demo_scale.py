"""Demo data at scale: a region of N members with a year of work, rewards and payouts, in bulk."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from stdnum import iban as stdiban

from budget import appropriations, ledger
from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import accounts, audit, calendar, calendar_rules, clock, places
from core.accounts import RoleGrant, User
from core.db import UTCDateTime, utcnow
from core.errors import N_, DomainError
from core.iin import make_iin
from core.money import format_tiyn
from incentives import policy
from incentives.models import (
    AgendaItem,
    Attendance,
    Commission,
    CommissionMember,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
    RewardPolicy,
    Vote,
)
from incentives.sober import quarter_of
from portal import demo
from volunteers import contributions, enrolment, register
from volunteers.activity_models import Contribution, ContributionKind, Shift, Signup
from volunteers.models import Application, Consent, Member, MemberStatusChange, PatrolUnit

SEED = 245  # Law No. 245-VIII: the same region every time for the same N and day
REGION = "350000000"  # Karaganda region
# Where the members live: KATO -> share of the region's members (roughly by population).
HOMES = {
    "351000000": 38,  # Karaganda city
    "352400000": 12,  # Temirtau
    "351600000": 5,  # Balkhash
    "352800000": 4,  # Shakhtinsk
    "352200000": 3,  # Saran
    "352100000": 1,  # Priozersk
    "353220100": 3,  # Abai district: Abai, Yubileinoye, Kurminskoye, Topar
    "353249100": 1,
    "353263100": 1,
    "353285100": 2,
    "353667100": 2,  # Aktogay district: Saryshagan
    "354030100": 4,  # Bukhar-Zhyrau district: Botakara, Gabiden Mustafin
    "354081100": 3,
    "354820100": 3,  # Karkaraly
    "355230100": 3,  # Nura
    "355630100": 3,  # Osakarovka district: Osakarovka, Saryozek, Shokai, Molodezhny
    "355635100": 1,
    "355635300": 1,
    "355657100": 1,
    "356400000": 3,  # Shet district (no settlement of it in the reference data)
}
UNIT_SIZE = 40  # members per patrol unit
DAYS_BACK = 364
DAYS_AHEAD = 13
# Local start and end hour of a patrol by weekday (Monday = 0): evenings, a day shift on Sunday.
SHIFT_HOURS = {0: (19, 23), 1: (19, 23), 2: (19, 23), 3: (19, 23), 4: (19, 23), 5: (18, 23)}
SHIFT_HOURS[6] = (11, 17)
SHIFTS_PER_WEEK = 3
PLACES = (
    "орталық алаң",
    "теміржол вокзалы",
    "қалалық саябақ",
    "№3 мектеп маңы",
    "орталық базар",
    "автобекет",
    "жастар саябағы",
    "мәдениет үйі маңы",
)
STREETS = ("Абай", "Бұқар жырау", "Жамбыл", "Әуезов", "Гоголь", "Ерубаев", "Сейфуллин", "Мира")
OTHER_KINDS = {  # kind -> (description, reference prefix or None), logged by a coordinator
    "offense_reported": ("Қоғамдық орында төбелес туралы 102-ге хабарлады", "KUSP"),
    "offender_handed_over": ("Ұрлық жасаған адамды ұстап, полицияға тапсырды", "KUSP"),
    "victim_assistance": ("Жол-көлік оқиғасында жедел жәрдем келгенше көмектесті", None),
    "missing_person_search": ("Жоғалған баланы іздеуге қатысты", None),
    "preventive_event": ("Мектепте құқықтық сауаттылық сабағы", None),
    "public_order_event": ("Мерекелік шарада қоғамдық тәртіпті сақтау", None),
    "sober_settlement_activity": ("«Ауыл – алкогольсіз» жиналысын ұйымдастыруға көмек", None),
}
REJECTIONS = ("Смена журналында белгі жоқ", "Тіркеу нөмірі табылмады", "Дәлел жеткіліксіз")
JUSTIFICATION = "Тоқсан бойы патрульдеуге белсенді қатысты, қоғамдық тәртіпті сақтауға үлес қосты."
MARKER = "demo.scale"  # the audit action of the last step: its presence means "already loaded"
CHUNK = 20_000  # rows per COPY or executemany batch


@dataclasses.dataclass
class StepReport:
    """What one step wrote: rows per table and the seconds it took."""

    name: str
    rows: dict[str, int]
    seconds: float

    def line(self) -> str:
        """Return the report as one line for the console."""
        rows = ", ".join(f"{table} {n:,}" for table, n in self.rows.items())
        return f"{self.name:<12} {self.seconds:7.1f} s  {rows}".rstrip()


@dataclasses.dataclass
class _Person:
    """A scale member while the data is generated (only what later steps need)."""

    id: int
    home_id: int
    issuer_id: int
    patrol_id: int
    iin: str
    issued_on: dt.date
    expires_on: dt.date
    active_until: dt.date  # the last day the member may patrol
    active: bool


@dataclasses.dataclass(frozen=True)
class _Seat:
    """A seat on a commission: the commission_member row, its user, role and term."""

    id: int
    user_id: int
    role: str
    term_from: dt.date


@dataclasses.dataclass
class _Staff:
    """The officials of one district or city: two coordinators and the commission's seats."""

    issuer: places.AdminUnit
    coordinator_id: int  # plans, supervises, logs and nominates
    confirmer_id: int  # confirms what the first one logged (four eyes)
    commission_id: int
    seats: list[_Seat]


class _Bulk:
    """Writes rows in bulk: COPY on PostgreSQL, executemany in chunks on SQLite.

    Ids are assigned here (the next free ones) so rows can point at each other before they are
    written; on PostgreSQL the tables are locked against other writers for the transaction and
    their sequences are moved past the new rows after each step.
    """

    def __init__(self, session):
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.next: dict[str, int] = {}
        self._queue: queue.Queue | None = None
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None

    def write_soon(self, model, columns: tuple[str, ...], rows: list[tuple]) -> int:
        """Write ``rows`` in order with the others queued; return how many there are.

        On PostgreSQL a thread runs the COPYs while the caller generates the next rows, so the
        server's work (indexes, foreign keys) overlaps Python's instead of following it. The
        caller must not use the session until ``drain()``. SQLite writes at once.
        """
        if not self.pg:
            return self.write(model, columns, rows)
        if self._writer is None:
            self._queue = queue.Queue(maxsize=4)
            # The thread gets the connection itself: the session is the caller's to resolve.
            self._writer = threading.Thread(
                target=self._drain_queue, args=(self._raw(),), daemon=True
            )
            self._writer.start()
        if self._failure is not None:
            self.drain()
        self._queue.put((model, columns, rows))
        return len(rows)

    def _drain_queue(self, raw) -> None:
        while (job := self._queue.get()) is not None:
            if self._failure is None:  # after a failure, keep taking jobs so the caller ends
                try:
                    self._copy(raw, *job)
                except BaseException as exc:
                    self._failure = exc

    def drain(self) -> None:
        """Wait for the queued rows; raise what the writing thread raised, if anything."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = self._queue = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def lock(self, *models) -> None:
        """Take the tables for this load and note the first free id of each."""
        session = self.session
        session.flush()
        for model in models:
            table = model.__tablename__
            if self.pg:
                # Other sessions may still read; only writers wait until the load commits.
                session.execute(text(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE'))
            top = session.scalar(select(func.max(model.__table__.c.id)))
            self.next[table] = (top or 0) + 1

    def ids(self, model, count: int) -> range:
        """Reserve ``count`` ids of the model's table."""
        table = model.__tablename__
        first = self.next[table]
        self.next[table] = first + count
        return range(first, first + count)

    def _raw(self):
        """The psycopg connection of the session's transaction."""
        return self.session.connection().connection.dbapi_connection

    def _copy(self, raw, model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """COPY ``rows`` into the model's table on the psycopg connection ``raw``."""
        table = model.__table__
        names = ", ".join(f'"{c}"' for c in columns)
        done = 0
        # Binary: no text to format here nor to parse on the server.
        statement = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([_pg_type(table.c[c].type) for c in columns])
            for row in rows:
                copy.write_row(row)
                done += 1
        return done

    def write(self, model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        """Write ``rows`` (values in the order of ``columns``) now; return how many."""
        if self.pg:
            return self._copy(self._raw(), model, columns, rows)
        table = model.__table__
        done = 0
        conn = self.session.connection()
        batch = []
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) == CHUNK:
                conn.execute(insert(table), batch)
                done += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            done += len(batch)
        return done

    def finish(self) -> None:
        """Move each table's id sequence past the rows written (PostgreSQL)."""
        if not self.pg:
            return
        for name in self.next:  # names of the portal's own tables, never input
            rows = sa_table(name, sa_column("id"))
            self.session.execute(
                select(
                    func.setval(func.pg_get_serial_sequence(name, "id"), func.max(rows.c.id))
                ).select_from(rows)
            )


def _pg_type(column_type) -> str:
    """Return the PostgreSQL type name a column's values are sent as in a binary COPY."""
    if isinstance(column_type, UTCDateTime):
        return "timestamptz"
    for kind, name in (
        (BigInteger, "int8"),
        (Integer, "int4"),
        (Boolean, "bool"),
        (Date, "date"),
        (String, "text"),
        (Text, "text"),
    ):
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no binary COPY type for {column_type!r}")


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.zone()).astimezone(dt.UTC)


def _token(rng: random.Random) -> str:
    # Reproducible like the rest of the demo; real certificates get secrets.token_urlsafe.
    return base64.urlsafe_b64encode(rng.randbytes(18)).decode()


def _iban(member_id: int) -> str:
    account = f"KZ00125KZT{member_id:010d}"
    return f"KZ{stdiban.calc_check_digits(account)}{account[4:]}"


def _split(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Share ``total`` out by ``weights`` (largest remainders first); the shares add up."""
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    shares = {k: int(v) for k, v in exact.items()}
    order = sorted(weights, key=lambda k: (-(exact[k] - shares[k]), k))
    for k in order[: total - sum(shares.values())]:
        shares[k] += 1
    return shares


class _Scale:
    """The generator: each step bulk-writes one part of the region and reports what it wrote."""

    def __init__(self, session, members: int, password: str, now: dt.datetime | None, days: int):
        self.session = session
        self.size = members
        self.password = password
        self.now = now or utcnow()
        self.today = clock.local_date(self.now)
        self.days = days
        self.first_day = self.today - dt.timedelta(days=days)
        self.rng = random.Random(f"{SEED}-{members}")  # noqa: S311  (demo data, not a secret)
        self.bulk = _Bulk(session)
        self.staff: dict[int, _Staff] = {}
        self.people: list[_Person] = []
        self.patrols: dict[int, list[_Person]] = defaultdict(list)
        self.patrol_issuer: dict[int, int] = {}
        self.patrol_home: dict[int, places.AdminUnit] = {}
        # (member id, (year, quarter)) -> [points, ids of confirmed contributions]
        self.merit: dict[tuple[int, tuple[int, int]], list] = {}

    # ---- prerequisites and officials ---------------------------------------------------------

    def prepare(self) -> dict[str, int]:
        """Load the demo's accounts and budget if missing; create the district officials."""
        session = self.session
        demo.load_accounts(session)  # and the reference data: places, calendar
        demo.load_budget(session)
        self.units = {u.kato: u for u in session.scalars(select(places.AdminUnit))}
        self.unit_by_id = {u.id: u for u in self.units.values()}
        self.region = self.units[REGION]
        self.homes = {k: self.units[k] for k in HOMES if k in self.units}
        self.issuer_of = {k: register.issuing_unit(session, unit) for k, unit in self.homes.items()}
        self.admin = accounts.find_by_login(session, "admin@demo.kz")
        self.finance = accounts.find_by_login(session, "finance@demo.kz")
        self.finance2 = accounts.find_by_login(session, "finance2@demo.kz")
        self._ensure_policy()
        password_hash = accounts.hash_password(self.password)  # one hash for every new account
        created = 0
        for issuer in sorted({u.id: u for u in self.issuer_of.values()}.values(), key=_kato):
            staff, made = self._staff_of(issuer, password_hash)
            self.staff[issuer.id] = staff
            created += made
        session.flush()
        return {"user_account": created, "commission": len(self.staff)}

    def _ensure_policy(self) -> None:
        """Put a reward policy in force from the first day shown (the demo's is from 1 January)."""
        try:
            policy.policy_in_force(self.session, self.region.id, self.first_day)
        except DomainError:
            policy.set_policy(
                self.session,
                unit_id=self.region.id,
                effective_from=dt.date(self.first_day.year, 1, 1),
                resolution="Қарағанды облысы әкімдігінің қаулысы: азаматтарды көтермелеу (демо)",
                forms=["thanks", "certificate", "valuable_gift", "cash"],
                cash_cap_mci=15,
                annual_cap_mci=30,
                points={},
                quorum=(2, 3),
                chair_breaks_tie=True,
                actor_id=self.admin.id,
            )

    def _account(self, email: str, role: str, unit_id: int, password_hash: str) -> tuple[int, int]:
        """Return (user id, 1 if created): a demo login with one role in ``unit_id``."""
        found = accounts.find_by_login(self.session, email)
        made = 0
        if found is None:
            found = User(
                email=email,
                phone=None,
                full_name=self._name(self.rng.choice(("male", "female"))),
                preferred_language=self.rng.choice(("kk", "kk", "ru")),
                unit_id=unit_id,
                password_hash=password_hash,
            )
            self.session.add(found)
            self.session.flush()
            made = 1
        if role not in found.roles():
            self.session.add(RoleGrant(user_id=found.id, role=role, unit_id=unit_id))
        return found.id, made

    def _staff_of(self, issuer: places.AdminUnit, password_hash: str) -> tuple[_Staff, int]:
        session = self.session
        made = 0
        if issuer.kato == "354000000":  # the demo district has its two coordinators already
            first = accounts.find_by_login(session, "coordinator@demo.kz").id
            second, n = self._account(
                "coordinator2@demo.kz", "coordinator", issuer.id, password_hash
            )
            made += n
        else:
            first, n = self._account(
                f"coordinator.{issuer.kato}@demo.kz", "coordinator", issuer.id, password_hash
            )
            second, m = self._account(
                f"coordinator2.{issuer.kato}@demo.kz", "coordinator", issuer.id, password_hash
            )
            made += n + m
        commission = session.scalar(select(Commission).where(Commission.unit_id == issuer.id))
        if commission is None:
            commission = policy.create_commission(
                session,
                unit_id=issuer.id,
                name=f"{issuer.name_kk} әкімдігі жанындағы азаматтарды көтермелеу комиссиясы",
                actor_id=self.admin.id,
            )
            for role in ("chair", "secretary", "member"):
                if issuer.kato == "354000000":
                    user_id = accounts.find_by_login(session, f"{role}@demo.kz").id
                else:
                    user_id, n = self._account(
                        f"{role}.{issuer.kato}@demo.kz", role, issuer.id, password_hash
                    )
                    made += n
                policy.add_member(
                    session,
                    commission_id=commission.id,
                    user_id=user_id,
                    role=role,
                    position="",
                    term_from=dt.date(self.first_day.year, 1, 1),
                    term_to=None,
                    actor_id=self.admin.id,
                )
        seats = [
            _Seat(m.id, m.user_id, m.role, m.term_from)
            for m in session.scalars(
                select(CommissionMember)
                .where(CommissionMember.commission_id == commission.id)
                .order_by(CommissionMember.id)
            )
            if m.term_to is None or m.term_to >= self.today
        ]
        return _Staff(issuer, first, second, commission.id, seats), made

    def _name(self, sex: str) -> str:
        rng = self.rng
        surname = rng.choice(demo.SURNAMES)
        father = rng.choice(demo.FIRST_M[:13])
        if sex == "female":
            first = rng.choice(demo.FIRST_F)
            return f"{surname}{'' if surname == 'Ким' else 'а'} {first} {father}қызы"
        return f"{surname} {rng.choice(demo.FIRST_M)} {father}ұлы"

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
        }

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

    # ---- shifts, sign-ups and contributions --------------------------------------------------

    def activity(self) -> dict[str, int]:
        """Write a year of shifts of every unit, their sign-ups and the contributions they made."""
        bulk = self.bulk
        bulk.lock(Shift, Signup, Contribution)
        self.kinds = {k.code: k for k in self.session.scalars(select(ContributionKind))}
        self._in_force: dict = {}
        self._per_kind: dict = {}
        self.policies = defaultdict(list)
        for p in self.session.scalars(select(RewardPolicy)):
            self.policies[p.unit_id].append(p)
        for rows in self.policies.values():
            rows.sort(key=lambda p: (p.effective_from, p.id), reverse=True)
        counts: Counter[str] = Counter()
        shifts, signups, contribs = [], [], []
        try:
            for patrol_id in sorted(self.patrols):
                self._patrol_year(patrol_id, shifts, signups, contribs)
                if len(contribs) >= CHUNK * 5:
                    self._flush_activity(shifts, signups, contribs, counts)
            for person in self.people:
                self._other_contributions(person, contribs)
                if len(contribs) >= CHUNK * 5:
                    self._flush_activity(shifts, signups, contribs, counts)
            self._flush_activity(shifts, signups, contribs, counts)
        finally:
            bulk.drain()  # never leave the thread writing on the connection of a failed load
        return dict(counts)

    def _flush_activity(self, shifts, signups, contribs, counts) -> None:
        bulk = self.bulk
        # Parents first: every foreign key is checked as the rows arrive.
        counts["shift"] += bulk.write_soon(Shift, SHIFT_COLUMNS, shifts[:])
        counts["signup"] += bulk.write_soon(Signup, SIGNUP_COLUMNS, signups[:])
        counts["contribution"] += bulk.write_soon(Contribution, CONTRIBUTION_COLUMNS, contribs[:])
        shifts.clear()
        signups.clear()
        contribs.clear()

    def _per(self, kind: str, home_id: int, day: dt.date) -> int | None:
        """Points per hour or event under the policy in force there (as incentives.policy)."""
        key = (home_id, day)
        if key not in self._in_force:
            found = None
            path = self.unit_by_id[home_id].path
            for unit_id in reversed([int(x) for x in path.strip("/").split("/")]):
                rows = [p for p in self.policies.get(unit_id, ()) if p.effective_from <= day]
                if rows:
                    found = rows[0]
                    break
            self._in_force[key] = found
        found = self._in_force[key]
        if found is None:
            return None
        per_key = (found.id, kind)
        if per_key not in self._per_kind:
            self._per_kind[per_key] = policy.points_of(found, self.kinds[kind])
        return self._per_kind[per_key]

    def _points(self, kind: str, minutes: int | None, home_id: int, day: dt.date) -> int:
        return contributions.points_for(self.kinds[kind], minutes, self._per(kind, home_id, day))

    def _patrol_year(self, patrol_id: int, shifts: list, signups: list, contribs: list) -> None:
        rng, now, bulk = self.rng, self.now, self.bulk
        staff = self.staff[self.patrol_issuer[patrol_id]]
        home = self.patrol_home[patrol_id]
        crew = self.patrols[patrol_id]
        weekdays = set(rng.sample(range(7), SHIFTS_PER_WEEK))
        places_ = rng.sample(PLACES, 3)
        capacity = rng.choice((5, 6, 6, 8))
        series = f"scale-{patrol_id}"
        day = self.first_day
        last = self.today + dt.timedelta(days=DAYS_AHEAD)
        while day <= last:
            if day.weekday() in weekdays:
                start_hour, end_hour = SHIFT_HOURS[day.weekday()]
                starts, ends = _local(day, start_hour), _local(day, end_hour)
                (shift_id,) = bulk.ids(Shift, 1)
                place = f"{home.name_kk}, {rng.choice(places_)}"
                cancelled = rng.random() < 0.01
                taken = 0
                if not cancelled:
                    taken = self._crew_of(
                        shift_id, day, starts, ends, place, capacity, crew, staff, signups, contribs
                    )
                shifts.append(
                    (  # in the order of SHIFT_COLUMNS
                        shift_id,
                        home.id,
                        patrol_id,
                        place,
                        starts,
                        ends,
                        capacity,
                        taken,
                        staff.coordinator_id,
                        "cancelled" if cancelled else "planned",
                        "Ауа райы ескертуі: боран" if cancelled else None,
                        series,
                        staff.coordinator_id,
                        starts - dt.timedelta(days=21),
                        ends + dt.timedelta(minutes=50) if ends <= now and not cancelled else None,
                    )
                )
            day += dt.timedelta(days=1)

    def _crew_of(
        self, shift_id, day, starts, ends, place, capacity, crew, staff, signups, contribs
    ):
        """Sign members up for one shift and record how each turned out; return places taken."""
        rng, now, bulk = self.rng, self.now, self.bulk
        over = ends <= now
        eligible = [p for p in crew if p.issued_on <= day <= p.active_until and (over or p.active)]
        if not eligible:
            return 0
        wanted = rng.randint(4, capacity) if over else rng.randint(1, capacity - 1)
        chosen = rng.sample(eligible, min(len(eligible), wanted))
        taken = 0
        for person in chosen:
            (signup_id,) = bulk.ids(Signup, 1)
            signed = starts - dt.timedelta(days=rng.randint(2, 10), minutes=rng.randint(0, 600))
            if signed >= now:  # a shift of the coming days: signed up over the last three
                signed = now - dt.timedelta(minutes=rng.randint(30, 72 * 60))
            fate = rng.random()
            status, cancelled_at, came, left, by = "signed_up", None, None, None, None
            if fate < 0.05:
                status = "cancelled"
                cancelled_at = min(starts - dt.timedelta(hours=rng.randint(2, 40)), now)
                cancelled_at = max(cancelled_at, signed + dt.timedelta(minutes=5))
            elif over and fate < 0.13:
                status = "no_show"
            elif over:
                status, by = "completed", staff.coordinator_id
                came = starts + dt.timedelta(minutes=rng.randint(0, 20))
                left = ends - dt.timedelta(minutes=rng.randint(0, 30))
            if status != "cancelled":
                taken += 1
            signups.append(
                (  # in the order of SIGNUP_COLUMNS
                    signup_id,
                    shift_id,
                    person.id,
                    status,
                    starts,
                    ends,
                    signed,
                    cancelled_at,
                    came,
                    left,
                    by,
                )
            )
            if status == "completed":
                contribs.append(
                    self._patrol_hours(person, signup_id, shift_id, place, came, left, staff)
                )
        return taken

    def _decision(self, logged_at: dt.datetime, fresh_days: int, reject_share: float):
        """Return (status, decided_at, reason): old records decided, recent ones often waiting."""
        rng = self.rng
        decided = logged_at + dt.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
        recent = self.now - logged_at < dt.timedelta(days=fresh_days)
        if decided > self.now or (recent and rng.random() < 0.7):
            return "logged", None, None
        if rng.random() < reject_share:
            return "rejected", decided, rng.choice(REJECTIONS)
        return "confirmed", decided, None

    def _patrol_hours(self, person, signup_id, shift_id, place, came, left, staff) -> tuple:
        (cid,) = self.bulk.ids(Contribution, 1)
        minutes = int((left - came).total_seconds() // 60)
        occurred = clock.local_date(came)
        # The supervisor records the attendance after the shift: the hours are logged by them.
        logged_at = min(left + dt.timedelta(minutes=40), self.now)
        status, decided_at, reason = self._decision(logged_at, 10, 0.04)
        points = self._points("patrol_hours", minutes, person.home_id, occurred)
        row = (  # in the order of CONTRIBUTION_COLUMNS (a tuple: a million of these)
            cid,
            person.id,
            person.home_id,
            "patrol_hours",
            occurred,
            minutes,
            place,
            f"shift-{shift_id}",
            status,
            points if status == "confirmed" else None,
            signup_id,
            None,
            staff.coordinator_id,
            logged_at,
            staff.confirmer_id if decided_at else None,
            decided_at,
            reason,
        )
        if status == "confirmed":
            self._merit(person.id, occurred, points, cid)
        return row

    def _merit(self, member_id: int, day: dt.date, points: int, cid: int) -> None:
        entry = self.merit.setdefault((member_id, quarter_of(day)), [0, []])
        entry[0] += points
        if len(entry[1]) < 6:
            entry[1].append(cid)

    def _other_contributions(self, person: _Person, contribs: list) -> None:
        """Log the reports, assistance and events of a member (about four a year)."""
        rng = self.rng
        start = max(person.issued_on, self.first_day)
        end = min(person.active_until, self.today)
        if end < start:
            return
        staff = self.staff[person.issuer_id]
        for _ in range(rng.choice((1, 2, 3, 4, 5, 6, 7))):
            kind = rng.choice(tuple(OTHER_KINDS))
            description, prefix = OTHER_KINDS[kind]
            occurred = start + dt.timedelta(days=rng.randint(0, (end - start).days))
            reference = (
                f"{prefix}-{occurred.year}-{rng.randint(1, 999_999):06d}" if prefix else None
            )
            logged_at = min(_local(occurred, 12) + dt.timedelta(days=rng.randint(0, 3)), self.now)
            status, decided_at, reason = self._decision(logged_at, 7, 0.07)
            points = self._points(kind, None, person.home_id, occurred)
            (cid,) = self.bulk.ids(Contribution, 1)
            record = {
                "id": cid,
                "member_id": person.id,
                "unit_id": person.home_id,
                "kind": kind,
                "occurred_on": occurred,
                "minutes": None,
                "description": description,
                "reference": reference,
                "status": status,
                "points": points if status == "confirmed" else None,
                "signup_id": None,
                "corrects_id": None,
                "logged_by_id": staff.coordinator_id,
                "logged_at": logged_at,
                "decided_by_id": staff.confirmer_id if decided_at else None,
                "decided_at": decided_at,
                "rejection_reason": reason,
            }
            backing = cid
            # Now and then a confirmed record is corrected: the confirmed correction supersedes.
            if status == "confirmed" and rng.random() < 0.005:
                fix = {
                    **record,
                    "description": f"Түзету: {description}",
                    "corrects_id": cid,
                    "logged_at": decided_at + dt.timedelta(days=1),
                    "decided_at": decided_at + dt.timedelta(days=2),
                }
                if fix["decided_at"] <= self.now:
                    (fix["id"],) = self.bulk.ids(Contribution, 1)
                    record["status"] = "superseded"
                    contribs.append(_row(CONTRIBUTION_COLUMNS, **record))
                    record, backing = fix, fix["id"]
            contribs.append(_row(CONTRIBUTION_COLUMNS, **record))
            if status == "confirmed":
                self._merit(person.id, occurred, points, backing)

    # ---- budget lines ------------------------------------------------------------------------

    def budget(self) -> dict[str, int]:
        """Open the lines every district and city needs in the years its sessions are held."""
        session = self.session
        counts: Counter[str] = Counter()
        years = sorted({held.year for _q, held in self._quarters()})
        for year in years:
            new, more = [], []
            for staff in self.staff.values():
                members = sum(1 for p in self.people if p.issuer_id == staff.issuer.id)
                # Roughly what a year of rewards costs there, with room to spare.
                need = max(5_000_000, -(-members * 2_000 // 100_000) * 100_000) * 100
                for purpose in ("citizen_rewards", "sober_settlement_incentives"):
                    line = self._line(staff.issuer.id, year, purpose)
                    if line is None:
                        program = self._program(staff.issuer, year, counts)
                        line = appropriations.create_line(
                            session,
                            program_id=program.id,
                            purpose=purpose,
                            actor_id=self.finance.id,
                        )
                        counts["budget_line"] += 1
                        new.append((line.id, need if purpose == "citizen_rewards" else need // 4))
                    elif purpose == "citizen_rewards":
                        free = line.approved_tiyn - line.committed_tiyn - line.disbursed_tiyn
                        if free < need:
                            more.append((line.id, need - free))
            for kind, changes, number in (
                ("adoption", new, f"35/{year % 100}1"),
                ("clarification", more, f"38/{year % 100}7"),
            ):
                if not changes:
                    continue
                day = dt.date(year - 1, 12, 20) if kind == "adoption" else dt.date(year, 1, 10)
                decision = appropriations.enter_decision(
                    session,
                    unit_id=self.region.id,
                    number=number,
                    decided_on=day,
                    session_number="XXXV" if kind == "adoption" else "XXXVIII",
                    kind=kind,
                    reference=f"Қарағанды облыстық мәслихатының № {number} шешімі (демо)",
                    amendments=changes,
                    actor_id=self.finance.id,
                )
                appropriations.verify_decision(
                    session, decision_id=decision.id, actor_id=self.finance2.id
                )
                counts["maslikhat_decision"] += 1
                counts["amendment"] += len(changes)
        session.flush()
        return dict(counts)

    def _line(self, unit_id: int, year: int, purpose: str) -> BudgetLine | None:
        return self.session.scalar(
            select(BudgetLine)
            .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
            .where(
                BudgetProgram.unit_id == unit_id,
                BudgetProgram.fiscal_year == year,
                BudgetLine.purpose == purpose,
            )
            .order_by(BudgetLine.id)
        )

    def _program(self, issuer, year: int, counts: Counter) -> BudgetProgram:
        found = self.session.scalar(
            select(BudgetProgram).where(
                BudgetProgram.unit_id == issuer.id,
                BudgetProgram.fiscal_year == year,
                BudgetProgram.program == demo.BUDGET_CODE["program"],
            )
        )
        if found is not None:
            return found
        counts["budget_program"] += 1
        return appropriations.create_program(
            self.session,
            actor_id=self.finance.id,
            unit_id=issuer.id,
            fiscal_year=year,
            name_kk="Қоғамдық тәртіпті сақтауға қатысатын азаматтарды көтермелеу",
            name_ru="Поощрение граждан, участвующих в охране общественного порядка",
            administrator_body=f"{issuer.name_kk} әкімінің аппараты",
            **demo.BUDGET_CODE,
        )

    # ---- the commission: nominations, sessions, votes, payouts, the ledger -------------------

    def _quarters(self) -> list[tuple[tuple[int, int], dt.date]]:
        """Quarters of the year shown whose session has been held, with the session's day."""
        found = []
        year, quarter = quarter_of(self.first_day)
        while True:
            end = dt.date(year + (quarter == 4), quarter % 4 * 3 + 1, 1)
            held = end + dt.timedelta(days=14)
            while held.weekday() > 3:  # a Monday to Thursday
                held += dt.timedelta(days=1)
            if held + dt.timedelta(days=4) > self.today:
                break
            found.append(((year, quarter), held))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
        return found

    def commission(self) -> dict[str, int]:
        """Hold each quarter's session of every commission: decide, minute, act on and pay."""
        session, bulk = self.session, self.bulk
        bulk.lock(*(model for model, _columns in COMMISSION_TABLES))
        rows: dict[str, list] = defaultdict(list)
        moved: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # line -> [commit, disburse]
        awarded: Counter[tuple[str, int]] = Counter()  # (IIN, year) -> money approved
        by_issuer: dict[int, list[_Person]] = defaultdict(list)
        for person in self.people:
            if person.active:
                by_issuer[person.issuer_id].append(person)
        sittings = []
        for period, held in self._quarters():
            rule = policy.policy_in_force(session, self.region.id, held)
            try:
                mci = policy.mci_tiyn(session, held.year)
            except DomainError:
                mci = None  # no MCI for that year: only non-money rewards
            for issuer_id in sorted(self.staff):
                staff = self.staff[issuer_id]
                seats = [s for s in staff.seats if s.term_from <= held]
                # About one member in a hundred is rewarded each quarter: the best by points.
                ranked = sorted(
                    (
                        (self.merit[(p.id, period)][0], p)
                        for p in by_issuer[issuer_id]
                        if (p.id, period) in self.merit and p.issued_on <= held
                    ),
                    key=lambda pair: (-pair[0], pair[1].id),
                )[: max(1, round(len(by_issuer[issuer_id]) / 100))]
                if not ranked or len(seats) < 2:
                    continue
                sitting = self._sitting(staff, seats, held, len(sittings) + 1, rows)
                sittings.append(sitting)
                present = self._attendance(seats, sitting, rows)
                line = self._line(issuer_id, held.year, "citizen_rewards")
                free = 0
                if line is not None:
                    used = line.committed_tiyn + line.disbursed_tiyn + moved[line.id][0]
                    free = line.approved_tiyn - used
                for position, (_points, person) in enumerate(ranked, start=1):
                    form, amount = self._reward(person, held.year, mci, rule, awarded)
                    outcome, reason = "approved", None
                    if self.rng.random() < 0.05:
                        outcome = "rejected"
                    elif amount and amount > free:  # as the close defers what the line lacks
                        outcome = "deferred"
                        reason = _reason(
                            N_(
                                "%(amount)s exceeds the available balance of the line, "
                                "%(available)s."
                            ),
                            amount=format_tiyn(amount),
                            available=format_tiyn(max(free, 0)),
                        )
                    item = self._item(
                        staff,
                        sitting,
                        person,
                        period,
                        position,
                        (form, amount),
                        outcome,
                        reason,
                        rows,
                    )
                    self._votes(item, sitting, present, position, outcome, rows)
                    if outcome == "approved" and amount:
                        free -= amount
                        awarded[(person.iin, held.year)] += amount
                        self._award(sitting, item, line.id, amount, rows, moved)
                    rows["agenda_item"].append(_row(ITEM_COLUMNS, **item))
                    if outcome == "approved":
                        self._pay(sitting, item["id"], person, form, amount, line, rows, moved)
        self._waiting_nominations(rows)
        # Payouts go in after the minutes are final and the act recorded (minutes → act → pay).
        for model, columns in COMMISSION_TABLES:
            if model is not Payout:
                bulk.write(model, columns, rows[model.__tablename__])
        for line_id, (committed, disbursed) in sorted(moved.items()):
            # Guarded like the ledger's own movements: the counters never pass the approved sum.
            done = session.execute(
                update(BudgetLine)
                .where(
                    BudgetLine.id == line_id,
                    BudgetLine.committed_tiyn + committed - disbursed >= 0,
                    BudgetLine.committed_tiyn + BudgetLine.disbursed_tiyn + committed
                    <= BudgetLine.approved_tiyn,
                )
                .values(
                    committed_tiyn=BudgetLine.committed_tiyn + committed - disbursed,
                    disbursed_tiyn=BudgetLine.disbursed_tiyn + disbursed,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != 1:
                raise RuntimeError(f"budget line {line_id} cannot take the scale rewards")
        self._final_minutes(sittings)
        bulk.write(Payout, PAYOUT_COLUMNS, rows["payout"])
        return {
            model.__tablename__: len(rows[model.__tablename__]) for model, _ in COMMISSION_TABLES
        }

    def _sitting(self, staff: _Staff, seats: list[_Seat], held: dt.date, n: int, rows) -> dict:
        (sid,) = self.bulk.ids(CommissionSession, 1)
        secretary = next((s.user_id for s in seats if s.role == "secretary"), seats[0].user_id)
        opened = _local(held, 10)
        sitting = {
            "id": sid,
            "held_on": held,
            "opened": opened,
            "closed": opened + dt.timedelta(hours=2),
            "act": held + dt.timedelta(days=3),
            "act_number": f"№ {100 + n} (демо)",
            "secretary": secretary,
        }
        rows["commission_session"].append(
            _row(
                SESSION_COLUMNS,
                id=sid,
                commission_id=staff.commission_id,
                held_on=held,
                place=f"{staff.issuer.name_kk} әкімдігі, мәжіліс залы",
                on_paper=False,
                status="closed",  # the minutes are made final after the rows are in
                opened_at=opened,
                closed_at=sitting["closed"],
                quorum_met=True,
                # The act is recorded after the minutes are final (a CHECK requires it).
                act_number=None,
                act_date=None,
                planned_by_id=secretary,
            )
        )
        return sitting

    def _attendance(self, seats: list[_Seat], sitting: dict, rows) -> list[_Seat]:
        """Everyone sits on a small commission; on a larger one an ordinary member may miss one."""
        absent = None
        ordinary = [s for s in seats if s.role == "member"]
        if len(seats) > 3 and ordinary and self.rng.random() < 0.3:
            absent = ordinary[-1].id
        for seat in seats:
            (aid,) = self.bulk.ids(Attendance, 1)
            rows["attendance"].append((aid, sitting["id"], seat.id, seat.id != absent))
        return [s for s in seats if s.id != absent]

    def _reward(self, person, year, mci, rule, awarded) -> tuple[str, int]:
        """Return the form and amount a coordinator proposes, within the caps of the policy."""
        rng = self.rng
        if mci is None:
            return rng.choice(("certificate", "thanks")), 0
        fate = rng.random()
        if fate < 0.62:
            form, amount = "cash", rng.randint(5, min(12, rule.cash_cap_mci)) * mci
        elif fate < 0.72:
            form, amount = "valuable_gift", rng.randint(3, 5) * mci
        elif fate < 0.92:
            form, amount = "certificate", 0
        else:
            form, amount = "thanks", 0
        # Nobody proposes a reward over the person's annual cap: a certificate instead.
        if amount and awarded[(person.iin, year)] + amount > rule.annual_cap_mci * mci:
            form, amount = "certificate", 0
        return form, amount

    def _nomination(self, staff, person, period, reward, status, reason, at, rows) -> int:
        """Add a nomination of ``person`` backed by their quarter's contributions; return its id."""
        (nid,) = self.bulk.ids(Nomination, 1)
        form, amount = reward
        rows["nomination"].append(
            _row(
                NOMINATION_COLUMNS,
                id=nid,
                commission_id=staff.commission_id,
                member_id=person.id,
                initiative_id=None,
                recipient_name=None,
                recipient_user_id=None,
                nominator_id=staff.coordinator_id,
                justification=JUSTIFICATION,
                form=form,
                amount_tiyn=amount,
                entered_in="mci",
                year=at.year,
                purpose="citizen_rewards",
                status=status,
                outcome_reason=reason,
                created_at=at,
                submitted_at=at,
            )
        )
        # The member's confirmed contributions of the quarter back it (six at most).
        for cid in self.merit[(person.id, period)][1]:
            (ncid,) = self.bulk.ids(NominationContribution, 1)
            rows["nomination_contribution"].append((ncid, nid, cid, status == "approved"))
        return nid

    def _item(self, staff, sitting, person, period, position, reward, outcome, reason, rows):
        """Return an agenda item as a dict of its columns; its nomination goes into ``rows``."""
        (iid,) = self.bulk.ids(AgendaItem, 1)
        quarter_end = dt.date(period[0] + (period[1] == 4), period[1] % 4 * 3 + 1, 1)
        proposed = _local(quarter_end + dt.timedelta(days=self.rng.randint(1, 8)), 16)
        nid = self._nomination(staff, person, period, reward, outcome, reason, proposed, rows)
        return {
            "id": iid,
            "session_id": sitting["id"],
            "nomination_id": nid,
            "position": position,
            "outcome": outcome,
            "outcome_reason": reason,
            "recused": 0,
            "ledger_entry_id": None,
            "line_id": None,
        }

    def _votes(self, item: dict, sitting: dict, present, position: int, outcome: str, rows):
        """Record each present member's vote so that the tally gives ``outcome``."""
        votes: Counter[str] = Counter()
        for n, seat in enumerate(present):
            if outcome == "rejected":
                choice = "against"
            elif n == len(present) - 1 and len(present) >= 3 and self.rng.random() < 0.1:
                choice = "abstain"  # one abstention still leaves a majority for
            else:
                choice = "for"
            votes[choice] += 1
            (vid,) = self.bulk.ids(Vote, 1)
            at = sitting["opened"] + dt.timedelta(minutes=5 * position + n)
            rows["vote"].append((vid, item["id"], seat.id, choice, None, False, seat.user_id, at))
        item.update(
            votes_for=votes["for"], votes_against=votes["against"], abstained=votes["abstain"]
        )

    def _entry(self, line_id, kind, amount, reference, actor_id, key, at, rows) -> int:
        """Add a ledger entry as budget.ledger writes one; return its id."""
        (eid,) = self.bulk.ids(LedgerEntry, 1)
        ref_type, ref_id = reference
        rows["ledger_entry"].append(
            _row(
                LEDGER_COLUMNS,
                id=eid,
                line_id=line_id,
                kind=kind,
                amount_tiyn=amount,
                reference_type=ref_type,
                reference_id=str(ref_id),
                actor_id=actor_id,
                at=at,
                idempotency_key=key,
                request_hash=ledger.request_hash(kind, line_id, amount, ref_type, str(ref_id)),
                note="",
            )
        )
        return eid

    def _award(self, sitting, item, line_id, amount, rows, moved) -> None:
        """Commit the approved amount on the line at the close, as incentives.sessions does."""
        reference = ("agenda_item", item["id"])
        key = f"award-{item['id']}"
        eid = self._entry(
            line_id, "commit", amount, reference, sitting["secretary"], key, sitting["closed"], rows
        )
        item.update(ledger_entry_id=eid, line_id=line_id)
        moved[line_id][0] += amount

    def _pay(self, sitting, item_id, person, form, amount, line, rows, moved) -> None:
        """Pay or hand over an approved reward; the latest session's are partly still waiting."""
        rng, bulk = self.rng, self.bulk
        if sitting["held_on"] >= self.today - dt.timedelta(days=45) and rng.random() < 0.4:
            return  # approved and committed, not paid yet
        day = min(sitting["act"] + dt.timedelta(days=rng.randint(2, 12)), self.today)
        at = min(_local(day, 15), self.now)
        payout = {
            "item_id": item_id,
            "gross_tiyn": amount,
            "withheld_tiyn": 0,  # the scale region's finance department entered no tax rate
            "net_tiyn": amount,
            "iban": None,
            "order_number": None,
            "order_date": day,
            "failure_reason": None,
            "ledger_entry_id": None,
            "recorded_by_id": self.finance.id,
            "recorded_at": at,
        }
        if form == "cash" and rng.random() < 0.03:  # the bank returned it once, then it went
            (pid,) = bulk.ids(Payout, 1)
            failed = {**payout, "iban": _iban(person.id + 1), "order_date": None}
            failed.update(status="failed", failure_reason="Шот жабылған")
            failed["recorded_at"] = at - dt.timedelta(days=1)
            rows["payout"].append(_row(PAYOUT_COLUMNS, id=pid, **failed))
        (pid,) = bulk.ids(Payout, 1)
        if form == "cash":
            key = f"payout:scale-{item_id}"
            payout.update(status="paid", iban=_iban(person.id), order_number=f"ТП-{day.year}-{pid}")
        else:
            key = f"handover-item-{item_id}"
            payout.update(status="handed_over")
        if amount:  # money leaves the line: a cash reward or a gift's cost
            payout["ledger_entry_id"] = self._entry(
                line.id, "disburse", amount, ("payout", pid), self.finance.id, key, at, rows
            )
            moved[line.id][1] += amount
        rows["payout"].append(_row(PAYOUT_COLUMNS, id=pid, **payout))

    def _waiting_nominations(self, rows) -> None:
        """Submit nominations for the quarter under way: they wait for the next session."""
        period = quarter_of(self.today)
        by_issuer: dict[int, list] = defaultdict(list)
        for person in self.people:
            entry = self.merit.get((person.id, period))
            if person.active and entry:
                by_issuer[person.issuer_id].append((entry[0], person))
        for issuer_id, ranked in sorted(by_issuer.items()):
            ranked.sort(key=lambda pair: (-pair[0], pair[1].id))
            for _points, person in ranked[: max(1, len(ranked) // 400)]:
                at = self.now - dt.timedelta(days=self.rng.randint(1, 10))
                staff = self.staff[issuer_id]
                reward = ("certificate", 0)
                self._nomination(staff, person, period, reward, "submitted", None, at, rows)

    def _final_minutes(self, made: list[dict]) -> None:
        """Render and freeze each session's minutes (kk and ru) as the secretary does."""
        from incentives import sessions
        from portal.commission.session_views import minutes_texts

        session = self.session
        session.flush()
        for sitting in made:
            found = session.get(CommissionSession, sitting["id"])
            text_kk, text_ru = minutes_texts(found)
            sessions.finalize_minutes(
                session,
                session_id=found.id,
                text_kk=text_kk,
                text_ru=text_ru,
                actor_id=sitting["secretary"],
                now=sitting["closed"] + dt.timedelta(days=1),
            )
            sessions.record_act(
                session,
                session_id=found.id,
                number=sitting["act_number"],
                date=sitting["act"],
                actor_id=sitting["secretary"],
            )
            session.flush()

    # ---- the end -----------------------------------------------------------------------------

    def finish(self, reports: list[StepReport]) -> None:
        """Refresh the planner's statistics and mark the load done."""
        session = self.bulk.session
        if self.bulk.pg:
            for table in sorted(self.bulk.next):
                session.execute(text(f'ANALYZE "{table}"'))
        totals: Counter[str] = Counter()
        for report in reports:
            totals.update(report.rows)
        audit.record(
            session,
            action=MARKER,
            object_type="demo",
            actor_id=self.admin.id,
            payload={"members": self.size, "rows": dict(sorted(totals.items()))},
            now=utcnow(),
        )


def _row(columns: tuple[str, ...], **values) -> tuple:
    """Return the values in the order of ``columns`` (a missing one is a KeyError)."""
    return tuple(values[c] for c in columns)


def _kato(unit: places.AdminUnit) -> str:
    return unit.kato


def _reason(msgid: str, **params) -> str:
    """A deferral reason as the portal stores it: the msgid and its parameters, shown translated."""
    return json.dumps({"msg": msgid, "params": params}, ensure_ascii=False, sort_keys=True)


PATROL_COLUMNS = ("id", "name", "unit_id", "leader_member_id", "coordinator_id", "created_at")
APPLICATION_COLUMNS = (
    "id",
    "kind",
    "status",
    "live",
    "unit_id",
    "patrol_unit_id",
    "applicant_id",
    "entered_by_id",
    "channel",
    "iin",
    "full_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "is_citizen",
    "no_criminal_record",
    "not_on_register",
    "submitted_at",
    "police_due_on",
    "check_by_id",
    "check_outcome",
    "checked_at",
    "refusal_reason",
    "petitioned_at",
    "registration_due_on",
    "registered_at",
    "closed_at",
)
DECLARED = {"is_citizen": True, "no_criminal_record": True, "not_on_register": True}
_GIVEN = APPLICATION_COLUMNS.index("submitted_at")
_CHANNEL = APPLICATION_COLUMNS.index("channel")
MEMBER_COLUMNS = (
    "id",
    "application_id",
    "user_id",
    "kind",
    "iin",
    "full_name",
    "unit_id",
    "certificate_no",
    "verify_token",
    "issued_on",
    "expires_on",
    "status",
    "status_reason",
    "created_at",
    "patrol_unit_id",
    "coordinator_id",
)
SHIFT_COLUMNS = (
    "id",
    "unit_id",
    "patrol_unit_id",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "taken",
    "supervisor_id",
    "status",
    "cancel_reason",
    "series",
    "created_by_id",
    "created_at",
    "closed_at",
)
SIGNUP_COLUMNS = (
    "id",
    "shift_id",
    "member_id",
    "status",
    "starts_at",
    "ends_at",
    "signed_up_at",
    "cancelled_at",
    "checked_in_at",
    "checked_out_at",
    "attendance_by_id",
)
CONTRIBUTION_COLUMNS = (
    "id",
    "member_id",
    "unit_id",
    "kind",
    "occurred_on",
    "minutes",
    "description",
    "reference",
    "status",
    "points",
    "signup_id",
    "corrects_id",
    "logged_by_id",
    "logged_at",
    "decided_by_id",
    "decided_at",
    "rejection_reason",
)
NOMINATION_COLUMNS = (
    "id",
    "commission_id",
    "member_id",
    "initiative_id",
    "recipient_name",
    "recipient_user_id",
    "nominator_id",
    "justification",
    "form",
    "amount_tiyn",
    "entered_in",
    "year",
    "purpose",
    "status",
    "outcome_reason",
    "created_at",
    "submitted_at",
)
SESSION_COLUMNS = (
    "id",
    "commission_id",
    "held_on",
    "place",
    "on_paper",
    "status",
    "opened_at",
    "closed_at",
    "quorum_met",
    "act_number",
    "act_date",
    "planned_by_id",
)
LEDGER_COLUMNS = (
    "id",
    "line_id",
    "kind",
    "amount_tiyn",
    "reference_type",
    "reference_id",
    "actor_id",
    "at",
    "idempotency_key",
    "request_hash",
    "note",
)
ITEM_COLUMNS = (
    "id",
    "session_id",
    "nomination_id",
    "position",
    "outcome",
    "outcome_reason",
    "votes_for",
    "votes_against",
    "abstained",
    "recused",
    "ledger_entry_id",
    "line_id",
)
VOTE_COLUMNS = (
    "id",
    "item_id",
    "commission_member_id",
    "choice",
    "reason",
    "automatic",
    "entered_by_id",
    "at",
)
PAYOUT_COLUMNS = (
    "id",
    "item_id",
    "gross_tiyn",
    "withheld_tiyn",
    "net_tiyn",
    "status",
    "iban",
    "order_number",
    "order_date",
    "failure_reason",
    "ledger_entry_id",
    "recorded_by_id",
    "recorded_at",
)
# In the order they are written: every row's parents are in before it.
COMMISSION_TABLES = (
    (Nomination, NOMINATION_COLUMNS),
    (NominationContribution, ("id", "nomination_id", "contribution_id", "approved")),
    (CommissionSession, SESSION_COLUMNS),
    (Attendance, ("id", "session_id", "commission_member_id", "present")),
    (LedgerEntry, LEDGER_COLUMNS),
    (AgendaItem, ITEM_COLUMNS),
    (Vote, VOTE_COLUMNS),
    (Payout, PAYOUT_COLUMNS),
)


def loaded(session) -> bool:
    """Tell whether a scale region has been loaded already."""
    return (
        session.scalar(
            select(audit.AuditEvent.seq).where(audit.AuditEvent.action == MARKER).limit(1)
        )
        is not None
    )


def generate(
    session,
    *,
    members: int,
    password: str,
    days: int = DAYS_BACK,
    now: dt.datetime | None = None,
) -> Iterator[StepReport]:
    """Load a region of ``members`` members step by step, yielding what each step wrote.

    ``days`` is how far back the shifts reach (a year; tests ask for less). Everything happens
    in the caller's transaction: commit after the last step. Each step appends one summary
    event to the audit chain instead of one per row.
    """
    if members < 1 or days < 1:
        raise ValueError("members and days must be at least 1")
    scale = _Scale(session, members, password, now, days)
    reports: list[StepReport] = []
    for name, step in (
        ("officials", scale.prepare),
        ("register", scale.register),
        ("activity", scale.activity),
        ("budget", scale.budget),
        ("commission", scale.commission),
    ):
        started = time.perf_counter()
        rows = step()
        scale.bulk.finish()  # the sequences move past the new ids before anything else inserts
        audit.record(
            session,
            action=f"{MARKER}.{name}",
            object_type="demo",
            actor_id=scale.admin.id,
            payload={"rows": rows},
        )
        report = StepReport(name, rows, time.perf_counter() - started)
        reports.append(report)
        yield report
    started = time.perf_counter()
    scale.finish(reports)
    yield StepReport("finish", {}, time.perf_counter() - started)
