"""What the hosted-mode tests share: a real `backrub serve --hosted` on either backend, signed-up
clients that send their CSRF token, and a look at the server's database."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, create_engine, select

from backrub.store.tables import Base
from tests.conftest import fresh_postgres_database
from tests.webserver import Server, start_server

SECRET = "k3Jx9vQ2pL7mN4rT8wY1zA6bC5dE0fGhUiOsWq"
PASSWORD = "correct horse battery"
HOSTED_ENV = {
    "BACKRUB_SECRET_KEY": SECRET,
    "BACKRUB_SECURE_COOKIES": "false",  # the tests talk plain HTTP to 127.0.0.1
    "BACKRUB_ALLOWED_HOSTS": "127.0.0.1,localhost",
}


@contextmanager
def hosted_server(request: pytest.FixtureRequest, folder: Path) -> Iterator[Server]:
    """A real hosted server, its clock 20 times fast, on the backend `request.param` names
    ("sqlite" or "postgresql", as `BACKENDS`) and a fresh database; stopped afterwards."""
    if request.param == "sqlite":
        server = start_server(folder, "--hosted", speed=20.0, env=HOSTED_ENV)
        try:
            yield server
        finally:
            server.stop()
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        env = {**HOSTED_ENV, "BACKRUB_DATABASE_URL": url}
        server = start_server(folder, "--hosted", speed=20.0, env=env)
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def database(server: Server) -> Iterator[Connection]:
    """The server's database, to look at or to move its clock (expiry, failures) back."""
    engine = create_engine(server.database_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.org"


def new_address() -> str:
    """A client address of its own (the server trusts X-Forwarded-For from 127.0.0.1, as
    behind a proxy), so one test's failed log-ins do not count against another's."""
    part = uuid.uuid4().int
    return f"10.{part % 250}.{part // 250 % 250}.{part // 62500 % 250 + 1}"


def sign_up(server: Server, email: str | None = None, password: str = PASSWORD) -> httpx.Client:
    """A client logged in to a new account, sending its CSRF token with every request."""
    # csrf=False: the token is the one sign-up returns, in the header; a test may take it away.
    client = server.client(headers={"X-Forwarded-For": new_address()}, csrf=False)
    reply = client.post(
        "/api/auth/signup", json={"email": email or new_email(), "password": password}
    )
    assert reply.status_code == 201, reply.text
    client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
    return client


def rows_naming(connection: Connection, account: int, traces: list[str]) -> list[str]:
    """Every row, in any table, that the account owns or that holds one of its traces (ids,
    e-mail, names): what must be gone once the account is deleted."""
    left = []
    for table in Base.metadata.sorted_tables:
        for row in connection.execute(select(table)).mappings():
            text = json.dumps([str(value) for value in row.values()])
            owned = row.get("account_id") == account or (
                table.name == "accounts" and row["id"] == account
            )
            if owned or any(trace in text for trace in traces):
                left.append(f"{table.name}: {text}")
    return left


FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: httpx.Client, path: str) -> str:
    """The CSRF token of the form on this page (log-in, sign-up, or any page's when logged in)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = FORM_TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)
