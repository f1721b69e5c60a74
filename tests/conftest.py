"""Test fixtures: fresh databases per test (SQLite and PostgreSQL), apps, clients, Redis."""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import json
import os
import queue
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_PASSWORD = "demo-portal-2026"
TEST_DATA_KEYS = "t1:" + "A" * 43
TEST_INDEX_KEY = "B" * 43
try:
    import fcntl
except ImportError:  # Windows: each process builds its own templates
    fcntl = None
# One id for the whole run, shared by pytest-xdist's processes, which then share templates.
RUN_ID = (
    os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex) if fcntl else f"{uuid.uuid4().hex}"
)[:8]
SHARED_DIR = Path(tempfile.gettempdir()) / f"portal-tests-{RUN_ID}"


def pytest_addoption(parser):
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help="run every database test on SQLite and PostgreSQL (by default PostgreSQL runs "
        "only the tests marked both_databases and the PostgreSQL-only ones)",
    )


def pytest_collection_modifyitems(config, items):
    """Run a test on PostgreSQL as well only when it is marked so or ``--full`` is given.

    Most tests check rules that do not depend on the database; SQLite answers them in a
    fraction of the time. Ledger, locks, audit, migrations, bulk loads, concurrency and SQL
    written per dialect are marked ``both_databases`` (module-wide with ``pytestmark``).
    """
    if config.getoption("--full"):
        return
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        # The backend is a fixture's parameter ("db_url", or a module's world).
        on_postgres = "postgresql" in params.values()
        if on_postgres and item.get_closest_marker("both_databases") is None:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_configure(config):
    # A test process keeps a heap of over a million objects for the whole run (the shared
    # apps, the security worlds, what the tests imported), and CPython's full collection
    # scans all of it: 94 of them took 33 of the 397 CPU-seconds of a run's two processes
    # (issue 16). Young garbage is still collected by the younger generations; a full
    # collection now comes after 1,000 collections of the middle one instead of 10.
    gen0, gen1, _gen2 = gc.get_threshold()
    gc.set_threshold(gen0, gen1, 1000)
    # Keep the generated secret key and any files out of the working tree, and make sure
    # no service settings of the developer's shell leak into the tests.
    os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="portal-test-instance-")
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        os.environ.pop(name, None)
    # Processes the tests start on PostgreSQL are not a production (no public address, demo
    # accounts); tests of production mode ask for it.
    os.environ["PORTAL_ENV"] = "development"
    # pytest-xdist's processes get this process's run id, so that they share its templates.
    if not hasattr(config, "workerinput") and getattr(config.option, "testrunuid", "") is None:
        config.option.testrunuid = RUN_ID


def unavailable(service: str, reason: str):
    """Skip when a service is missing on a developer machine; fail under CI=true."""
    if CI:
        pytest.fail(f"{service} is required when CI=true but is not usable: {reason}")
    pytest.skip(f"{service} not available: {reason}")


def make_app(db_url: str, **config):
    from portal import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        # As in the README's demo; tests of the MFA gate itself turn the waiver off.
        "DEMO_MFA_WAIVER": True,
        # Cheap argon2id: a sign-in costs microseconds instead of 0.4 s of the suite's CPU.
        "PASSWORD_HASH_PROFILE": "test",
        # One app serves a whole session from 127.0.0.1: the API's per-address limits would
        # count every test's calls together. Tests of the limits set them low themselves.
        "API_LIMIT_PER_ADDRESS": "1000000 per minute",
        "API_LIMIT_PER_ACCOUNT": "1000000 per minute",
        "API_LIMIT_WRONG_TOKEN_PER_ADDRESS": "1000000 per minute",
        # Fixed keys: templates built by one worker are opened by the others.
        "DATA_KEYS": TEST_DATA_KEYS,
        "INDEX_KEY": TEST_INDEX_KEY,
    }
    settings.update(config)
    if not settings["TESTING"]:
        # Browser tests run the app as production does; the portal refuses the cheap profile.
        settings["PASSWORD_HASH_PROFILE"] = "standard"
    return create_app(settings)


