"""Accounts in the store: sign-up data, log-ins, failures, ownership, export and deletion.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture). Ownership is the
point: an account never reads, lists or changes another's profiles, sessions or events, and
another's row fails exactly like a row that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import extract_parameters, profiles
from sqlalchemy import Engine, create_engine, make_url, select, text

from backrub.session.events import Event, EventKind
from backrub.store import EmailTaken, Store, StoreError
from backrub.store.engine import SQLITE_BEGIN, writer_engine
from backrub.store.schema import head_revision, migration_config
from backrub.store.tables import Base
from backrub.web import passwords
from backrub.web.passwords import (
    INSECURE_HASHES_VARIABLE,
    AccountError,
    check_email,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.hosted_helpers import rows_naming

PLAN = {"schema": "backrub.plan", "version": 1}
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"  # shape only
MORE = Event(at=1.0, kind=EventKind.MORE)
FELT = Event(at=2.0, kind=EventKind.FELT, value=4)
SOON = datetime.now(UTC) + timedelta(days=14)


def _token(n: int) -> str:
    return f"{n:064x}"


def _account(store: Store, email: str) -> int:
    return store.create_account(email, HASH)


def _fill(store: Store, account: int | None, name: str = "Mum") -> dict[str, Any]:
    """A profile, a running session with two events and a finished one with a summary."""
    data = {"minutes": 20, "secret": f"{name}-{account}"}
    profile = store.create_profile(name, data, account=account)
    running = store.start_session(PLAN, profile, account=account)
    store.append_event(running, MORE, account=account)
    store.append_event(running, FELT, account=account)
    finished = store.start_session(PLAN, profile, account=account)
    store.end_session(finished, "finished", {"worked_seconds": 42}, account=account)
    return {"profile": profile, "running": running, "finished": finished}


# ------------------------------------------------------------------------------ accounts


def test_an_account_keeps_its_email_lower_cased_and_refuses_a_second(store: Store) -> None:
    ann = _account(store, "  Ann@Example.ORG ")
    assert store.account(ann).email == "ann@example.org"
    assert not hasattr(store.account(ann), "password_hash")
    with pytest.raises(EmailTaken, match="already exists") as taken:
        store.create_account("ANN@example.org", HASH)
    assert isinstance(taken.value, StoreError)
    found = store.credentials("ann@EXAMPLE.org")
    assert found is not None
    assert (found.account_id, found.password_hash) == (ann, HASH)
    assert store.credentials("nobody@example.org") is None
    assert store.credentials("x" * 400) is None


def test_unknown_accounts_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no account 99"):
        store.account(99)
    with pytest.raises(StoreError, match="no account 99"):
        store.delete_account(99)
    with pytest.raises(StoreError, match="no account 99"):
        store.export_account(99)
    with pytest.raises(StoreError):
        store.create_profile("Mum", {}, account=99)


def test_a_password_hash_can_be_replaced(store: Store) -> None:
    ann = _account(store, "ann@example.org")
    store.set_password_hash(ann, "$argon2id$new")
    found = store.credentials("ann@example.org")
    assert found is not None and found.password_hash == "$argon2id$new"


def test_logins_are_found_by_token_hash_and_forgotten(store: Store) -> None:
    ann = _account(store, "ann@example.org")
    store.create_login(ann, _token(1), "csrf-1", SOON)
    store.create_login(ann, _token(2), "csrf-2", datetime.now(UTC) - timedelta(seconds=1))
    found = store.login(_token(1))
    assert found is not None
    assert (found.account_id, found.email, found.csrf_token) == (ann, "ann@example.org", "csrf-1")
    assert found.expires_at.tzinfo is not None
    assert store.login(_token(3)) is None
    assert store.login("not a hash") is None
    assert store.delete_expired_logins() == 1
    assert store.login(_token(2)) is None
    store.delete_login(_token(1))
    assert store.login(_token(1)) is None
    with pytest.raises(StoreError, match="sha256"):
        store.create_login(ann, "abc", "csrf", SOON)


def test_login_failures_are_counted_per_key_and_forgotten(store: Store) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(hours=1)
    store.record_login_failure("email:a@b.c", "ip:1.2.3.4", at=old)
    store.record_login_failure("email:a@b.c", "ip:1.2.3.4", at=now)
    since = now - timedelta(minutes=15)
    assert store.login_failures("email:a@b.c", since=since) == [now]
    assert len(store.login_failures("email:a@b.c", since=old)) == 2
    # Old rows go when a newer failure is recorded with forget_before.
    store.record_login_failure("ip:5.6.7.8", at=now, forget_before=since)
    assert len(store.login_failures("email:a@b.c", since=old)) == 1
    store.clear_login_failures("email:a@b.c")
    assert store.login_failures("email:a@b.c", since=old) == []
    assert store.login_failures("ip:1.2.3.4", since=old) == [now]


# ------------------------------------------------------------------------------ ownership


def test_profile_names_are_unique_per_owner(store: Store) -> None:
    ann, bob = _account(store, "ann@example.org"), _account(store, "bob@example.org")
    local = store.create_profile("Mum", {})
    for_ann = store.create_profile("Mum", {}, account=ann)
    for_bob = store.create_profile("Mum", {}, account=bob)
    assert len({local, for_ann, for_bob}) == 3
    for owner in (None, ann, bob):
        with pytest.raises(StoreError, match="'Mum' already exists"):
            store.create_profile("Mum", {}, account=owner)
    assert store.profile("Mum").id == local
    assert store.profile("Mum", account=ann).id == for_ann
    assert [p.id for p in store.profiles(account=bob)] == [for_bob]


def _refusal(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(StoreError) as refused:
        call(*args, **kwargs)
    return str(refused.value)


def test_another_accounts_data_is_exactly_like_missing_data(store: Store) -> None:
    ann, bob = _account(store, "ann@example.org"), _account(store, "bob@example.org")
    anns = _fill(store, ann)
    locals_ = _fill(store, None)
    no_profile, no_session = 10_000, "f" * 32

    for other in (bob, None):
        # Reading: the very message an id that does not exist gets (with its own id in it).
        for key in (anns["profile"], "Mum" if other == bob else "Nobody"):
            missing = no_profile if isinstance(key, int) else "Nobody2"
            assert _refusal(store.profile, key, account=other) == _refusal(
                store.profile, missing, account=other
            ).replace(repr(missing), repr(key))
        for session in (anns["running"], anns["finished"]):
            for method in (store.session, store.events, store.numbered_events):
                assert _refusal(method, session, account=other) == _refusal(
                    method, no_session, account=other
                ).replace(no_session, session)
        # Changing: the same refusals, and nothing changed.
        assert _refusal(
            store.update_profile, anns["profile"], {"stolen": True}, account=other
        ) == _refusal(store.update_profile, no_profile, {}, account=other).replace(
            str(no_profile), str(anns["profile"])
        )
        for change in (
            lambda s, o: store.append_event(s, MORE, account=o),
            lambda s, o: store.end_session(s, "stopped", {}, account=o),
        ):
            assert _refusal(change, anns["running"], other) == _refusal(
                change, no_session, other
            ).replace(no_session, anns["running"])
        assert _refusal(store.start_session, PLAN, anns["profile"], account=other) == _refusal(
            store.start_session, PLAN, no_profile, account=other
        ).replace(str(no_profile), str(anns["profile"]))
        with pytest.raises(StoreError, match="no session id starts with"):
            store.find_session(anns["running"][:8], account=other)
        # Listing: none of it.
        listed = {s.id for s in store.sessions(500, account=other)}
        assert not listed & {anns["running"], anns["finished"]}
        assert store.sessions(500, profile_id=anns["profile"], account=other) == []
        assert anns["profile"] not in {p.id for p in store.profiles(account=other)}
        unfinished = store.last_unfinished(account=other)
        assert unfinished is None or unfinished.id != anns["running"]

    # Ann's data is untouched and hers alone; the local data is the local owner's.
    assert store.profile(anns["profile"], account=ann).data["secret"] == f"Mum-{ann}"
    assert store.events(anns["running"], account=ann) == [MORE, FELT]
    assert store.session(anns["running"], account=ann).running
    assert {s.id for s in store.sessions(account=ann)} == {anns["running"], anns["finished"]}
    assert store.find_session(anns["running"][:8], account=ann).id == anns["running"]
    last = store.last_unfinished(account=ann)
    assert last is not None and last.id == anns["running"]
    assert {s.id for s in store.sessions()} == {locals_["running"], locals_["finished"]}
    with pytest.raises(StoreError, match="no session"):
        store.session(locals_["running"], account=ann)


def test_a_session_cannot_use_another_owners_profile(store: Store) -> None:
    ann, bob = _account(store, "ann@example.org"), _account(store, "bob@example.org")
    anns = store.create_profile("Mum", {}, account=ann)
    with pytest.raises(StoreError, match=f"no profile {anns}"):
        store.start_session(PLAN, anns, account=bob)
    with pytest.raises(StoreError, match=f"no profile {anns}"):
        store.start_session(PLAN, anns)
    assert store.sessions(account=bob) == store.sessions() == []


# ------------------------------------------------------------------------------ export, delete


def test_the_export_holds_everything_the_account_owns_and_nothing_else(store: Store) -> None:
    ann, bob = _account(store, "ann@example.org"), _account(store, "bob@example.org")
    anns = _fill(store, ann)
    bobs = _fill(store, bob)
    store.create_login(ann, _token(1), "csrf", SOON)
    exported = store.export_account(ann)
    text_form = json.dumps(exported, allow_nan=False)  # JSON-able as it is
    assert exported["format"] == "backrub.account-export"
    assert exported["account"]["email"] == "ann@example.org"
    assert HASH not in text_form and "password" not in text_form
    assert _token(1) not in text_form and "csrf" not in text_form
    assert [p["id"] for p in exported["profiles"]] == [anns["profile"]]
    assert exported["profiles"][0]["data"]["secret"] == f"Mum-{ann}"
    sessions = {s["id"]: s for s in exported["sessions"]}
    assert set(sessions) == {anns["running"], anns["finished"]}
    running = sessions[anns["running"]]
    assert running["plan"] == PLAN
    assert running["profile_id"] == anns["profile"]
    assert [(e["seq"], e["kind"], e["value"]) for e in running["events"]] == [
        (1, "more", None),
        (2, "felt", 4),
    ]
    assert sessions[anns["finished"]]["summary"] == {"worked_seconds": 42}
    assert sessions[anns["finished"]]["status"] == "finished"
    for value in (f"Mum-{bob}", bobs["running"], bobs["finished"], "bob@example.org"):
        assert value not in text_form


def _every_row(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table the app defines, as text, by table."""
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            found[table.name] = [json.dumps([str(v) for v in row]) for row in rows]
    return found


