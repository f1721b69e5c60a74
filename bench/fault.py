"""Fault tests F1 and F2: PostgreSQL crashed and restarted under concurrent idempotent payouts."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# A valid Kazakh IBAN (check digits computed) for the demo payout paid during the crash.
IBAN = "KZ86125KZT5004100100"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A disposable PostgreSQL cluster in a temporary directory, run as the postgres user."""

    def __init__(self, base: Path, port: int):
        self.base, self.port = base, port
        self.data, self.log = base / "data", base / "server.log"
        self.as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root
        if self.as_postgres:
            shutil.chown(base, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.base, capture_output=True, text=True)
        if check and done.returncode:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr}{done.stdout}\n{tail}")
        return done

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.base} -c max_connections=80"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "120", "start")  # fmt: skip

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str) -> None:
        # -l again: without it the new server writes to pg_ctl's output, and waiting for that
        # to close would wait for the server to stop.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w",
                  "-t", "120", "restart")  # fmt: skip

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@dataclass
class Stats:
    """What the clients saw: acknowledged operations and failed requests, with their times."""

    acked: dict = field(default_factory=dict)  # key -> (line_id, amount, acknowledged at)
    failures: list = field(default_factory=list)  # (request started, ended, error class)
    replays: list = field(default_factory=list)  # keys whose retry found the first try committed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, key: str, line_id: int, amount: int, replay: bool) -> None:
        with self.lock:
            self.acked[key] = (line_id, amount, time.monotonic())
            if replay:
                self.replays.append(key)

    def fail(self, started: float, exc: BaseException) -> None:
        with self.lock:
            message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            self.failures.append(
                (started, time.monotonic(), type(exc).__name__, message[0] if message else "")
            )


@dataclass
class Phase:
    name: str
    began: float = 0.0  # the fault was injected
    ready: float = 0.0  # pg_ctl -w returned: the server accepts connections again
    start_issued: float = 0.0  # F1: the start command after the crash
    ended: float = 0.0  # the next fault is injected (or the load stops)


def pay(app, key: str, line_id: int, amount: int, actor_id: int, retry: bool) -> bool:
    """One payout through the ledger (commit, then disburse) in one transaction.

    The client's key makes a retry of the same payout return the first one. Returns True when
    a retry found it committed already: the earlier attempt's acknowledgement was lost.
    """
    from sqlalchemy import select

    from budget import ledger
    from budget.models import LedgerEntry
    from portal.extensions import db

    with app.app_context():
        try:
            replay = retry and (
                db.session.scalar(
                    select(LedgerEntry.id).where(LedgerEntry.idempotency_key == f"{key}:commit")
                )
                is not None
            )
            common = {
                "line_id": line_id,
                "amount_tiyn": amount,
                "reference_type": "fault",
                "reference_id": key,
                "actor_id": actor_id,
            }
            ledger.commit_funds(db.session, idempotency_key=f"{key}:commit", **common)
            ledger.disburse_funds(db.session, idempotency_key=f"{key}:pay", **common)
            db.session.commit()
            return replay
        except BaseException:
            with contextlib.suppress(Exception):  # the connection is gone: nothing to roll back
                db.session.rollback()
            raise


def pay_demo_item(app, kind: str, actor_id: int) -> None:
    """Pay the demo's unpaid cash reward (or hand over its gift), retrying with the same key."""
    from incentives import payouts
    from portal.extensions import db

    while True:
        with app.app_context():
            try:
                if kind == "cash":
                    payouts.record_payment(
                        db.session,
                        item_id=2,
                        iban=IBAN,
                        order_number="F1-1",
                        order_date=dt.date.today(),
                        amount_tiyn=3460000,
                        idempotency_key="fault-demo-item-2",
                        actor_id=actor_id,
                        today=dt.date.today(),
                    )
                else:
                    payouts.hand_over(
                        db.session,
                        item_id=4,
                        handed_on=dt.date.today(),
                        actor_id=actor_id,
                        today=dt.date.today(),
                        idempotency_key="fault-demo-item-4",  # a retry is the same hand-over
                    )
                db.session.commit()
                return
            except Exception:
                with contextlib.suppress(Exception):
                    db.session.rollback()
        time.sleep(0.1)


