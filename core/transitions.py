"""Workflow states and transitions, declared once per workflow and applied by one guarded UPDATE."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.errors import N_, Conflict, DomainError

# Every declared workflow, by name: the test that no code assigns a status outside this module,
# the CHECK constraints of the migrations and the screens' "what comes first" read it.
REGISTRY: dict[str, Workflow] = {}


class AlreadyMoved(Conflict):
    """Someone else moved the record first: the step had no effect (409).

    ``workflow`` names the workflow, so that the portal can show ``state`` by its label.
    """

    workflow: str = ""


@dataclass(frozen=True)
class Transition:
    """One allowed step: from any of ``sources`` to ``target``."""

    name: str
    sources: tuple[str, ...]
    target: str


@dataclass
class Workflow:
    """The states of one model's status column and the steps allowed between them.

    ``initial`` are the states a record may be created in (the only direct assignment allowed).
    """

    name: str
    model: type
    states: tuple[str, ...]
    initial: tuple[str, ...]
    transitions: Mapping[str, tuple[Iterable[str] | str, str]]
    column: str = "status"
    steps: dict[str, Transition] = field(init=False)

    def __post_init__(self) -> None:
        steps = {}
        for name, (sources, target) in self.transitions.items():
            sources = (sources,) if isinstance(sources, str) else tuple(sources)
            unknown = {*sources, target} - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{name}: unknown states {sorted(unknown)}")
            steps[name] = Transition(name, sources, target)
        if set(self.initial) - set(self.states):
            raise ValueError(f"{self.name}: unknown initial states")
        self.steps = steps
        if self.name in REGISTRY and REGISTRY[self.name].model is not self.model:
            raise ValueError(f"workflow {self.name} declared twice")
        REGISTRY[self.name] = self

    def check_sql(self) -> str:
        """Return the SQL of the CHECK constraint listing the legal values of the column."""
        values = ", ".join(f"'{s}'" for s in self.states)
        return f"{self.column} IN ({values})"

    def step(self, name: str) -> Transition:
        return self.steps[name]

    def can(self, record, name: str) -> bool:
        """Return whether ``record``'s current state allows the step ``name``."""
        return getattr(record, self.column) in self.steps[name].sources


def advance(
    session: Session,
    workflow: Workflow,
    record,
    step: str,
    *,
    values: Mapping[str, object] | None = None,
    where: Iterable[ColumnElement[bool]] = (),
    refused: DomainError | None = None,
) -> None:
    """Apply ``step`` to ``record`` with one guarded UPDATE, or raise and change nothing.

    The statement sets the status (and ``values``) only where the row is still in one of the
    step's source states and every ``where`` guard holds, so two requests racing for the same
    step (a double click, ten parallel posts) have exactly one winner: PostgreSQL re-checks the
    WHERE after the winner commits, SQLite serializes writers. The loser gets ``AlreadyMoved``
    (or ``refused``, when a guard of ``where`` rather than the state failed) and its transaction
    is left for the caller to roll back. ``record`` is updated in memory to the new state.
    """
    transition = workflow.steps[step]
    model = workflow.model
    column = getattr(model, workflow.column)
    changes = {workflow.column: transition.target, **(values or {})}
    done = session.execute(
        update(model)
        .where(model.id == record.id, column.in_(transition.sources), *where)
        .values(changes)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        current = session.scalar(select(column).where(model.id == record.id))
        if current in transition.sources and refused is not None:
            raise refused
        raise already_moved(session, workflow, record.id, current)
    for name, value in changes.items():
        set_committed_value(record, name, value)


def advance_all(
    session: Session,
    workflow: Workflow,
    step: str,
    *,
    where: Iterable[ColumnElement[bool]],
    values: Mapping[str, object] | None = None,
) -> list[int]:
    """Apply ``step`` to every row matching ``where`` that is in a source state; return their ids.

    One guarded UPDATE over a set (cancelling a shift cancels its sign-ups; closing it marks
    the absent as no-shows): rows another request already moved are simply not in the set.
    The caller's ORM objects of those rows are expired so that they reload the new state.
    """
    transition = workflow.steps[step]
    model = workflow.model
    column = getattr(model, workflow.column)
    ids = list(
        session.scalars(
            update(model)
            .where(column.in_(transition.sources), *where)
            .values({workflow.column: transition.target, **(values or {})})
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
    )
    for record in list(session.identity_map.values()):
        if isinstance(record, model) and record.id in ids:
            session.expire(record)
    return ids


def already_moved(session: Session, workflow: Workflow, record_id: int, state) -> AlreadyMoved:
    """Return the 409 for a record another request moved first, naming who did it when known."""
    from core.accounts import User
    from core.audit import AuditEvent

    # The latest event of the record, whoever wrote it: a job's (no actor) names nobody.
    who = session.execute(
        select(User.full_name)
        .select_from(AuditEvent)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.object_type == workflow.model.__tablename__,
            AuditEvent.object_id == str(record_id),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).scalar()
    if who:
        error = AlreadyMoved(
            N_(
                "Already done by %(who)s: it is now “%(state)s”. Nothing was changed; "
                "reload the page to see where it stands."
            ),
            who=who,
            state=state or "—",
        )
    else:
        error = AlreadyMoved(
            N_(
                "Already done by someone else: it is now “%(state)s”. Nothing was changed; "
                "reload the page to see where it stands."
            ),
            state=state or "—",
        )
    error.workflow = workflow.name
    return error
