"""One exception hierarchy for calsync.

Every error a user can cause or meet derives from :class:`CalsyncError` and knows how to say
what went wrong and how to fix it; :func:`calsync.cli.errors.user_message` is the one place that
turns them into the lines a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass


class CalsyncError(Exception):
    """Base class: an error with a message meant for a person, and an exit code."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message, one problem per line."""
        return [str(self)]


@dataclass(frozen=True)
class PolicyProblem:
    """One problem in a policy file: where it is, what is wrong, how to fix it."""

    file: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        # One problem, one line: quoted keys may hold newlines or other control characters.
        return _one_line(f"{self.file}: {self.key}: {self.message} ({self.fix})")


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PolicyError(CalsyncError):
    """One or more problems in the policy files; exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class HolidayDataError(PolicyError):
    """A holiday data file is malformed; reported like a policy problem."""


class UsageError(CalsyncError):
    """Bad command-line input (dates, unknown organization ...); exit code 2."""

    exit_code = 2


class OutputError(CalsyncError):
    """Writing results failed (disk full, permissions ...)."""

    exit_code = 1


class StoreError(CalsyncError):
    """The database could not be opened, migrated or written (bad URL, server down, stale data)."""

    exit_code = 1


class ConcurrentChange(StoreError):
    """Someone else saved the same record while it was being edited (optimistic locking).

    The message names what changed and asks the user to reload the page; exit code 1.
    """
