"""The web app for tests: a policy copy with a confidential meeting, the app on a real store
with passwords set, and a logged-in test client. Shared by the web, feed and stats tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from calsync.web import create_app
from flask import Flask
from flask.testing import FlaskClient

from calsync.meetings.accounts import hash_password
from calsync.policy import shipped_policies

NOW = "2026-03-01T08:00:00+08:00"   # a Sunday; week 2026-W10 follows
PASSWORD = "secret-pw-1"


def confidential_policies(root: Path) -> Path:
    """A copy of the shipped policies under ``root`` with 主任办公会 confidential (篇二 四.5
    applied to it), so confidential scheduled meetings exist to be hidden."""
    target = root / "p"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / "guanliban" / "meetings.toml"
    text = path.read_text(encoding="utf-8")
    marker = 'name = "主任办公会"\n'
    assert marker in text
    path.write_text(text.replace(marker, marker + "confidential = true\n"), encoding="utf-8")
    return target


def make_app(db_url: str, instance: Path, policies_dir: Path | None = None,
             users: Iterable[str] = (), **extra: object) -> Flask:
    """The app on ``db_url`` at ``NOW`` (CSRF off unless ``extra`` turns it on); ``users``
    get ``PASSWORD``."""
    config: dict[str, object] = {
        "CALSYNC_DATABASE_URL": db_url, "CALSYNC_INSTANCE": str(instance),
        "CALSYNC_NOW": NOW, "TESTING": True, "WTF_CSRF_ENABLED": False}
    if policies_dir is not None:
        config["CALSYNC_POLICIES"] = str(policies_dir)
    config.update(extra)
    app = create_app(config)
    for name in users:
        app.extensions["calsync"].store.users.set_password(name, hash_password(PASSWORD),
                                                           actor="test")
    return app


def login(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    r = client.post("/login", data={"username": name, "password": PASSWORD})
    assert r.status_code == 302, r.data.decode()
    return client