def _owned_rows(engine: Engine, account: int, traces: list[str]) -> list[str]:
    """Rows that name the account (as owner) or hold any of its traces (ids, e-mail, data)."""
    with engine.connect() as connection:
        return rows_naming(connection, account, traces)


@pytest.mark.parametrize("foreign_keys", [True, False], ids=["cascades", "no-foreign-keys"])
def test_deleting_an_account_leaves_nothing_of_it_in_any_table(
    database_url: str, foreign_keys: bool
) -> None:
    Store.open(database_url).close()  # the schema
    url = make_url(database_url)
    if foreign_keys or url.get_backend_name() != "sqlite":
        engine = writer_engine(url)
    else:  # SQLite as another program might open it: no cascades at all
        engine = create_engine(url)
        engine = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
    store = Store(engine, str(url))
    try:
        ann, bob = _account(store, "ann@example.org"), _account(store, "bob@example.org")
        anns = _fill(store, ann)
        _fill(store, bob)
        locals_ = _fill(store, None)
        store.create_login(ann, _token(1), "csrf-ann", SOON)
        store.create_login(bob, _token(2), "csrf-bob", SOON)
        store.record_login_failure("email:ann@example.org", at=datetime.now(UTC))
        before = _every_row(engine)
        traces = [
            "ann@example.org",
            f"Mum-{ann}",
            anns["running"],
            anns["finished"],
            _token(1),
            "csrf-ann",
        ]
        assert _owned_rows(engine, ann, traces)

        store.delete_account(ann)

        assert _owned_rows(engine, ann, traces) == []
        after = _every_row(engine)
        for table, rows in after.items():
            assert set(rows) <= set(before[table]), table  # only deletions
        # Everyone else's data is whole.
        assert store.events(locals_["running"]) == [MORE, FELT]
        assert len(store.sessions(account=bob)) == 2
        assert store.login(_token(2)) is not None
        assert store.credentials("ann@example.org") is None
        # A new account never gets the deleted one's id.
        assert _account(store, "cy@example.org") > bob
    finally:
        store.close()


