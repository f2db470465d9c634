"""A PostgreSQL server of one test's own, to stop and start under load.

The shared test server (.ci/postgres, `BACKRUB_TEST_POSTGRES_URL`) serves every other test at
once, so a test that takes the database away makes its own cluster, as .ci/postgres does: initdb
into a temporary folder, a free loopback port, the unix socket inside the folder, `trust` for
loopback only, durability off. As root the server programs run as the `postgres` system user
(they refuse to run as root). Without initdb the test is skipped on a developer's machine and
fails under CI.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.webserver import free_port

SERVER_USER = "postgres"
BINARIES = Path("/usr/lib/postgresql")
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "autovacuum=off")
START_SECONDS = 60


def _server_bin() -> Path | None:
    """The newest installed server's binaries (Debian's layout), or the ones on PATH."""
    found = [path.parent for path in BINARIES.glob("*/bin/initdb")]
    if found:
        return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", path.parent.name)])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Cluster:
    """A running throwaway server: `url` for SQLAlchemy, `stop()` and `start()` at will."""

    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/backrub"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.data / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} {args[:3]} failed:\n{result.stderr}\n{tail}")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} " + " ".join(
            f"-c {setting}" for setting in SETTINGS
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
            "-t", str(START_SECONDS), "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every connection (as a restart does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def _make(bin: Path) -> Cluster:
    data = Path(tempfile.mkdtemp(prefix="backrub-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(data, user.pw_uid, user.pw_gid)
    cluster = Cluster(bin, data, free_port())
    cluster._run(
        "initdb", "-D", str(data), "-U", SERVER_USER, "-E", "UTF8", "--no-locale", "--no-sync",
        "--auth-local=trust", "--auth-host=reject",
    )  # fmt: skip
    # Loopback only, and nothing but this test knows the port.
    hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    (data / "pg_hba.conf").write_text(hba)  # root may write the server user's file
    return cluster


@pytest.fixture
def throwaway_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server (and its database `backrub`) for this test alone, removed after."""
    bin = _server_bin()
    if bin is None:
        message = "no PostgreSQL server programs (initdb) on this machine"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = _make(bin)
    try:
        cluster.start()
        admin = f"host=127.0.0.1 port={cluster.port} user={SERVER_USER} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE backrub")
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # it was not running
            cluster.stop("immediate")
        shutil.rmtree(cluster.data, ignore_errors=True)
