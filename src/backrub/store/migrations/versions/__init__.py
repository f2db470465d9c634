"""Alembic revisions, one file each, oldest first (Alembic skips this `__init__`)."""
