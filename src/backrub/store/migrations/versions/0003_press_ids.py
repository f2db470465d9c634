"""Press ids: a device's own id for each press, so a press sent twice is stored once.

`events.press_id` is NULL for every event stored before (and for the events that carry no id
since: save points, the terminal guide's keys), so an upgrade keeps the log exactly as it was.
A unique index on (session_id, press_id) lets no session hold one press twice; NULLs never
clash in it, on SQLite or PostgreSQL. Both steps change the table in place on SQLite too
(`ADD COLUMN`, `CREATE INDEX`): no copy of the events, no foreign key actions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_events_session_id_press_id"


def upgrade() -> None:
    op.add_column("events", sa.Column("press_id", sa.String(64), nullable=True))
    op.create_index(INDEX, "events", ["session_id", "press_id"], unique=True)


def downgrade() -> None:
    """Back to 0002: the ids go, the events stay (a press stored once stays once)."""
    op.drop_index(INDEX, table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("press_id")
