"""Errors a user can cause: each one carries where it happened and what was expected."""

from __future__ import annotations


class BackrubError(Exception):
    """A problem with the user's input, worth a one-line message and no traceback."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class DataFileError(BackrubError):
    """A data file (atlas, routine, profile, screening) that cannot be read or is invalid."""


class UnknownNameError(BackrubError):
    """A region, activity, routine or question name that does not exist."""


class PlanningError(BackrubError):
    """A plan cannot be made from the request (impossible budget, nothing left to work on...)."""
