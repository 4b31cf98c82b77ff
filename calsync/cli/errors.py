"""The one place that turns errors into what a person reads (cf. vdirsyncer's
``cli/utils.py handle_cli_error``): a message that names the fix, an exit code, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from calsync.errors import CalsyncError, PolicyError


def user_message(exc: BaseException) -> tuple[list[str], int]:
    """Lines to print and the exit code for an error."""
    if isinstance(exc, PolicyError):
        return exc.lines(), exc.exit_code  # already `FILE: KEY: problem (fix)`
    if isinstance(exc, CalsyncError):
        return [f"calsync: error: {line}" for line in exc.lines()], exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ["calsync: interrupted"], 130
    if isinstance(exc, BrokenPipeError):
        return [], 0  # `calsync occurrences | head` is not an error
    raise exc


def run_guarded(action: Callable[[], int]) -> int:
    try:
        return action()
    except (CalsyncError, KeyboardInterrupt, BrokenPipeError) as exc:
        lines, code = user_message(exc)
        for line in lines:
            print(line, file=sys.stderr)
        return code
