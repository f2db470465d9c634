"""Receivers' profiles: saved under a name unique to their owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backrub.store.base import NUL, StoreBase, _get, _json_object, _owned_by, _owned_row, _storable
from backrub.store.errors import StoreError
from backrub.store.failures import _is_duplicate
from backrub.store.records import ProfileRecord
from backrub.store.tables import NAME_LENGTH, ProfileRow


class ProfileMethods(StoreBase):
    """The store's profiles (part of `Store`)."""

    def create_profile(self, name: str, data: dict[str, Any], *, account: int | None = None) -> int:
        """Save a new receiver profile under a name unique to its owner; returns its id."""
        name = _profile_name(name)
        data = _json_object(data, "profile data")
        taken_message = f"a profile named {name!r} already exists"
        try:
            with self._writing() as db:
                taken = select(ProfileRow.id).where(
                    ProfileRow.name == name, _owned_by(ProfileRow.account_id, account)
                )
                if db.scalar(taken) is not None:
                    raise StoreError(taken_message, where=self.location)
                if account is not None:
                    self._account_row(db, account)
                row = ProfileRow(name=name, data=data, account_id=account)
                db.add(row)
                db.flush()
                return row.id
        except StoreError as error:
            if _is_duplicate(error):  # another process saved the same name a moment ago
                raise StoreError(taken_message, where=self.location) from None
            raise

    def profile(self, id_or_name: int | str, *, account: int | None = None) -> ProfileRecord:
        """The owner's profile with this id (an int) or this name (a str)."""
        with self._reading() as db:
            if isinstance(id_or_name, int):
                row = _owned_row(_get(db, ProfileRow, id_or_name), account)
            elif NUL in id_or_name:
                row = None  # no profile has such a name (and PostgreSQL refuses to look)
            else:
                row = db.scalar(
                    select(ProfileRow).where(
                        ProfileRow.name == id_or_name, _owned_by(ProfileRow.account_id, account)
                    )
                )
            if row is None:
                raise StoreError(f"no profile {id_or_name!r}", where=self.location)
            return _profile_record(row)

    def profiles(self, *, account: int | None = None) -> list[ProfileRecord]:
        """Every profile of the owner, by name."""
        with self._reading() as db:
            rows = db.scalars(
                select(ProfileRow)
                .where(_owned_by(ProfileRow.account_id, account))
                .order_by(ProfileRow.name, ProfileRow.id)
            )
            return [_profile_record(row) for row in rows]

    def update_profile(
        self, profile_id: int, data: dict[str, Any], *, account: int | None = None
    ) -> None:
        """Replace a profile's saved fields."""
        data = _json_object(data, "profile data")
        with self._writing() as db:
            row = _owned_row(_get(db, ProfileRow, profile_id, for_update=True), account)
            if row is None:
                raise StoreError(f"no profile {profile_id!r}", where=self.location)
            row.data = data


def _profile_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise StoreError("a profile needs a name")
    if len(cleaned) > NAME_LENGTH:
        raise StoreError(f"a profile name has at most {NAME_LENGTH} characters")
    return _storable(cleaned, "name")


def _profile_record(row: ProfileRow) -> ProfileRecord:
    return ProfileRecord(id=row.id, name=row.name, created_at=row.created_at, data=row.data)