def close_app(app) -> None:
    from portal.extensions import db

    app.extensions["portal_executor"].shutdown(wait=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def build_template(db_url: str, with_demo: bool = False) -> dict:
    """Build a template: the migrations, then reference data and demo users.

    ``with_demo``: ``db_url`` already holds a copy of the plain template; load the rest of
    what ``flask demo`` loads (budget, shifts, sober settlements, the commission) onto it, for
    tests marked ``demo_data``. Migrating and loading the register again would produce the
    same rows at the cost of a second plain build. Return what the demo's loaders returned
    (their first load happens here; ``demo_loads`` gives it to the tests of the demo).
    """
    from flask_migrate import upgrade

    import demo
    from demo import activity, commission, sober
    from portal.extensions import db

    app = make_app(db_url)
    loads: dict = {}
    with app.app_context():
        if not with_demo:
            upgrade()
            demo.load_accounts(db.session)
            db.session.commit()
            demo.load_register(db.session)
            db.session.commit()
        else:
            demo.load_budget(db.session)
            db.session.commit()
            loads["activity"] = activity.load_activity(db.session, demo.DEMO_PASSWORD)
            db.session.commit()
            sober.load_sober(db.session, demo.DEMO_PASSWORD)
            db.session.commit()
            loads["commission"] = commission.load_commission(db.session, demo.DEMO_PASSWORD)
            db.session.commit()
    close_app(app)
    return loads


def built_once(name: str, build) -> None:
    """Run ``build()`` once per test run, in whichever process asks first; others wait.

    Templates (the migrated schema with the demo accounts; everything ``flask demo`` loads)
    take seconds to build; every process of a run shares them. A failed build leaves no
    mark, so the next process to ask tries again.
    """
    SHARED_DIR.mkdir(exist_ok=True)
    done = SHARED_DIR / f"{name}.done"
    with open(SHARED_DIR / f"{name}.lock", "w") as lock:
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            build()
            done.touch()


def pytest_unconfigure(config):
    """After the whole run (in the controlling process): drop the shared templates."""
    if (hasattr(config, "workerinput") and fcntl) or not SHARED_DIR.exists():
        return
    shutil.rmtree(SHARED_DIR, ignore_errors=True)
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            names = conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": f"portal_test_{RUN_ID}_%"},
            ).all()
        for name in names:
            drop_database(engine, name)
    except OperationalError:
        pass  # no PostgreSQL, nothing was made there
    finally:
        engine.dispose()


def _record_loads(template: str, loads: dict) -> None:
    (SHARED_DIR / f"{template}.loads.json").write_text(json.dumps(loads))


@pytest.fixture
def demo_loads(request, db_url) -> dict:
    """What the demo's loaders returned when they first loaded this test's demo template
    (``build_template``): the tests of the demo check that first load without repeating it."""
    assert request.node.get_closest_marker("demo_data"), "demo_loads is for demo_data tests"
    if db_url.startswith("sqlite"):
        template = request.getfixturevalue("sqlite_demo_template").name
    else:
        template = request.getfixturevalue("pg_demo_template")
    return json.loads((SHARED_DIR / f"{template}.loads.json").read_text())


def _sqlite_template(with_demo: bool) -> Path:
    path = SHARED_DIR / ("demo.sqlite3" if with_demo else "template.sqlite3")
    plain = _sqlite_template(with_demo=False) if with_demo else None

    def build():
        if plain is not None:
            shutil.copy(plain, path)
        _record_loads(path.name, build_template(f"sqlite:///{path}", with_demo=with_demo))

    built_once(path.name, build)
    return path


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    return _sqlite_template(with_demo=False)


@pytest.fixture(scope="session")
def sqlite_demo_template() -> Path:
    return _sqlite_template(with_demo=True)