def client(app, n: int, stats: Stats, stop: threading.Event, lines, actor_id: int) -> None:
    rnd = random.Random(1000 + n)
    i = 0
    while not stop.is_set():
        key, i = f"fault-{n}-{i}", i + 1
        line_id, amount = rnd.choice(lines), rnd.randint(1, 500) * 100
        retry = False
        while True:  # like a browser resubmitting: the same key until it is acknowledged
            started = time.monotonic()
            try:
                replay = pay(app, key, line_id, amount, actor_id, retry)
            except Exception as exc:
                stats.fail(started, exc)
                retry = True
                time.sleep(0.1)
                continue
            stats.ack(key, line_id, amount, replay)
            break


def load_demo(cluster: Cluster, instance: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=cluster.url("portal"),
        PORTAL_INSTANCE_PATH=str(instance),
        SECRET_KEY="fault-bench-" + "k" * 32,
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"flask demo failed:\n{done.stderr[-3000:]}")


def check(app, stats: Stats) -> dict:
    """Read the books after the faults: nothing acknowledged lost, nothing doubled."""
    from sqlalchemy import func, select

    from budget import ledger
    from budget.models import BudgetLine, LedgerEntry
    from core import audit
    from incentives.models import Payout
    from portal.extensions import db

    with app.app_context():
        entries = {}
        for ref, kind, count, total, line_id in db.session.execute(
            select(
                LedgerEntry.reference_id,
                LedgerEntry.kind,
                func.count(),
                func.sum(LedgerEntry.amount_tiyn),
                func.min(LedgerEntry.line_id),
            )
            .where(LedgerEntry.reference_type == "fault")
            .group_by(LedgerEntry.reference_id, LedgerEntry.kind)
        ):
            entries[(ref, kind)] = (count, int(total), line_id)
        lost = sum(
            1
            for key, (line_id, amount, _at) in stats.acked.items()
            for kind in ("commit", "disburse")
            if entries.get((key, kind), (0, 0, 0))[1:] != (amount, line_id)
        )
        duplicates = sum(count - 1 for count, _t, _l in entries.values() if count > 1)
        unacknowledged = len({ref for ref, _kind in entries} - set(stats.acked))
        live = dict(
            db.session.execute(
                select(Payout.item_id, func.count())
                .where(Payout.item_id.in_((2, 4)), Payout.status.in_(("paid", "handed_over")))
                .group_by(Payout.item_id)
            ).all()
        )
        duplicates += sum(max(0, n - 1) for n in live.values())
        overspent = db.session.scalar(
            select(func.count())
            .select_from(BudgetLine)
            .where(
                (BudgetLine.committed_tiyn < 0)
                | (BudgetLine.committed_tiyn + BudgetLine.disbursed_tiyn > BudgetLine.approved_tiyn)
            )
        )
        drifts = ledger.reconcile(db.session)
        chain = audit.verify_chain(db.session)
        paid = sum(t for (_ref, kind), (_c, t, _l) in entries.items() if kind == "disburse")
        db.session.rollback()
    return {
        "lost": lost,
        "duplicates": duplicates,
        "unacknowledged": unacknowledged,
        "demo_payouts": live,
        "overspent": overspent,
        "drift": len(drifts),
        "paid_matches": paid == sum(amount for _l, amount, _a in stats.acked.values()),
        "chain_ok": chain.ok,
        "chain_rows": chain.rows,
    }


