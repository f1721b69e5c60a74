"""The scale demo's shared state: constants, working records, the officials, the end."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import random
from collections import Counter, defaultdict

from sqlalchemy import (
    select,
    text,
)
from stdnum import iban as stdiban

from core import accounts, audit, bilingual, clock, places
from core.accounts import RoleGrant, User
from core.db import utcnow
from core.errors import DomainError
from demo.accounts import load_accounts
from demo.budget import load_budget
from demo.register import FIRST_F, FIRST_M, SURNAMES
from demo.scale.rows import _Bulk
from incentives import policy
from incentives.models import (
    Commission,
    CommissionMember,
)
from volunteers import register

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


def _kato(unit: places.AdminUnit) -> str:
    return unit.kato


def _reason(msgid: str, **params) -> str:
    """A deferral reason as the portal stores it: the msgid and its parameters, shown translated."""
    return json.dumps({"msg": msgid, "params": params}, ensure_ascii=False, sort_keys=True)


class _ScaleBase:
    """The generator's shared state, its first step (the officials) and its last (the end)."""

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
        load_accounts(session)  # and the reference data: places, calendar
        load_budget(session)
        self.units = {u.kato: u for u in session.scalars(select(places.AdminUnit))}
        self.unit_by_id = {u.id: u for u in self.units.values()}
        self.region = self.units[REGION]
        self.homes = {k: self.units[k] for k in HOMES if k in self.units}
        self.issuer_of = {k: register.issuing_unit(session, unit) for k, unit in self.homes.items()}
        self.admin = accounts.find_by_login(session, "admin@demo.kz")
        self.finance = accounts.find_by_login(session, "finance@demo.kz")
        self.finance2 = accounts.find_by_login(session, "finance2@demo.kz")
        self._ensure_policy()
        # One hash for every new account (officials here, volunteers in the register step).
        self.password_hash = password_hash = accounts.hash_password(self.password)
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
            body_kk, body_ru = bilingual.akimat_names(issuer.name_kk, issuer.name_ru)
            commission = policy.create_commission(
                session,
                unit_id=issuer.id,
                name_kk=f"{issuer.name_kk} әкімдігі жанындағы азаматтарды көтермелеу комиссиясы",
                name_ru="Комиссия по поощрению граждан при акимате "
                + body_ru.removeprefix("Акимат "),
                body_kk=body_kk,
                body_ru=body_ru,
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
                    position_kk="",
                    position_ru="",
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
        surname = rng.choice(SURNAMES)
        father = rng.choice(FIRST_M[:13])
        if sex == "female":
            first = rng.choice(FIRST_F)
            return f"{surname}{'' if surname == 'Ким' else 'а'} {first} {father}қызы"
        return f"{surname} {rng.choice(FIRST_M)} {father}ұлы"

    # ---- the end -----------------------------------------------------------------------------

    def finish(self, reports: list[StepReport]) -> None:
        """Refresh the planner's statistics and mark the load done."""
        session = self.bulk.session
        # Without fresh statistics the planner (pg_statistic; SQLite's sqlite_stat1) still sees
        # the near-empty tables of before the load and picks scans that do not scale. Every
        # table, not only the bulk ones: the officials, minutes and acts went through the ORM.
        session.execute(text("ANALYZE"))
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
