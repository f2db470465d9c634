"""A receiver saved in the database, as `--receiver NAME` reads it for `plan` and `guide`.

Apart from the profile files (cli/profile.py) so that a command given no saved receiver loads
neither this nor the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backrub.errors import BackrubError

if TYPE_CHECKING:
    from backrub.planner.history import SessionDigest
    from backrub.store import ProfileRecord


@dataclass(frozen=True)
class SavedReceiver:
    """A receiver saved in the database: their record, choices as request fields, and past."""

    record: ProfileRecord
    choices: dict[str, Any]
    history: list[SessionDigest] = field(default_factory=list)


def saved_receiver(name: str, profile: Path | None) -> SavedReceiver:
    """The saved receiver of this name (`--receiver`); exit 2 with the saved names if none."""
    # The store (SQLAlchemy) is imported only when a saved receiver is asked for.
    from backrub.store import Store, StoreError
    from backrub.store.history import receiver_history, saved_choices

    if profile is not None:
        raise BackrubError("give a profile file or a saved receiver, not both", where="--receiver")
    with Store.open() as store:
        try:
            record = store.profile(name.strip())
        except StoreError:
            known = ", ".join(repr(p.name) for p in store.profiles()) or "none yet"
            raise BackrubError(
                f"no saved receiver named {name!r} (saved receivers: {known})", where="--receiver"
            ) from None
        history = receiver_history(store, record.id)
    return SavedReceiver(record, {**saved_choices(record), "receiver": record.name}, history)
