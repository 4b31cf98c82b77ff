"""calsync.settings: every ``CALSYNC_*`` setting with its precedence (option > variable >
default, an empty one counting as unset), the paths it computes, and the CLI and web app
building it from their options and config keys."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from calsync.cli import build_parser, settings_of
from calsync.settings import (
    PATHS,
    SETTINGS,
    Settings,
    instance_path,
    policies_path,
    shipped_policies,
)

# name → (variable text, value it reads as, an option's value, value it reads as)
SAMPLES: dict[str, tuple[str, Any, Any, Any]] = {
    "policies": ("/env/policies", Path("/env/policies"), "/opt/policies", Path("/opt/policies")),
    "instance": ("/env/inst", Path("/env/inst"), Path("/opt/inst"), Path("/opt/inst")),
    "database_url": ("sqlite:///env.db", "sqlite:///env.db", "postgresql://h/db",
                     "postgresql://h/db"),
    "caldav_url": ("https://env/dav/", "https://env/dav/", "https://opt/dav/",
                   "https://opt/dav/"),
    "caldav_username": ("env-user", "env-user", "opt-user", "opt-user"),
    "caldav_password": ("env-pw", "env-pw", "opt-pw", "opt-pw"),
    "caldav_max_bytes": ("2048", 2048, 4096, 4096),
    "smtp_url": ("smtp://env:25", "smtp://env:25", "smtp://opt:25", "smtp://opt:25"),
    "notices": ("0", False, True, True),
    "public_url": ("https://env.example", "https://env.example", "https://opt.example",
                   "https://opt.example"),
    "trusted_proxies": ("1", "1", "2", "2"),
    "secret_key": ("env-key", "env-key", "opt-key", "opt-key"),
    "admin_password": ("env-admin", "env-admin", "opt-admin", "opt-admin"),
    "scheduler": ("yes", True, True, True),
    "publish_interval": ("30", "30", "60", "60"),
    "watch": ("https://a/ https://b/", ("https://a/", "https://b/"), ["https://c/"],
              ("https://c/",)),
    "parent_pid": ("123", "123", "456", "456"),
}


def test_every_setting_has_a_sample_and_says_what_it_does() -> None:
    assert sorted(SAMPLES) == sorted(s.name for s in SETTINGS)
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)
    for s in SETTINGS:
        assert s.env.startswith("CALSYNC_") and s.default and s.help.endswith("."), s


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_option_over_variable_over_default(setting) -> None:
    text, from_env, option, from_option = SAMPLES[setting.name]
    default = getattr(Settings(), setting.name)
    assert getattr(Settings.from_env({}), setting.name) == default
    assert getattr(Settings.from_env({setting.env: text}), setting.name) == from_env
    chosen = Settings.from_env({setting.env: text}, **{setting.name: option})
    assert getattr(chosen, setting.name) == from_option
    # an empty variable or option counts as unset, as `option or variable` always did
    assert getattr(Settings.from_env({setting.env: ""}), setting.name) == default
    unset = Settings.from_env({setting.env: text}, **{setting.name: None})
    assert getattr(unset, setting.name) == from_env
    assert getattr(Settings.from_env({setting.env: text}, **{setting.name: ""}),
                   setting.name) == from_env


def test_each_variable_reads_as_its_reader_always_took_it() -> None:
    def read(env: str, text: str) -> Settings:
        return Settings.from_env({env: text})

    assert read("CALSYNC_SCHEDULER", "On").scheduler is True
    assert read("CALSYNC_SCHEDULER", "2").scheduler is False
    assert read("CALSYNC_NOTICES", " off ").notices is False
    assert read("CALSYNC_NOTICES", "maybe").notices is None
    assert read("CALSYNC_CALDAV_MAX_BYTES", "ten").caldav_max_bytes == 10_000_000
    assert read("CALSYNC_CALDAV_MAX_BYTES", "-5").caldav_max_bytes == 10_000_000
    # notices follow SMTP unless CALSYNC_NOTICES says otherwise
    assert not Settings.from_env({}).notices_enabled
    assert Settings.from_env({"CALSYNC_SMTP_URL": "smtp://m"}).notices_enabled
    assert not Settings.from_env({"CALSYNC_SMTP_URL": "smtp://m",
                                  "CALSYNC_NOTICES": "0"}).notices_enabled
    assert Settings.from_env({"CALSYNC_NOTICES": "1"}).notices_enabled


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(TypeError, match="instanse"):
        Settings.from_env({}, instanse="/x")


def test_the_external_caldav_server() -> None:
    assert Settings.from_env({}).external_caldav() is None
    assert Settings.from_env({"CALSYNC_CALDAV_USERNAME": "u"}).external_caldav() is None
    env = {"CALSYNC_CALDAV_URL": "https://dav/", "CALSYNC_CALDAV_PASSWORD": "pw"}
    assert Settings.from_env(env, caldav_username="opt").external_caldav() == {
        "url": "https://dav/", "username": "opt", "password": "pw"}


# -- paths ------------------------------------------------------------------------------------

EXPECTED_PATHS = {
    "instance_dir": "",
    "sqlite_path": "calsync.sqlite3",
    "secret_key_file": "secret_key",
    "holidays_dir": "holidays",
    "holiday_applications_dir": "holiday-applications",
    "caldav_dir": "caldav",
    "caldav_password_file": "caldav/service-password",
    "outbox_dir": "outbox",
    "minutes_files_dir": "minutes-files",
    "agenda_files_dir": "agenda-files",
    "directory_uploads_dir": "directory-uploads",
    "serve_lock_file": "serve.lock",
}


@pytest.mark.parametrize("attribute", sorted(EXPECTED_PATHS))
def test_each_path_of_the_instance_folder(attribute: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"CALSYNC_INSTANCE": str(tmp_path / "inst")})
    assert getattr(settings, attribute) == tmp_path / "inst" / EXPECTED_PATHS[attribute]


def test_the_paths_page_names_a_computed_path_for_each_property() -> None:
    named = {p.attribute for p in PATHS if p.attribute}
    assert named - {"policies_dir"} <= set(EXPECTED_PATHS)
    assert {"instance_dir", "sqlite_path", "holidays_dir", "caldav_dir",
            "caldav_password_file", "policies_dir"} <= named


def test_a_relative_instance_folder_is_taken_from_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.instance == Path("instance")                 # as given
    assert settings.instance_dir == tmp_path / "instance"        # absolute
    monkeypatch.delenv("CALSYNC_INSTANCE", raising=False)
    assert instance_path() == Path("instance")
    assert instance_path(tmp_path / "opt") == tmp_path / "opt"


def test_the_policy_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).policies_dir == shipped_policies()
    assert (shipped_policies() / "holidays").is_dir()
    env = {"CALSYNC_POLICIES": str(tmp_path / "env")}
    assert Settings.from_env(env).policies_dir == tmp_path / "env"
    assert Settings.from_env(env, policies=tmp_path / "opt").policies_dir == tmp_path / "opt"
    monkeypatch.setenv("CALSYNC_POLICIES", str(tmp_path / "env"))
    assert policies_path() == tmp_path / "env"
    assert policies_path(tmp_path / "opt") == tmp_path / "opt"
    monkeypatch.delenv("CALSYNC_POLICIES")
    assert policies_path() == shipped_policies()


# -- the CLI: options over variables ----------------------------------------------------------

def _dests(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _dests(sub)
        elif action.option_strings:
            found.add(action.dest)
    return found


def test_each_option_the_page_names_overrides_its_setting() -> None:
    """docs/configuration.md's Option column: each such setting is some option's dest."""
    dests = _dests(build_parser())
    assert {s.name for s in SETTINGS if s.option} <= dests
    assert {s.name for s in SETTINGS if not s.option}.isdisjoint(dests - {"watch"})


def _settings(argv: list[str]) -> Settings:
    args = build_parser(only=argv[0]).parse_args(argv)
    return settings_of(args)


ENV = {"CALSYNC_CALDAV_URL": "https://env/dav/", "CALSYNC_CALDAV_USERNAME": "env-user",
       "CALSYNC_CALDAV_PASSWORD": "env-pw", "CALSYNC_DATABASE_URL": "sqlite:///env.db",
       "CALSYNC_POLICIES": "/env/policies", "CALSYNC_SMTP_URL": "smtp://env:25"}


def test_the_cli_takes_its_options_over_the_variables(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path / "env-inst"))
    publish = _settings(["publish", "--caldav-url", "https://opt/dav/", "--username", "u",
                         "--password", "p", "--database-url", "sqlite:///opt.db",
                         "--instance", str(tmp_path / "opt-inst"), "--policies", "/opt/p"])
    assert (publish.caldav_url, publish.caldav_username, publish.caldav_password) == (
        "https://opt/dav/", "u", "p")
    assert publish.database_url == "sqlite:///opt.db"
    assert publish.instance == tmp_path / "opt-inst" and publish.policies == Path("/opt/p")
    serve = _settings(["serve", "--caldav-username", "su", "--caldav-password", "sp"])
    assert (serve.caldav_url, serve.caldav_username, serve.caldav_password) == (
        "https://env/dav/", "su", "sp")
    assert serve.instance == tmp_path / "env-inst" and serve.policies == Path("/env/policies")
    assert _settings(["notices", "send", "--smtp-url", "smtp://opt:25"]).smtp_url == (
        "smtp://opt:25")
    assert _settings(["notices", "send"]).smtp_url == "smtp://env:25"
    # an empty option counts as unset
    assert _settings(["publish", "--caldav-url", ""]).caldav_url == "https://env/dav/"


def test_the_cli_builds_its_settings_once(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser(only="conflicts").parse_args(["conflicts"])
    first = settings_of(args)
    monkeypatch.setenv("CALSYNC_DATABASE_URL", "sqlite:///later.db")
    assert settings_of(args) is first


def test_the_web_app_takes_its_config_keys_over_the_variables(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from calsync.web import app_settings

    monkeypatch.setenv("CALSYNC_PUBLIC_URL", "https://env.example")
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path / "env"))
    assert app_settings({}).public_url == "https://env.example"
    chosen = app_settings({"CALSYNC_PUBLIC_URL": "https://key.example",
                           "CALSYNC_INSTANCE": str(tmp_path / "key")})
    assert chosen.public_url == "https://key.example"
    assert chosen.instance_dir == tmp_path / "key"
    given = Settings.from_env({}, instance=tmp_path / "given", smtp_url="smtp://given")
    passed = app_settings({"CALSYNC_SETTINGS": given, "CALSYNC_INSTANCE": str(tmp_path / "k")})
    assert passed.smtp_url == "smtp://given" and passed.instance_dir == tmp_path / "k"
    assert passed.public_url is None   # given whole: the variables are not read again


def test_an_override_given_as_text_reads_as_the_variable_would() -> None:
    """A create_app config key may hold the variable's text."""
    chosen = Settings.from_env({}, caldav_max_bytes="4096", scheduler="on", notices="0",
                               watch="https://a/ https://b/", instance="/srv/calsync")
    assert chosen.caldav_max_bytes == 4096 and chosen.scheduler is True
    assert chosen.notices is False and chosen.watch == ("https://a/", "https://b/")
    assert chosen.instance == Path("/srv/calsync")