def report(phase: Phase, stats: Stats) -> bool:
    """Print one phase's figures; True when no request failed once the server was back.

    A request counts as after the restart when it started after the server was ready and
    ended before the next fault; requests in flight when a fault comes count for that fault.
    """
    during = [f for f in stats.failures if phase.began - 1 <= f[0] < phase.ready]
    after = [f for f in stats.failures if f[0] >= phase.ready and f[1] < phase.ended]
    acked = [at for _l, _a, at in stats.acked.values() if phase.began - 1 <= at < phase.ended]
    first = min((at for at in acked if at >= phase.ready), default=None)
    kinds = sorted({f[2] for f in during})
    in_flight = sum(1 for f in during if f[0] < phase.began)
    recovery = phase.ready - (phase.start_issued or phase.began)
    print(
        f"{phase.name}: acknowledged {len(acked)} ops in the phase; failed requests "
        f"during the outage {len(during)} ({', '.join(kinds) or 'none'}; {in_flight} of them in "
        f"flight when the fault came, the rest retries), after the restart "
        f"{len(after)}; server ready {recovery:.2f} s after "
        f"{'the start command' if phase.start_issued else 'the restart command'}, outage "
        f"{phase.ready - phase.began:.2f} s, first acknowledged op "
        + (f"{first - phase.ready:.3f} s after ready" if first else "never")
    )
    for _started, _ended, kind, message in after[:5]:
        print(f"  failed after the restart: {kind}: {message}")
    return not after and first is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=12, help="concurrent client threads")
    parser.add_argument("--down", type=float, default=5.0, help="seconds down after the crash")
    parser.add_argument("--steady", type=float, default=3.0, help="seconds of load around faults")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="portal-fault-"))
    instance = Path(tempfile.mkdtemp(prefix="portal-fault-instance-"))
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    cluster = Cluster(base, free_port())
    app = None
    try:
        started = time.monotonic()
        cluster.init()
        cluster.start()
        from sqlalchemy import create_engine, text

        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "portal"'))
        admin.dispose()
        load_demo(cluster, instance)
        print(f"cluster on port {cluster.port} with the demo data ready in "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

        from sqlalchemy import select

        from budget.models import BudgetLine
        from core import accounts
        from portal import create_app
        from portal.extensions import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": cluster.url("portal"),
                "REDIS_URL": None,
                "CHECK_SERVICES": False,
                # As in production (portal/config.py): pre-ping replaces connections the
                # restart killed. The pool holds one connection per client.
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "pool_pre_ping": True,
                    "pool_size": args.clients + 4,
                    "max_overflow": 4,
                },
            }
        )
        with app.app_context():
            lines = list(db.session.scalars(select(BudgetLine.id).order_by(BudgetLine.id)))
            actor_id = accounts.find_by_login(db.session, "finance@demo.kz").id
            db.session.rollback()

        stats, stop = Stats(), threading.Event()
        threads = [
            threading.Thread(target=client, args=(app, n, stats, stop, lines, actor_id))
            for n in range(args.clients)
        ]
        for t in threads:
            t.start()
        time.sleep(args.steady)

        f1 = Phase("F1 crash (pg_ctl stop -m immediate)")
        payers = [
            threading.Thread(target=pay_demo_item, args=(app, kind, actor_id))
            for kind in ("cash", "cash", "cash", "gift", "gift")
        ]
        for t in payers:  # the demo's unpaid rewards, paid by several hands as the crash comes
            t.start()
        f1.began = time.monotonic()
        cluster.stop("immediate")
        time.sleep(args.down)
        f1.start_issued = time.monotonic()
        cluster.start()
        f1.ready = time.monotonic()
        time.sleep(args.steady)
        for t in payers:
            t.join()

        f2 = Phase("F2 restart (pg_ctl restart -m fast)")
        f1.ended = f2.began = time.monotonic()
        cluster.restart("fast")
        f2.ready = time.monotonic()
        time.sleep(args.steady)
        f2.ended = time.monotonic()
        stop.set()
        for t in threads:
            t.join()

        f1_ok = report(f1, stats)
        f2_ok = report(f2, stats)
        books = check(app, stats)
        print(
            f"books: acknowledged ops {len(stats.acked)}, lost acknowledged {books['lost']}, "
            f"duplicates {books['duplicates']}, committed but never acknowledged "
            f"{books['unacknowledged']}, acknowledgements lost and recovered by the key "
            f"{len(stats.replays)}, failed requests {len(stats.failures)}"
        )
        print(
            f"budget: overspent lines {books['overspent']}, ledger drift {books['drift']}, "
            f"paid = acknowledged {books['paid_matches']}, demo payouts "
            f"{books['demo_payouts']}, audit chain ok {books['chain_ok']} "
            f"({books['chain_rows']} rows)"
        )
        books_ok = (
            books["lost"] == 0
            and books["duplicates"] == 0
            and books["unacknowledged"] == 0
            and books["overspent"] == 0
            and books["drift"] == 0
            and books["paid_matches"]
            and books["demo_payouts"] == {2: 1, 4: 1}
            and books["chain_ok"]
        )
        f1_ok, f2_ok = f1_ok and books_ok, f2_ok and books_ok
        print(
            f"f1={'ok' if f1_ok else 'FAIL'} f2={'ok' if f2_ok else 'FAIL'} "
            f"lost={books['lost']} duplicates={books['duplicates']}"
        )
        return 0 if f1_ok and f2_ok else 1
    finally:
        if app is not None:
            from portal.extensions import db

            app.extensions["portal_executor"].shutdown(wait=False)
            with app.app_context():
                db.engine.dispose()
        if cluster.data.exists() and cluster.running():
            cluster.stop("fast")
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