# ------------------------------------------------------------------------------ upgrade


def _upgrade_to(url: str, revision: str) -> None:
    engine = writer_engine(make_url(url)).execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    config = migration_config()
    try:
        with engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def test_a_database_from_0001_is_upgraded_in_place_with_its_data(database_url: str) -> None:
    _upgrade_to(database_url, "0001")
    engine = writer_engine(make_url(database_url))
    when = "2025-01-01 10:00:00"
    with engine.connect() as connection, connection.begin():
        connection.execute(
            text(
                "INSERT INTO profiles (name, created_at, data) VALUES "
                "('Ann', :when, '{\"minutes\": 20}'), ('Bob', :when, '{}')"
            ),
            {"when": when},
        )
        ids = dict(connection.execute(text("SELECT name, id FROM profiles")).all())
        connection.execute(
            text(
                "INSERT INTO sessions (id, profile_id, created_at, status, plan, summary) VALUES "
                "(:a, :ann, :when, 'running', :plan, NULL), "
                "(:b, :bob, :when, 'finished', :plan, '{\"worked_seconds\": 5}'), "
                "(:c, NULL, :when, 'stopped', :plan, NULL)"
            ),
            {
                "a": "a" * 32,
                "b": "b" * 32,
                "c": "c" * 32,
                "ann": ids["Ann"],
                "bob": ids["Bob"],
                "when": when,
                "plan": json.dumps(PLAN),
            },
        )
        connection.execute(
            text(
                "INSERT INTO events (session_id, seq, at, kind, region, value, recorded_at) "
                "VALUES (:a, 1, 1.0, 'more', NULL, NULL, :when), "
                "(:a, 2, 2.0, 'felt', NULL, 4, :when), (:b, 1, 1.0, 'more', NULL, NULL, :when)"
            ),
            {"a": "a" * 32, "b": "b" * 32, "when": when},
        )
    engine.dispose()

    with Store.open(database_url) as store:
        assert [p.name for p in store.profiles()] == ["Ann", "Bob"]
        assert store.profile("Ann").data == {"minutes": 20}
        assert store.session("a" * 32).profile_id == ids["Ann"]  # links kept
        assert store.session("b" * 32).profile_id == ids["Bob"]
        assert store.session("b" * 32).summary == {"worked_seconds": 5}
        assert store.session("c" * 32).profile_id is None
        assert store.events("a" * 32) == [MORE, FELT]
        assert len(store.events("b" * 32)) == 1
        # The old data is the local owner's; an account starts empty.
        ann = _account(store, "ann@example.org")
        assert store.profiles(account=ann) == [] and store.sessions(account=ann) == []
        store.create_profile("Ann", {}, account=ann)  # names are per owner now

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    assert revision == head_revision()