@pytest.fixture(scope="session", autouse=True)
def _templates_built_side_by_side(request):
    """In a whole run on several workers, build the templates side by side, a backend each.

    Otherwise the first test of each worker often needs the same template, and one worker
    waits idle while the other builds it. Each demo template starts from a copy of its
    backend's plain one, so a worker builds one backend's pair and then goes on with its
    tests; one that needs the other pair before it is done waits for it. A targeted run
    builds only what its tests ask for.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or len(request.session.items) < 300:
        return
    order = ["pg_demo_template", "sqlite_demo_template"]
    # No PostgreSQL here (outside CI): its tests skip themselves.
    with contextlib.suppress(pytest.skip.Exception):
        request.getfixturevalue(order[int(worker[2:] or 0) % len(order)])


@pytest.fixture(scope="session")
def pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        unavailable("PostgreSQL", str(exc.orig).splitlines()[0])
    yield engine
    engine.dispose()


def pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    # Test databases are thrown away: commits need not wait for the disk (durability under a
    # crash is bench/fault.py's subject, against a server of its own).
    url = make_url(PG_ADMIN_URL).set(database=name)
    url = url.update_query_dict({"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def create_database(admin, name: str, template: str | None = None) -> None:
    """Create database ``name`` on the admin engine, copied from ``template`` if given."""
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))


def drop_database(admin, name: str) -> None:
    """Drop database ``name`` (FORCE ends any connection a test left open)."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_template(admin, with_demo: bool) -> str:
    name = f"portal_test_{RUN_ID}_{'demo' if with_demo else 'template'}"
    plain = _pg_template(admin, with_demo=False) if with_demo else None

    def build():
        drop_database(admin, name)  # what a failed build left
        create_database(admin, name, plain)
        _record_loads(name, build_template(pg_url(name), with_demo=with_demo))

    built_once(name, build)
    return name


@pytest.fixture(scope="session")
def pg_template(pg_admin):
    return _pg_template(pg_admin, with_demo=False)


@pytest.fixture(scope="session")
def pg_demo_template(pg_admin):
    return _pg_template(pg_admin, with_demo=True)


class PgClones:
    """Fresh copies of the template, made ahead by a background thread.

    ``CREATE DATABASE … TEMPLATE`` takes about half a second, mostly waiting on the server's
    disk; making the next copies while a test runs takes that wait off the suite's clock.
    Every test still gets a database nobody has touched, and every copy is dropped.
    """

    AHEAD = 2
    DROPPERS = 8  # the admin engine's pool holds 5 connections and lends 10 more

    def __init__(self, admin, template: str):
        self.admin, self.template = admin, template
        self.ready: queue.Queue = queue.Queue(maxsize=self.AHEAD)
        self.used: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._make, name="pg-clones", daemon=True)
        self.thread.start()
        self.dropper = threading.Thread(target=self._drop_used, name="pg-drops", daemon=True)
        self.dropper.start()

    def _make(self) -> None:
        while not self.stopping.is_set():
            name = f"portal_test_{uuid.uuid4().hex[:12]}"
            try:
                create_database(self.admin, name, self.template)
            except Exception as exc:  # handed to the test that asks next
                self.ready.put(exc)
                return
            self.ready.put(name)  # blocks while AHEAD copies wait

    def take(self) -> str:
        item = self.ready.get(timeout=120)
        if isinstance(item, Exception):
            raise item
        return item

    def drop(self, name: str) -> None:
        """Drop a used copy in the background (FORCE ends any connection a test left open)."""
        self.used.put(name)

    def _drop_used(self) -> None:
        """Drop the used copies, all those waiting at once.

        PostgreSQL 15 ends every DROP DATABASE with a checkpoint that flushes the dirty pages
        of every test's database. One at a time, the drops fell hundreds behind the tests and
        kept the disk busy (about 300 copies waiting in a whole run, and 15 s of drops at its
        end); drops sent together wait on the same checkpoint.
        """
        with concurrent.futures.ThreadPoolExecutor(self.DROPPERS, "pg-drop") as pool:
            stopping = False
            while not stopping:
                names = [self.used.get()]
                with contextlib.suppress(queue.Empty):
                    while len(names) < self.DROPPERS:
                        names.append(self.used.get_nowait())
                if None in names:
                    stopping = True
                    names.remove(None)
                for done in [pool.submit(self._drop, name) for name in names]:
                    done.result()

    def _drop(self, name: str) -> None:
        drop_database(self.admin, name)

    def close(self) -> None:
        self.used.put(None)
        self.dropper.join()
        self.stopping.set()
        while self.thread.is_alive():
            with contextlib.suppress(queue.Empty):
                item = self.ready.get(timeout=0.1)
                if isinstance(item, str):
                    self._drop(item)
        while not self.ready.empty():
            item = self.ready.get_nowait()
            if isinstance(item, str):
                self._drop(item)


