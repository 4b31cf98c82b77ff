"""Every ``CALSYNC_*`` setting and every path calsync computes, defined once: :class:`Settings`.

``Settings.from_env(environ, **overrides)`` reads the variables (``os.environ`` by default);
an override — a command-line option, or a ``create_app(config)`` key named like the variable —
wins over the variable, and the variable over the default. An empty option or variable counts
as unset (``option or variable or default``, as each reader used to spell it). The CLI builds
the object once from its options (``calsync.cli.settings_of``); ``calsync serve`` hands it to
the web app (``create_app``, app config ``CALSYNC_SETTINGS``) and to its scheduler. No other
module reads a ``CALSYNC_*`` variable (tests/unit/test_settings_reads.py).

docs/configuration.md is generated from this module (``python3 -m calsync.settings
--markdown``); tests/unit/test_settings_docs.py checks that the committed page is current.

Standard library only, so a command can find its files before it loads anything heavy: the
publish witness (calsync.cli.publish_witness) answers a no-op ``calsync publish`` before
SQLAlchemy, the HTTP client or the policy loader are imported.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The variables' names (each Settings field below says what it does).
ENV_POLICIES = "CALSYNC_POLICIES"
ENV_INSTANCE = "CALSYNC_INSTANCE"
ENV_DATABASE_URL = "CALSYNC_DATABASE_URL"
ENV_CALDAV_URL = "CALSYNC_CALDAV_URL"
ENV_CALDAV_USERNAME = "CALSYNC_CALDAV_USERNAME"
ENV_CALDAV_PASSWORD = "CALSYNC_CALDAV_PASSWORD"
ENV_CALDAV_MAX_BYTES = "CALSYNC_CALDAV_MAX_BYTES"
ENV_SMTP_URL = "CALSYNC_SMTP_URL"
ENV_NOTICES = "CALSYNC_NOTICES"
ENV_PUBLIC_URL = "CALSYNC_PUBLIC_URL"
ENV_TRUSTED_PROXIES = "CALSYNC_TRUSTED_PROXIES"
ENV_SECRET_KEY = "CALSYNC_SECRET_KEY"
ENV_ADMIN_PASSWORD = "CALSYNC_ADMIN_PASSWORD"
ENV_SCHEDULER = "CALSYNC_SCHEDULER"
ENV_PUBLISH_INTERVAL = "CALSYNC_PUBLISH_INTERVAL_SECONDS"
ENV_WATCH = "CALSYNC_WATCH"
ENV_PARENT_PID = "CALSYNC_PARENT_PID"   # set by calsync serve for its CalDAV child
# The app config key that holds a web app's Settings (web/__init__.py: create_app).
SETTINGS_KEY = "CALSYNC_SETTINGS"

# -- the instance folder's layout: each name once --------------------------------------------
SQLITE_FILENAME = "calsync.sqlite3"
WITNESS_SUFFIX = ".publish-witness"
SECRET_KEY_FILE = "secret_key"
HOLIDAYS_DIR = "holidays"                  # also the holiday tables' folder in a policy folder
HOLIDAY_APPLICATIONS_DIR = "holiday-applications"
CALDAV_DIR = "caldav"
PASSWORD_FILE = "service-password"         # in CALDAV_DIR
OUTBOX_DIR = "outbox"
MINUTES_FILES_DIR = "minutes-files"
AGENDA_FILES_DIR = "agenda-files"
DIRECTORY_UPLOADS_DIR = "directory-uploads"
SERVE_LOCK_FILE = "serve.lock"
DEFAULT_INSTANCE = "instance"
DEFAULT_CALDAV_MAX_BYTES = 10_000_000

_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    """One ``CALSYNC_*`` variable, as docs/configuration.md lists it. ``option``: the
    command-line options that override it (their argparse ``dest`` is ``name``)."""

    name: str
    env: str
    kind: str
    default: str
    help: str
    option: str = ""


def _setting(env: str, kind: str, default: str, help: str, option: str = "") -> dict[str, Any]:
    return {"setting": Setting("", env, kind, default, help, option)}


@dataclass(frozen=True)
class Settings:
    """What a command or the service runs with. Build it with :meth:`from_env`."""

    policies: Path | None = field(default=None, metadata=_setting(
        ENV_POLICIES, "folder", "the policies shipped inside the package",
        "The policy folder: one folder per organization, and `holidays/`. The shipped "
        "policies are never written: the 通讯录 import and `calsync holidays import` need a "
        "folder of your own.", "`--policies DIR` (every command)"))
    instance: Path = field(default=Path(DEFAULT_INSTANCE), metadata=_setting(
        ENV_INSTANCE, "folder", "`./instance`",
        "The instance folder: everything calsync writes at run time (see Paths below); "
        "created private (0700).", "`--instance DIR` (commands that open the store)"))
    database_url: str | None = field(default=None, metadata=_setting(
        ENV_DATABASE_URL, "URL", "`<instance>/calsync.sqlite3`",
        "The store: `postgresql://user:password@host:5432/calsync` or "
        "`sqlite:///path/calsync.sqlite3`.", "`--database-url URL`"))
    caldav_url: str | None = field(default=None, metadata=_setting(
        ENV_CALDAV_URL, "URL",
        "none: `calsync serve` runs its own CalDAV server; `calsync publish` asks for one",
        "The calendar home on an external CalDAV server to publish to. Also read by "
        "`create_app()` (gunicorn) for the 发布 page and its scheduler.",
        "`--caldav-url URL` (serve, publish)"))
    caldav_username: str | None = field(default=None, metadata=_setting(
        ENV_CALDAV_USERNAME, "text", "none",
        "The user name on that CalDAV server.",
        "`--caldav-username` (serve), `--username` (publish)"))
    caldav_password: str | None = field(default=None, metadata=_setting(
        ENV_CALDAV_PASSWORD, "text", "none",
        "Its password; prefer the variable to the option (others can read a command line).",
        "`--caldav-password` (serve), `--password` (publish)"))
    caldav_max_bytes: int = field(default=DEFAULT_CALDAV_MAX_BYTES, metadata=_setting(
        ENV_CALDAV_MAX_BYTES, "bytes", "10000000 (10 MB)",
        "The largest request body the embedded CalDAV server reads (Radicale's "
        "`max_content_length`; 413 above it). A value that is not a positive number means "
        "the default."))
    smtp_url: str | None = field(default=None, metadata=_setting(
        ENV_SMTP_URL, "URL", "none: notices are written to `<instance>/outbox/`",
        "The mail server for meeting notices and attendance reports: `smtp://host[:25]`, "
        "`smtp+starttls://user:pass@host[:587]` or `smtps://user:pass@host[:465]`, "
        "`?timeout=SECONDS` (default 30); user and password percent-encoded. Setting it "
        "turns on the scheduler's notices.", "`--smtp-url URL` (notices send)"))
    notices: bool | None = field(default=None, metadata=_setting(
        ENV_NOTICES, "flag", "on when `CALSYNC_SMTP_URL` is set",
        "`1` (true, yes, on): the scheduler queues and sends notices after each publish even "
        "without SMTP (into the outbox folder); `0` (false, no, off): never, even with SMTP. "
        "The page and the CLI can always send."))
    public_url: str | None = field(default=None, metadata=_setting(
        ENV_PUBLIC_URL, "URL", "the address `calsync serve` listens on",
        "The page's public address, `https://host[:port][/prefix]`: every feed, webcal, "
        "sign-in and QR link and the links in mails start with it, never with a request's "
        "Host header. An https address makes the login cookie `Secure`."))
    trusted_proxies: str | None = field(default=None, metadata=_setting(
        ENV_TRUSTED_PROXIES, "number", "0",
        "How many reverse proxies in front of calsync set `X-Forwarded-*` (1 behind one "
        "nginx); set `CALSYNC_PUBLIC_URL` with it."))
    secret_key: str | None = field(default=None, metadata=_setting(
        ENV_SECRET_KEY, "text", "a random key kept in `<instance>/secret_key`",
        "The key that signs session cookies; the same on every machine of a deployment."))
    admin_password: str | None = field(default=None, metadata=_setting(
        ENV_ADMIN_PASSWORD, "text", "a generated one, printed once",
        "The first secretary's password, given by `calsync serve` when no secretary has one "
        "yet."))
    scheduler: bool = field(default=False, metadata=_setting(
        ENV_SCHEDULER, "flag", "off",
        "`1` (true, yes, on): `create_app()` starts its own publishing scheduler (gunicorn, "
        "where no `calsync serve` runs one), publishing to `CALSYNC_CALDAV_URL`."))
    publish_interval: str | None = field(default=None, metadata=_setting(
        ENV_PUBLISH_INTERVAL, "seconds",
        "the smallest `publish_interval_minutes` of the organizations (10 minutes)",
        "How often the scheduler publishes when nothing pokes it. A value that is not a "
        "number above 0 is ignored, with a warning."))
    watch: tuple[str, ...] = field(default=(), metadata=_setting(
        ENV_WATCH, "URLs", "none",
        "Space-separated URLs of read-only calendars the scheduler reads at each cycle, "
        "whose events count for clashes (`calsync publish --watch URL` for one publish)."))
    parent_pid: str | None = field(default=None, metadata=_setting(
        ENV_PARENT_PID, "number", "none",
        "Set by `calsync serve` for its CalDAV child, which exits when that process is gone; "
        "not for you to set."))

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> Settings:
        """The defaults, then the variables of ``environ``, then ``overrides`` (by field
        name, as :meth:`override` takes them)."""
        read: dict[str, Any] = {}
        for s in SETTINGS:
            raw = environ.get(s.env)
            if raw:
                read[s.name] = _parse(s.name, raw)
        return cls(**read).override(**overrides)

    def override(self, **overrides: Any) -> Settings:
        """A copy with the given settings replaced. An empty, zero or false value replaces
        nothing, as ``option or variable`` always read them."""
        unknown = sorted(set(overrides) - {s.name for s in SETTINGS})
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(unknown)}")
        given = {k: _parse(k, v) if isinstance(v, str) else _convert(k, v)
                 for k, v in overrides.items() if v}
        return dataclasses.replace(self, **given) if given else self

    # -- derived values ------------------------------------------------------------------------

    @property
    def notices_enabled(self) -> bool:
        """Whether the scheduler sends notices: ``CALSYNC_NOTICES``, else with SMTP."""
        if self.notices is not None:
            return self.notices
        return bool(self.smtp_url)

    def external_caldav(self) -> dict[str, str] | None:
        """The CalDAV server to publish to (url, username, password); None: none given."""
        if not self.caldav_url:
            return None
        return {"url": self.caldav_url, "username": self.caldav_username or "",
                "password": self.caldav_password or ""}

    # -- paths ---------------------------------------------------------------------------------

    @property
    def policies_dir(self) -> Path:
        return self.policies if self.policies is not None else shipped_policies()

    @property
    def instance_dir(self) -> Path:
        """The instance folder, absolute (not created here: calsync.store.db does)."""
        return self.instance.resolve()

    @property
    def sqlite_path(self) -> Path:
        return self.instance_dir / SQLITE_FILENAME

    @property
    def holidays_dir(self) -> Path:
        return self.instance_dir / HOLIDAYS_DIR

    @property
    def holiday_applications_dir(self) -> Path:
        return self.instance_dir / HOLIDAY_APPLICATIONS_DIR

    @property
    def caldav_dir(self) -> Path:
        return caldav_folder(self.instance_dir)

    @property
    def caldav_password_file(self) -> Path:
        return self.caldav_dir / PASSWORD_FILE

    @property
    def secret_key_file(self) -> Path:
        return self.instance_dir / SECRET_KEY_FILE

    @property
    def outbox_dir(self) -> Path:
        return self.instance_dir / OUTBOX_DIR

    @property
    def minutes_files_dir(self) -> Path:
        return self.instance_dir / MINUTES_FILES_DIR

    @property
    def agenda_files_dir(self) -> Path:
        return self.instance_dir / AGENDA_FILES_DIR

    @property
    def directory_uploads_dir(self) -> Path:
        return self.instance_dir / DIRECTORY_UPLOADS_DIR

    @property
    def serve_lock_file(self) -> Path:
        return self.instance_dir / SERVE_LOCK_FILE


SETTINGS: tuple[Setting, ...] = tuple(
    dataclasses.replace(f.metadata["setting"], name=f.name)
    for f in dataclasses.fields(Settings))


def _parse(name: str, raw: str) -> Any:
    """A variable's (or a config key's) text as the setting's value, as each reader has
    always taken it."""
    if name == "scheduler":
        return raw.lower() in _YES
    if name == "notices":
        flag = raw.strip().lower()
        return False if flag in _NO else True if flag in _YES else None
    if name == "caldav_max_bytes":
        try:
            value = int(raw)
        except ValueError:
            value = 0
        return value if value > 0 else DEFAULT_CALDAV_MAX_BYTES
    return _convert(name, raw)


def _convert(name: str, value: Any) -> Any:
    if name in ("policies", "instance"):
        return Path(value)
    if name == "watch":
        return tuple(value.split() if isinstance(value, str) else value)
    return value


# -- paths that need no Settings -------------------------------------------------------------

def shipped_policies() -> Path:
    """The policies that travel inside the package (``policies/`` in the repository)."""
    spec = importlib.util.find_spec("calsync.policies")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("calsync.policies is not installed (reinstall calsync)")
    return Path(spec.origin).parent


def caldav_folder(instance: Path) -> Path:
    """The embedded CalDAV server's folder of an instance folder."""
    return instance / CALDAV_DIR


