"""The Alembic environment for the store's schema; `backrub.store.schema` runs it, no ini needed.

After changing `tables.py`, write the next revision against a scratch database at head:

    export BACKRUB_DATABASE_URL=sqlite:////tmp/scratch.sqlite3
    .venv/bin/python -c "from backrub.store import Store; Store.open().close()"
    .venv/bin/alembic -c src/backrub/store/migrations/alembic.ini revision --autogenerate \\
        --rev-id 0002 -m "what changed"

then read `versions/0002_what_changed.py` and keep the constraint names Alembic wrote (`op.f`,
from `tables.NAMING_CONVENTION`). `alembic ... check` says whether tables and migrations agree,
as `tests/test_store.py` does. A revision never imports `backrub`: it must keep working after the
models move on.
"""