@pytest.fixture(scope="session")
def pg_clones(pg_admin, pg_template):
    clones = PgClones(pg_admin, pg_template)
    yield clones
    clones.close()


@pytest.fixture(scope="session")
def pg_demo_clones(pg_admin, pg_demo_template):
    clones = PgClones(pg_admin, pg_demo_template)
    yield clones
    clones.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database for one test, cloned from the migrated template, dropped after.

    A test marked ``demo_data`` starts from everything ``flask demo`` loads, built once per
    backend and process instead of in each test.
    """
    with_demo = request.node.get_closest_marker("demo_data") is not None
    if request.param == "sqlite":
        path = tmp_path / "portal.sqlite3"
        template = "sqlite_demo_template" if with_demo else "sqlite_template"
        shutil.copy(request.getfixturevalue(template), path)
        yield f"sqlite:///{path}"
        return
    clones = request.getfixturevalue("pg_demo_clones" if with_demo else "pg_clones")
    name = clones.take()
    try:
        yield pg_url(name)
    finally:
        clones.drop(name)


class SharedApp:
    """One app per backend and test process, pointed at each test's own fresh database.

    Building an app and compiling its templates costs about 0.15 s, more than most tests
    take; the database is what must be fresh, not the app. Each connection the engine opens
    is sent to the current test's database (``do_connect``), the pool is emptied between
    tests, and whatever a test changed on the app (configuration, sign-in counters) is put
    back after it.
    """

    def __init__(self, db_url: str, **config):
        from sqlalchemy.engine import make_url

        self.backend = make_url(db_url).get_backend_name()
        if self.backend != "sqlite":
            # Enough connections for ``race``'s threads to run truly at once on PostgreSQL.
            options = {"pool_pre_ping": True, "pool_size": 24, "max_overflow": 8}
            config = {"SQLALCHEMY_ENGINE_OPTIONS": options, **config}
        self.app = make_app(db_url, **config)
        self.engine = engine_of(self.app)
        self.target = make_url(db_url)
        self.config = dict(self.app.config)
        event.listen(self.engine, "do_connect", self._connect_to_target)

    def _connect_to_target(self, _dialect, _record, cargs, cparams) -> None:
        if self.backend == "sqlite":
            cargs[0] = self.target.database
        else:
            cparams["dbname"] = self.target.database

    def use(self, db_url: str):
        """Point the app at ``db_url`` for the next test and return it."""
        from sqlalchemy.engine import make_url

        self.engine.dispose()
        self.target = make_url(db_url)
        self.app.config["SQLALCHEMY_DATABASE_URI"] = db_url
        return self.app

    def reset(self) -> None:
        """Let the test's jobs finish, close its connections and undo its changes to the app."""
        from portal.extensions import db

        wait_for_jobs(self.app)
        with self.app.app_context():
            db.session.remove()
        self.engine.dispose()
        self.app.config.clear()
        self.app.config.update(self.config)
        for limiter in self.app.extensions.get("limiter", ()):
            limiter.reset()

    def close(self) -> None:
        close_app(self.app)


