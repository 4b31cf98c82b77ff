"""Typed access to parsed TOML that collects problems instead of raising at the first one.

Every accessor takes a dotted key path for the message, so an error names the file, the key
and the fix, e.g. ``meetings.toml: meeting_types.zhoulihui.time: "9:3O" is not a time
(write HH:MM in 24-hour form, e.g. "09:30")``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from calsync.errors import PolicyProblem

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ID = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

_MISSING = object()


class Reader:
    """Reads one policy file; ``problems`` accumulates what is wrong."""

    def __init__(self, path: Path, label: str, problems: list[PolicyProblem]) -> None:
        self.path = path
        self.label = label  # how the file is named in messages, e.g. "guanliban/meetings.toml"
        self.problems = problems
        self.data: dict[str, Any] = {}

    def load(self) -> bool:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.problem("(file)", "file is missing", f"create {self.label}")
            return False
        except OSError as exc:
            self.problem("(file)", f"cannot be read: {exc.strerror}", "check its permissions")
            return False
        try:
            # utf-8-sig: files saved by older Windows editors start with a BOM.
            self.data = tomllib.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.problem("(file)", "is not UTF-8 text", "save the file as UTF-8")
            return False
        except tomllib.TOMLDecodeError as exc:
            self.problem("(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax at that line")
            return False
        return True

    def problem(self, key: str, message: str, fix: str) -> None:
        self.problems.append(PolicyProblem(self.label, key, message, fix))

    # -- lookups ---------------------------------------------------------------------------
    def get(self, table: dict[str, Any], path: str, name: str, default: Any = _MISSING) -> Any:
        if name in table:
            return table[name]
        if default is _MISSING:
            self.problem(_join(path, name), "is required but missing", f"add `{name} = …`")
            return None
        return default

    def table(self, table: dict[str, Any], path: str, name: str, required: bool = True) -> dict:
        value = self.get(table, path, name, _MISSING if required else {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(_join(path, name), f"must be a table, not {_kind(value)}",
                         f"write it as [{_join(path, name)}] with keys below it")
            return {}
        return value

    def text(self, table: dict, path: str, name: str, default: Any = _MISSING) -> str | None:
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if not isinstance(value, str) or not value.strip():
            self.problem(_join(path, name), f"must be non-empty text, not {_kind(value)}",
                         f'write {name} = "…"')
            return None
        return value.strip()

    def text_list(self, table: dict, path: str, name: str, default: Any = _MISSING) -> list[str]:
        if name not in table:
            return self.get(table, path, name, default) or []
        value = table[name]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(_join(path, name), f"must be a list of texts, not {_kind(value)}",
                         f'write {name} = ["…", "…"]')
            return []
        return list(value)

    def ident(self, table: dict, path: str, name: str, default: Any = _MISSING) -> str | None:
        value = self.text(table, path, name, default)
        if name in table and value is not None and not _ID.match(value):
            self.problem(_join(path, name), f"{value!r} is not a valid id",
                         "use lower-case ASCII letters, digits, '_' or '-', starting with a letter")
            return None
        return value

    def check_id(self, path: str, value: str) -> bool:
        if not _ID.match(value):
            self.problem(path, f"{value!r} is not a valid id",
                         "use lower-case ASCII letters, digits, '_' or '-', starting with a letter")
            return False
        return True

    def integer(self, table: dict, path: str, name: str, low: int, high: int,
                default: Any = _MISSING) -> int | None:
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(_join(path, name), f"must be a whole number from {low} to {high}, "
                         f"not {value!r}", f"write {name} = {max(low, min(high, 1))} or similar")
            return None
        return value

    def boolean(self, table: dict, path: str, name: str, default: Any = _MISSING) -> bool | None:
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if not isinstance(value, bool):
            self.problem(_join(path, name), f"must be true or false, not {value!r}",
                         f"write {name} = true or {name} = false (no quotes)")
            return None
        return value

    def time(self, table: dict, path: str, name: str, default: Any = _MISSING) -> dt.time | None:
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if isinstance(value, dt.time):
            return value.replace(second=0, microsecond=0)
        if isinstance(value, str) and (m := _TIME.match(value)):
            return dt.time(int(m.group(1)), int(m.group(2)))
        self.problem(_join(path, name), f"{value!r} is not a time",
                     'write HH:MM in 24-hour form, e.g. "09:30"')
        return None

    def date(self, table: dict, path: str, name: str, default: Any = _MISSING) -> dt.date | None:
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(_join(path, name), f"{value!r} is not a date",
                     "write a TOML date without quotes, e.g. 2026-01-07")
        return None

    def choice(self, table: dict, path: str, name: str, choices: Iterable[str],
               default: Any = _MISSING) -> str | None:
        options = tuple(choices)
        if name not in table:
            return self.get(table, path, name, default)
        value = table[name]
        if value not in options:
            self.problem(_join(path, name), f"{value!r} is not one of {', '.join(options)}",
                         f'write {name} = "{options[0]}" or another of those')
            return None
        return value

    def weekday(self, table: dict, path: str, name: str, default: Any = _MISSING) -> int | None:
        value = self.choice(table, path, name, WEEKDAYS, default)
        return None if value is None else WEEKDAYS.index(value)

    def unknown_keys(self, table: dict, path: str, allowed: Iterable[str]) -> None:
        """Misspelled keys are reported, not silently ignored."""
        known = set(allowed)
        for key in table:
            if key not in known:
                self.problem(_join(path, key), "is not a known key",
                             f"remove it or use one of: {', '.join(sorted(known))}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
