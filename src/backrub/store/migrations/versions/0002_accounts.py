"""Accounts for hosted mode: accounts, logins, login failures, and owners of profiles and sessions.

`profiles.account_id` and `sessions.account_id` are NULL for the local, unowned data that every
database from 0001 holds, so an upgrade keeps all of it as it was. Profile names become unique
per owner instead of across the whole database (a partial index keeps the unowned ones unique).

SQLite cannot add a foreign key or drop a unique constraint in place: Alembic's batch mode
rebuilds the table (copy, drop, rename). The upgrade runs in one transaction, where
`PRAGMA foreign_keys=OFF` has no effect, so dropping the old tables runs their foreign key
actions: `profiles` would set every `sessions.profile_id` to NULL and `sessions` would delete
every event. On SQLite both are copied to temporary tables first and put back afterwards, in
the same transaction: all or nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAVED_LINKS = "backrub_0002_session_profiles"
SAVED_EVENTS = "backrub_0002_events"
_LINKS = "SELECT id, profile_id FROM sessions WHERE profile_id IS NOT NULL"
_EVENT_COLUMNS = "id, session_id, seq, at, kind, region, value, recorded_at"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "logins",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_logins")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_logins_account_id_accounts"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_logins_account_id"), "logins", ["account_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_key_at"), "login_failures", ["key", "at"])

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(f"CREATE TEMPORARY TABLE {SAVED_LINKS} AS {_LINKS}")
        op.execute(f"CREATE TEMPORARY TABLE {SAVED_EVENTS} AS SELECT {_EVENT_COLUMNS} FROM events")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_constraint(op.f("uq_profiles_name"), type_="unique")
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_profiles_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(op.f("uq_profiles_account_id_name"), ["account_id", "name"])
        batch.create_index(op.f("ix_profiles_account_id"), ["account_id"])
        batch.create_index(
            "uq_profiles_name_unowned",
            ["name"],
            unique=True,
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_sessions_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_sessions_account_id"), ["account_id"])
    if sqlite:
        op.execute(
            f"UPDATE sessions SET profile_id = (SELECT saved.profile_id FROM {SAVED_LINKS} "
            "AS saved WHERE saved.id = sessions.id) "
            f"WHERE id IN (SELECT id FROM {SAVED_LINKS})"
        )
        op.execute(
            f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM {SAVED_EVENTS} "
            "WHERE id NOT IN (SELECT id FROM events)"
        )
        op.execute(f"DROP TABLE {SAVED_LINKS}")
        op.execute(f"DROP TABLE {SAVED_EVENTS}")


def downgrade() -> None:
    """Back to 0001: only on PostgreSQL, and only for a database without accounts.

    On SQLite, keep a copy of the file from before the upgrade instead.
    """
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        raise RuntimeError(
            "schema 0002 is not undone on SQLite; restore a copy of the database file made "
            "before the upgrade"
        )
    if bind.execute(sa.text("SELECT COUNT(*) FROM accounts")).scalar():
        raise RuntimeError(
            "cannot go back to schema 0001: this database holds accounts, and 0001 has no "
            "place for them"
        )
    op.drop_index(op.f("ix_sessions_account_id"), table_name="sessions")
    op.drop_constraint(op.f("fk_sessions_account_id_accounts"), "sessions", type_="foreignkey")
    op.drop_column("sessions", "account_id")
    op.drop_index("uq_profiles_name_unowned", table_name="profiles")
    op.drop_index(op.f("ix_profiles_account_id"), table_name="profiles")
    op.drop_constraint(op.f("uq_profiles_account_id_name"), "profiles", type_="unique")
    op.drop_constraint(op.f("fk_profiles_account_id_accounts"), "profiles", type_="foreignkey")
    op.drop_column("profiles", "account_id")
    op.create_unique_constraint(op.f("uq_profiles_name"), "profiles", ["name"])
    op.drop_index(op.f("ix_login_failures_key_at"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_logins_account_id"), table_name="logins")
    op.drop_table("logins")
    op.drop_table("accounts")
