"""Shared fixtures: the shipped atlas and routines, a runner for the real `backrub` command, and
databases on both backends.

`database_url` and `web_server` run each test on SQLite and on PostgreSQL. The PostgreSQL server
is the one `make test` starts (.ci/postgres) and names in `BACKRUB_TEST_POSTGRES_URL`; each test
(each module, for `web_server`) gets a database of its own, created from that URL and dropped
afterwards. Without the variable the PostgreSQL runs are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql
from sqlalchemy import make_url

from backrub.atlas import Atlas, default_atlas
from backrub.method.routine import Routine, built_in_routine
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from backrub.web.passwords import INSECURE_HASHES_VARIABLE
from tests.webserver import Server, run_command, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from backrub.store import Store

# Under CI every property test draws the same examples on every run: a red CI run is then a
# real, repeatable failure, never a lucky draw. A developer's runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Every server and app the tests start hashes passwords with argon2's cheapest parameters: with
# RFC 9106's (0.2 s of CPU a hash or a check) the sign-ups and log-ins were most of the suite's
# time. The servers inherit the variable; test_accounts.py checks, without it, that production
# hashes with the strong parameters. (Already set, to anything: left as it is.)
os.environ.setdefault(INSECURE_HASHES_VARIABLE, "1")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

RunBackrub = Callable[..., subprocess.CompletedProcess[str]]

POSTGRES_URL_VARIABLE = "BACKRUB_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")
# Databases made for tests are named backrub_t_<pid>_<random>: a later run drops those whose
# process has gone (killed mid-test) and leaves alone those of runs still going.
TEST_DATABASE = re.compile(r"^backrub_t_(\d+)_[0-9a-f]+$")

# The browser tests (tests/web and a few beside it) drive Debian's chromium through Playwright;
# `make test` installs it with apt-get and Playwright never downloads one.
CHROMIUM = Path(os.environ.get("BACKRUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


# Under pytest-xdist (`make test`: three workers, each given a whole test file at a time, so a
# module's server starts once) the files are handed out in collection order. The longest go
# first and the short ones last, to fill the gaps, so the workers finish together: first the
# files measured slowest (a whole run's --durations=0 summed per file, slowest first; a stale
# list costs balance, never a test), then the rest by a rough cost, a browser test counting
# ten, a test on a real server two, others one.
# Each worker reorders alike (xdist checks that they collected the same list).
SLOWEST_FILES = (
    "test_web_accounts.py",
    "test_web_hostile_input.py",
    "web/test_start_quick_path.py",
    "test_rules.py",
    "test_session_cli.py",
    "test_cli.py",
    "test_web_schemathesis_hosted.py",
    "test_web_live_page.py",
    "test_web_crash.py",
    "test_web_review_pages.py",
    "web/test_dim_room_theme.py",
    "test_guide.py",
    "test_history_store.py",
    "test_store.py",
    "web/test_live_controls.py",
    "test_web_schemathesis.py",
    "test_web_workers.py",
    "web/test_dim_room_theme_dark.py",
    "web/test_journey.py",
    "web/test_live_look.py",
    "test_engine_live_properties.py",
    "test_web_api.py",
    "web/test_press_once.py",
    "test_robot_simulation.py",
)
BROWSER_TEST_COST, SERVER_TEST_COST = 10, 2
SERVER_FIXTURES = frozenset({"web_server", "hosted", "server", "api", "postgres_server"})


def _cost(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    if "browser" in names:
        return BROWSER_TEST_COST
    return SERVER_TEST_COST if names & SERVER_FIXTURES else 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: the usual order
        return
    tests = Path(__file__).resolve().parent
    costs: dict[Path, tuple[int, int]] = {}
    for item in items:
        inside = item.path.is_relative_to(tests)
        name = item.path.relative_to(tests).as_posix() if inside else item.path.name
        rank = SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)
        cost = costs.get(item.path, (rank, 0))[1] - _cost(item)
        costs[item.path] = (rank, cost)
    items.sort(key=lambda item: costs[item.path])  # stable: a file's tests keep their order


@pytest.fixture(scope="session")
def atlas() -> Atlas:
    return default_atlas()


@pytest.fixture(scope="session")
def classic() -> Routine:
    return built_in_routine("classic")


@pytest.fixture(autouse=True)
def _no_browser_loop_outside_browser_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Between its calls, Playwright's sync API leaves its asyncio loop marked as this thread's
    running loop, so once the session's browser has started, `asyncio.run()` in any later test
    of the process fails ("cannot be called from a running event loop"). In one process the
    browser tests happened to run last; under xdist they do not. A test that does not drive
    the browser runs with no loop marked running, and the mark is put back after it."""
    loop = asyncio.events._get_running_loop()
    if loop is None or "browser" in request.fixturenames:
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(loop)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium for every browser test of this process, each test in contexts of
    its own (tests/web/conftest.py's `page_at`). One, because Playwright's sync API runs its
    asyncio loop on this thread while it is open: a second `sync_playwright()` in the same
    process (a test module launching its own) then refuses to start, "inside the asyncio loop",
    whenever a browser test ran before it. Without chromium the browser tests are skipped,
    except under CI where they fail."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; `make test` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # only browser tests pay for the import

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def run_backrub(tmp_path: Path) -> RunBackrub:
    """Run `python -m backrub ARGS` as a user would, in a scratch directory, wide terminal."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
        return run_command(list(args), env=env, cwd=cwd or tmp_path, timeout=120)

    return run


def make_step(step_id: str = "s", **fields: Any) -> Step:
    """A right-side step on the middle trapezius; keyword arguments override any field."""
    values: dict[str, Any] = {
        "id": step_id,
        "phase": PhaseKind.UPPER_BACK,
        "regions": ("middle-trapezius-right",),
        "side": StepSide.RIGHT,
        "technique": Technique.CIRCLES,
        "contact": Contact.HEEL_OF_HAND,
        "pressure": PressureLevel.MODERATE,
        "seconds": 60,
    }
    values.update(fields)
    return Step(**values)


@pytest.fixture(scope="module", params=BACKENDS)
def web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One real server per test module and backend, its clock 20 times fast, on a fresh database
    (a SQLite file, then a PostgreSQL database): every test using it runs on both."""
    folder = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        server = start_server(folder, speed=20.0)
        yield server
        server.stop()
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        server = start_server(folder, speed=20.0, env={"BACKRUB_DATABASE_URL": url})
        try:
            yield server
        finally:
            server.stop()


def _libpq(url: str) -> str:
    """The plain libpq form of a SQLAlchemy PostgreSQL URL, for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server (its URL), dropped afterwards."""
    name = f"backrub_t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(server_url, name)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test server's URL (`BACKRUB_TEST_POSTGRES_URL`), after dropping stale test databases.

    Missing: skipped on a developer's machine, a failure under CI (so CI cannot skip silently).
    """
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if not url:
        message = f"{POSTGRES_URL_VARIABLE} is not set; `make test` starts PostgreSQL and sets it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        names = [row[0] for row in admin.execute("SELECT datname FROM pg_database")]
    for name in names:
        found = TEST_DATABASE.match(name)
        if found and not _process_alive(int(found.group(1))):
            _drop_database(url, name)
    return url


@pytest.fixture(scope="module", params=BACKENDS)
def hosted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One real `backrub serve --hosted` per test module and backend, its clock 20 times fast,
    on a fresh database: every test using it runs on SQLite and on PostgreSQL."""
    from tests.hosted_helpers import hosted_server  # it imports this module

    with hosted_server(request, tmp_path_factory.mktemp("hosted")) as server:
        yield server


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backrub.sqlite3'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The store opened on this test's fresh database (SQLite, then PostgreSQL)."""
    from backrub.store import Store

    with Store.open(database_url) as opened:
        yield opened


def log_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sessions whose event log `store` reads from now on (one id per read), in order."""
    reads: list[str] = []
    read = store.timed_events

    def counted(session_id: str, **options: Any) -> Any:
        reads.append(session_id)
        return read(session_id, **options)

    monkeypatch.setattr(store, "timed_events", counted)
    return reads