@pytest.fixture(scope="session")
def shared_apps():
    apps: dict[str, SharedApp] = {}
    yield apps
    for shared in apps.values():
        shared.close()


def _test_keyring():
    from core.sealing import Keyring

    return Keyring.parse(TEST_DATA_KEYS, TEST_INDEX_KEY)


@pytest.fixture
def app(db_url, shared_apps):
    """The app of this process and backend, on a database nobody else has touched."""
    from sqlalchemy.engine import make_url

    backend = make_url(db_url).get_backend_name()
    if backend not in shared_apps:
        shared_apps[backend] = SharedApp(db_url)
    shared = shared_apps[backend]
    # The data keys are the process's (core.sealing): a test that built an app of its own with
    # other keys must not leave the shared app unable to open what it sealed.
    from core import sealing

    sealing.configure(_test_keyring())
    yield shared.use(db_url)
    shared.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    """A session on the app's engine, outside any app context.

    Holding an app context across client requests would share Flask's ``g`` (and so the
    signed-in user) between them; a plain session keeps requests independent. It begins
    deferred on SQLite so that its reads never hold the write lock a request needs; call
    ``rollback()`` before reading what a request wrote (SQLite keeps a read snapshot).
    """
    from sqlalchemy.orm import Session

    from portal.database import READ_ONLY_OPTION
    from portal.extensions import db

    with app.app_context():
        engine = db.engine.execution_options(**{READ_ONLY_OPTION: True})
    with Session(engine) as s:
        yield s
        s.rollback()