# ------------------------------------------------------------------------------ passwords


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Ann@Example.org", "ann@example.org"), ("  b.c@d.co.uk ", "b.c@d.co.uk")],
)
def test_email_addresses_are_trimmed_and_lower_cased(given: str, expected: str) -> None:
    assert check_email(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "ann",
        "ann@",
        "@example.org",
        "ann@example",
        "a@b@c.org",
        "ann@.org",
        "a b@c.org",
        "ann\x00@example.org",
        "ann@exa\x1bmple.org",
        "ann@example..org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_what_is_not_an_email_address_is_refused(given: str) -> None:
    with pytest.raises(AccountError) as refused:
        check_email(given)
    assert refused.value.where == "email"


@pytest.mark.parametrize(
    ("password", "phrase"),
    [
        ("short", "at least 10 characters"),
        ("aaaaaaaaaaaa", "one character repeated"),
        ("ann@example.org", "e-mail"),
        ("Password123", "most common"),
        ("x" * 2000, "too long"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, phrase: str) -> None:
    with pytest.raises(AccountError, match=phrase) as refused:
        check_password(password, "ann@example.org")
    assert refused.value.where == "password"


@pytest.fixture
def production_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hashing as a real server does: without the test suite's cheap parameters (conftest.py)."""
    monkeypatch.delenv(INSECURE_HASHES_VARIABLE, raising=False)
    passwords._hasher.cache_clear()
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher.cache_clear()
    passwords._dummy_hash.cache_clear()


def test_passwords_are_hashed_with_argon2id_and_verified(production_hashes: None) -> None:
    check_password("correct horse battery", "ann@example.org")
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterY")
    assert not verify_password(None, "correct horse battery")  # no account: a dummy check
    assert not verify_password("not a hash", "anything")
    assert not needs_rehash(hashed)
    weaker = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$" + "A" * 22
    assert needs_rehash(weaker)
    # RFC 9106's low-memory parameters (64 MiB, 3 passes, 4 lanes), the dummy hash's too.
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY
    assert extract_parameters(passwords._dummy_hash()) == profiles.RFC_9106_LOW_MEMORY


def test_a_hash_made_with_the_test_suites_cheap_parameters_verifies_and_is_replaced(
    production_hashes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 writes the parameters into the hash: one made the tests' cheap way verifies with
    the strong parameters, and a log-in in production replaces it (needs_rehash)."""
    monkeypatch.setenv(INSECURE_HASHES_VARIABLE, "1")
    cheap = hash_password("correct horse battery")
    assert extract_parameters(cheap) == profiles.CHEAPEST
    monkeypatch.setenv(INSECURE_HASHES_VARIABLE, "yes")  # only "1" makes them cheap
    passwords._hasher.cache_clear()
    assert not passwords.insecure_hashes()
    assert verify_password(cheap, "correct horse battery")
    assert not verify_password(cheap, "correct horse batterY")
    assert needs_rehash(cheap)