def policies_path(arg: str | os.PathLike[str] | None = None) -> Path:
    """``--policies DIR``, else ``CALSYNC_POLICIES``, else the shipped policies."""
    return Settings.from_env(policies=arg).policies_dir


def instance_path(arg: Path | None = None) -> Path:
    """``--instance DIR``, else ``CALSYNC_INSTANCE``, else ``./instance`` (not created here)."""
    return Settings.from_env(instance=arg).instance


# -- the docs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PathEntry:
    where: str
    what: str
    kept_by: str
    attribute: str = ""     # the Settings property that computes it, if any


FOLDERS: tuple[PathEntry, ...] = (
    PathEntry("the policy folder", "`CALSYNC_POLICIES`, else the shipped policies; read, "
              "never written by the service; its `holidays/YYYY.toml` are the holiday tables",
              "`calsync/policy/`", "policies_dir"),
    PathEntry("the instance folder", "`CALSYNC_INSTANCE`, else `./instance`: everything "
              "calsync writes at run time; private (0700), the files that hold people's data "
              "0600", "`calsync/store/db.py` creates it", "instance_dir"),
)

# In the instance folder.
INSTANCE_PATHS: tuple[PathEntry, ...] = (
    PathEntry(f"`{SQLITE_FILENAME}` (and `-wal`, `-shm` while open)",
              "the store, unless `CALSYNC_DATABASE_URL` names another", "`calsync/store/db.py`",
              "sqlite_path"),
    PathEntry(f"`{SQLITE_FILENAME}{WITNESS_SUFFIX}`",
              "what the last settled `calsync publish` saw (a no-op then needs one request per "
              "collection)", "`calsync/cli/publish_witness.py`"),
    PathEntry(f"`{SECRET_KEY_FILE}`", "the session key, unless `CALSYNC_SECRET_KEY` is set",
              "`web/__init__.py`", "secret_key_file"),
    PathEntry(f"`{HOLIDAYS_DIR}/YYYY.toml`", "holiday notices applied on the 节假日 page; they "
              "overlay the policy folder's tables for every command and the page",
              "`web/holidays.py`, `calsync/policy/`", "holidays_dir"),
    PathEntry(f"`{HOLIDAY_APPLICATIONS_DIR}/YYYY.json`",
              "a holiday table waiting for the other organizations' confirmation",
              "`calsync/calendar/applications.py`", "holiday_applications_dir"),
    PathEntry(f"`{CALDAV_DIR}/`", "the embedded CalDAV server (Radicale): `collections/`, "
              "`port`, `grants.json`, `radicale.conf`, `radicale.log`",
              "`calsync/caldav_server/`", "caldav_dir"),
    PathEntry(f"`{CALDAV_DIR}/{PASSWORD_FILE}`", "the password of the service account "
              "`calsync` that publishes to the embedded server", "`calsync/caldav_server/`",
              "caldav_password_file"),
    PathEntry(f"`{OUTBOX_DIR}/NNNNNN-<method>.eml`",
              "notices written instead of sent (no `CALSYNC_SMTP_URL`)",
              "`calsync/notices/deliver.py`", "outbox_dir"),
    PathEntry(f"`{MINUTES_FILES_DIR}/`, `{AGENDA_FILES_DIR}/`",
              "uploaded minutes and agenda materials, under random names",
              "`web/minutes.py`, `web/agenda.py`", "minutes_files_dir"),
    PathEntry(f"`{DIRECTORY_UPLOADS_DIR}/`", "a 通讯录 between its preview and 确认导入",
              "`web/directory.py`", "directory_uploads_dir"),
    PathEntry(f"`{SERVE_LOCK_FILE}`, `publish-<org>.lock`",
              "one `calsync serve` per folder; one publisher per organization on SQLite",
              "`calsync/cli/serve.py`, `calsync/app/publish_lock.py`", "serve_lock_file"),
)
PATHS = FOLDERS + INSTANCE_PATHS


