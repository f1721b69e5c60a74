"""The scale demo's activity: a year of shifts, sign-ups and contributions of every unit."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import (
    select,
)

from core import clock
from demo.scale.base import (
    DAYS_AHEAD,
    OTHER_KINDS,
    PLACES,
    REJECTIONS,
    SHIFT_HOURS,
    SHIFTS_PER_WEEK,
    _local,
    _Person,
)
from demo.scale.rows import CHUNK, CONTRIBUTION_COLUMNS, SHIFT_COLUMNS, SIGNUP_COLUMNS, _row
from incentives import policy
from incentives.models import (
    RewardPolicy,
)
from sober.quarters import quarter_of
from volunteers import contributions
from volunteers.activity_models import Contribution, ContributionKind, Shift, Signup


class _Activity:
    """The activity step (a part of the generator)."""

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
