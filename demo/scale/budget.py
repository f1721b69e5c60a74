"""The scale demo's budget: the lines every district needs in the years its sessions are held."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import (
    select,
)

from budget import appropriations
from budget.models import BudgetLine, BudgetProgram
from demo.budget import BUDGET_CODE


class _Budget:
    """The budget step (a part of the generator)."""

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
                BudgetProgram.program == BUDGET_CODE["program"],
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
            **BUDGET_CODE,
        )
