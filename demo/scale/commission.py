"""The scale demo's commissions: nominations, sessions, votes, minutes, acts, payouts."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import (
    update,
)

from budget import ledger
from budget.models import BudgetLine, LedgerEntry
from core.errors import N_, DomainError
from core.money import format_tiyn
from demo import minutes
from demo.scale.base import JUSTIFICATION, _iban, _local, _Person, _reason, _Seat, _Staff
from demo.scale.rows import (
    COMMISSION_TABLES,
    ITEM_COLUMNS,
    LEDGER_COLUMNS,
    NOMINATION_COLUMNS,
    PAYOUT_COLUMNS,
    SESSION_COLUMNS,
    _row,
)
from incentives import policy
from incentives.models import (
    AgendaItem,
    Attendance,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
    Vote,
)
from sober.quarters import quarter_of


class _Commission:
    """The commission step (a part of the generator)."""

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
            "act_number": f"{100 + n}-қ",
            "secretary": secretary,
        }
        rows["commission_session"].append(
            _row(
                SESSION_COLUMNS,
                id=sid,
                commission_id=staff.commission_id,
                held_on=held,
                place_kk=f"{staff.issuer.name_kk} әкімдігі, мәжіліс залы",
                place_ru=f"Акимат: {staff.issuer.name_ru}, зал заседаний",
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

        session = self.session
        session.flush()
        for sitting in made:
            found = session.get(CommissionSession, sitting["id"])
            text_kk, text_ru = minutes.texts(session, found)
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