def login(client, login: str, password: str = DEMO_PASSWORD):
    """Sign in through the forms, as the person would, and return the password step's response.

    An account with an authenticator gets its code entered; an official who must use two
    factors and has none yet enrols one on the setup page first (outside the demo waiver).
    """
    response = client.post("/login", data={"login": login, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/code"):
        final = client.post("/login/code", data={"code": totp_code(client.application, login)})
        assert final.status_code == 302, final.text
        return final
    if response.status_code == 302 and _must_enrol(client.application, login):
        setup = client.get("/account/two-factor")
        assert setup.status_code == 200
        with client.session_transaction() as sess:
            secret = sess["mfa_enrol_secret"]
        enrolled = client.post("/account/two-factor", data={"code": _code_at(secret, None)})
        assert enrolled.status_code == 200, enrolled.text
    return response


def login_as(client, login: str) -> None:
    """Sign ``client`` in as ``login`` without the sign-in forms, for tests not about sign-in.

    The session is started by the portal's own ``session_policy.start`` (as after a password
    and, for an enrolled account, a code), in a request context like the client's, and its
    cookie is handed to the client: no password hashing, no sign-in requests.
    """
    from core import accounts, mfa
    from portal import session_policy
    from portal.extensions import db

    app = client.application
    # The client's own address and user agent: Flask-Login's "strong" session protection
    # ties the session to them.
    with app.test_request_context(environ_base=client.environ_base):
        from flask import session

        user = accounts.find_by_login(db.session, login)
        assert user is not None, login
        factor = mfa.factor_of(db.session, user.id) is not None
        session_policy.start(user, second_factor=factor)
        data = dict(session)
        db.session.rollback()
    with client.session_transaction() as sess:
        sess.clear()
        sess.update(data)


def make_stale(client) -> None:
    """Age the client's sign-in past the fresh window, as if the password was typed long ago."""
    with client.session_transaction() as sess:
        sess["fresh_at"] = 0


def _must_enrol(app, login: str) -> bool:
    from core import accounts, mfa
    from portal.extensions import db

    with app.app_context():
        user = accounts.find_by_login(db.session, login)
        waived = app.config.get("DEMO_MFA_WAIVER") and (user.email or "").endswith("@demo.kz")
        must = mfa.required_for(user) and not waived and not mfa.factor_of(db.session, user.id)
        db.session.rollback()
    return bool(must)


def _code_at(secret: str, last_step: int | None) -> str:
    """Return a TOTP code the portal accepts: a step after ``last_step``, waiting if need be."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // totp.interval
        step = now - 1 if last_step is None else max(now - 1, last_step + 1)
        if step <= now + 1:
            return totp.generate_otp(step)
        time.sleep(1)


def totp_code(app, login: str) -> str:
    """Return the next code the portal accepts for the enrolled account ``login``."""
    from sqlalchemy import select

    from core import mfa
    from core.accounts import User
    from portal.extensions import db

    with app.app_context():
        factor = db.session.scalars(
            select(mfa.TotpFactor)
            .join(User, User.id == mfa.TotpFactor.user_id)
            .where(User.email == login)
        ).one()
        secret, last = factor.secret, factor.last_step
        db.session.rollback()
    return _code_at(secret, last)


def wait_for_jobs(app) -> None:
    """Wait until the in-process runner has finished everything submitted so far."""
    app.extensions["portal_executor"].submit(lambda: None).result(timeout=60)


@pytest.fixture(scope="session")
def redis_url():
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        unavailable("Redis", str(exc))
    return REDIS_TEST_URL


@pytest.fixture
def rq_prefix(redis_url):
    """A queue prefix owned by one test; every Redis key mentioning it is deleted after."""
    from redis import Redis

    prefix = f"portal-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    conn = Redis.from_url(redis_url)
    keys = list(conn.scan_iter(match=f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    for key in ("rq:queues", "rq:workers"):
        for member in conn.smembers(key):
            if prefix.encode() in member:
                conn.srem(key, member)


def translated(app, msgid: str, lang: str, **params) -> str:
    """Return ``msgid`` as a page in ``lang`` shows it (translated, HTML-escaped)."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context(), force_locale(lang):
        return str(escape(gettext(msgid, **params)))


@pytest.fixture
def pg_app(request, shared_apps):
    """The PostgreSQL app on a fresh copy only: for races, locks and the ledger under load."""
    clones = request.getfixturevalue("pg_clones")
    name = clones.take()
    url = pg_url(name)
    if "postgresql" not in shared_apps:
        shared_apps["postgresql"] = SharedApp(url)
    shared = shared_apps["postgresql"]
    try:
        yield shared.use(url)
    finally:
        shared.reset()
        clones.drop(name)


def race(n: int, action) -> list:
    """Run ``action(i)`` for i in range(n) in n threads released at once; return the results.

    An exception raised by an action is returned in its place, so a test sees every outcome.
    """
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # the test asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def same_browser(client):
    """Return a new test client carrying ``client``'s cookies: the same signed-in person.

    Signing in 20 clients would hash the password 20 times; a copied session is the same
    browser sending 20 requests at once (a double click, a retried form).
    """
    other = client.application.test_client()
    for cookie in client._cookies.values():
        other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return other


def already_done(app, lang: str, *, who: str, workflow: str, state: str) -> str:
    """Return the 409 of a step another request took first, as the loser's page shows it."""
    from flask_babel import force_locale
    from markupsafe import escape

    from core.transitions import AlreadyMoved
    from portal.i18n import translate_error

    error = AlreadyMoved(
        "Already done by %(who)s: it is now “%(state)s”. Nothing was changed; "
        "reload the page to see where it stands.",
        who=who,
        state=state,
    )
    error.workflow = workflow
    with app.test_request_context(), force_locale(lang):
        return str(escape(translate_error(error)))


def engine_of(app):
    """Return the app's engine, for sessions of their own (one per racing thread)."""
    from portal.extensions import db

    with app.app_context():
        return db.engine


def audit_count(s, action: str, object_type: str, object_id: int) -> int:
    """Return how many audit events ``action`` the record has: one per effect of a step."""
    from sqlalchemy import func, select

    from core.audit import AuditEvent

    return s.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == str(object_id),
        )
    )
