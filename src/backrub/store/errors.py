"""The errors the store raises: a database that cannot be opened, read or written as asked."""

from __future__ import annotations

from backrub.errors import BackrubError


class StoreError(BackrubError):
    """A database problem worth a one-line message: refused, unknown, damaged or unreachable."""


class OutOfDate(StoreError):
    """An append that lost a race: another process stored an event first. Catch up, retry."""


class EmailTaken(StoreError):
    """Sign-up with an e-mail address that already has an account; nothing was changed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or cannot write just now: it is restarting, a connection
    was cut, its disk is full, or it is busy past the time limits. Worth trying again later; the
    transaction was rolled back (unless the connection broke during the commit itself, when the
    database alone knows whether it was kept)."""


class AlreadyStored(StoreError):
    """A press whose id the session holds already: it was sent again (its first reply was lost,
    or its commit broke after the database kept it). Nothing was stored this time; `seq` is the
    stored event's sequence number."""

    def __init__(self, message: str, *, seq: int, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.seq = seq