@dataclass(frozen=True)
class ConfigKey:
    """A ``create_app(config)`` key that is not an environment variable."""

    key: str
    help: str


APP_CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("CALSYNC_SETTINGS", "a whole `Settings` (what `calsync serve` passes); the keys "
              "named like variables override it"),
    ConfigKey("CALSYNC_CALDAV", "the CalDAV server to publish to, as a mapping (url, "
              "username, password, server_kind); `calsync serve` sets it"),
    ConfigKey("CALSYNC_LISTEN_URL", "the address `calsync serve` listens on: links use it "
              "without `CALSYNC_PUBLIC_URL`"),
    ConfigKey("CALSYNC_NOW", "a fixed clock (ISO date-time), for tests and demonstrations"),
    ConfigKey("CALSYNC_AGENDA_MAX_BYTES", "the largest agenda material (default 20 MB)"),
    ConfigKey("CALSYNC_MINUTES_MAX_BYTES", "the largest minutes file (default 10 MB)"),
    ConfigKey("CALSYNC_FEED_RENDERERS", "how many feeds render at once (default 2)"),
    ConfigKey("CALSYNC_FEED_WAIT_SECONDS", "the longest a feed waits for the inputs after a "
              "change before it answers with the last good bytes (default 10)"),
)

# Read by the tests and scripts/test only, never by calsync.
DEVELOPMENT_VARIABLES: tuple[tuple[str, str], ...] = (
    ("CALSYNC_TEST_CHROMIUM", "the Chromium the browser tests drive (`scripts/test` looks for "
     "it, else `chromium` on the PATH)"),
    ("CALSYNC_TEST_WORKERS", "how many pytest workers `scripts/test` starts (default: the "
     "cores, at most 4; 0 runs in one process)"),
    ("CALSYNC_TEST_POSTGRES_ADMIN_URL", "a superuser URL of the PostgreSQL server the tests "
     "create their throw-away databases on (default: 127.0.0.1:5432, user postgres)"),
    ("CI", "set: the hypothesis properties draw the same examples on every run"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """docs/configuration.md."""
    out = [
        "# Configuration",
        "",
        "<!-- Generated from calsync/settings.py: python3 -m calsync.settings --markdown > "
        "docs/configuration.md (tests/unit/test_settings_docs.py checks it is current). -->",
        "",
        "calsync reads its settings from `CALSYNC_*` environment variables. Where a "
        "command-line option overrides one, the option wins over the variable and the "
        "variable over the default; an empty option or variable counts as unset. "
        "`calsync serve` and `create_app()` (gunicorn) read them at start-up, and the page "
        "reads the mail settings (`CALSYNC_SMTP_URL`, `CALSYNC_NOTICES`) again when it "
        "sends; `create_app(config)` also takes each as a config key of the same name (the "
        "key wins over the variable). All of them, and every path below, are defined once, "
        "in `calsync/settings.py` (`Settings.from_env`).",
        "",
        "## Variables",
        "",
        "| Variable | Value | Default | What it does | Option |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        out.append(f"| `{s.env}` | {s.kind} | {_cell(s.default)} | {_cell(s.help)} | "
                   f"{_cell(s.option) or '—'} |")
    out += ["", "## Paths", "", "| Folder | What | Kept by |", "|---|---|---|"]
    out += [f"| {_cell(p.where)} | {_cell(p.what)} | {_cell(p.kept_by)} |" for p in FOLDERS]
    out += ["", "In the instance folder:", "", "| Path | What | Kept by |", "|---|---|---|"]
    out += [f"| {_cell(p.where)} | {_cell(p.what)} | {_cell(p.kept_by)} |"
            for p in INSTANCE_PATHS]
    out += [
        "",
        "## App config keys",
        "",
        "`create_app(config)` (`calsync.web`) also takes these keys, which are not environment "
        "variables:",
        "",
        "| Key | What |",
        "|---|---|",
    ]
    out += [f"| `{k.key}` | {_cell(k.help)} |" for k in APP_CONFIG_KEYS]
    out += [
        "",
        "## Development",
        "",
        "Read by the tests and `scripts/test` only, never by calsync:",
        "",
        "| Variable | What |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {_cell(text)} |" for name, text in DEVELOPMENT_VARIABLES]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--markdown"]:
        print("usage: python3 -m calsync.settings --markdown > docs/configuration.md",
              file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
