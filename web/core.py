"""What every view shares: the open Store and policies, the clock, the logged-in user."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, current_app
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from calsync import access
from calsync.meetings import accounts
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet, load
from calsync.policy.model import Organization, Person
from calsync.store import Store, open_store

csrf = CSRFProtect()  # the forms' CSRF check; the directory upload marks itself exempt
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"


@dataclass
class Core:
    store: Store
    policies: PolicySet
    caldav: Mapping[str, Any] | None
    fixed_now: dt.datetime | None

    @classmethod
    def open(cls, config: Mapping[str, Any]) -> Core:
        # with the notices applied on the 节假日 page (web/holidays.py), as every command
        policies = load(config.get("CALSYNC_POLICIES") or None, Path(config["CALSYNC_INSTANCE"]))
        store = open_store(config.get("CALSYNC_DATABASE_URL"),
                           Path(config["CALSYNC_INSTANCE"]))
        try:
            accounts.sync_directory(store, policies, actor="calsync web")
        except BaseException:
            store.close()
            raise
        fixed = config.get("CALSYNC_NOW")
        fixed_now = dt.datetime.fromisoformat(fixed) if fixed else None
        if fixed_now is not None and fixed_now.tzinfo is None:
            fixed_now = fixed_now.replace(tzinfo=TZ)
        return cls(store, policies, config.get("CALSYNC_CALDAV"), fixed_now)

    def close(self) -> None:
        self.store.close()

    def now(self) -> dt.datetime:
        return (self.fixed_now or dt.datetime.now(TZ)).astimezone(TZ)


def core() -> Core:
    return current_app.extensions["calsync"]


def now() -> dt.datetime:
    return core().now()


class WebUser(UserMixin):
    """The logged-in person: the store's UserRecord plus the directory entry."""

    def __init__(self, record, org: Organization) -> None:
        self.record = record
        self.org = org
        self.person: Person | None = org.people.get(record.username)

    def get_id(self) -> str:
        # The session version rides in the session: a password change bumps it in the store,
        # and the loader then refuses every older session (web/accounts.py).
        return f"{self.record.username}:{self.record.session_version}"

    @property
    def username(self) -> str:
        return self.record.username

    @property
    def name(self) -> str:
        return self.record.display_name

    @property
    def role(self) -> str:
        return self.record.role

    @property
    def role_name(self) -> str:
        return {"secretary": "秘书", "leader": "领导", "staff": "工作人员"}.get(self.role, "")

    @property
    def is_secretary(self) -> bool:
        return self.role == "secretary"

    @property
    def email(self) -> str:
        return (self.person.email if self.person else "").lower()

    @property
    def viewer(self) -> access.Viewer:
        """This user as the one visibility rule (calsync.access) sees a reader."""
        p = self.person
        return access.Viewer(self.username, self.org.id, self.role, self.name, self.email,
                            p.section if p else None)

    def secretary_of(self, org_id: str | None) -> bool:
        return self.is_secretary and org_id == self.org.id


def current_user_loader(user_id: str) -> WebUser | None:
    """The session's user, unless their password changed since that session began."""
    username, _, version = user_id.rpartition(":")
    if not username or not version.isdigit():
        return None
    user = load_user(username)
    if user is None or user.record.session_version != int(version):
        return None
    return user


def load_user(username: str) -> WebUser | None:
    """A user with a password whose organization is still in the policies and who has not
    left it."""
    c = core()
    record = c.store.users.get_user(username)
    if record is None or not record.password_hash:
        return None
    org = c.policies.organizations.get(record.organization)
    if org is None:
        return None
    person = org.people.get(record.username)
    if person is not None and not person.present(c.now().date()):
        return None  # left (directory.toml ``left``): their history stays, their login ends
    return WebUser(record, org)


def user() -> WebUser:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def secretary_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not user().is_secretary:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def invited(u: WebUser, occ: Occurrence) -> bool:
    """Chair, attendee (or substitute) of the occurrence, or a secretary of its organization
    (calsync.access.invited, the rule every door applies)."""
    return access.invited(u.viewer, occ)


def visible(u: WebUser, occ: Occurrence) -> bool:
    """May this user see more than "忙碌" and the time? (篇二 四.5)"""
    return access.shows(u.viewer, occ)


def authorize(action: str, organization: str | None, owner: str | None = None) -> None:
    """403 unless the logged-in user may do ``action`` on an object of ``organization``
    (owned by ``owner``): the one check every POST makes (calsync.access.may_act)."""
    if not current_user.is_authenticated:
        abort(401)
    if not organization or not access.may_act(user().viewer, organization, action,
                                              owner=owner):
        abort(403)


def org_choice(requested: str | None) -> str:
    """The organization a page shows: the user's own. Another organization's calendar is not
    theirs to read (calsync.access.page_organization), so asking is a 403."""
    shown = access.page_organization(user().viewer, requested)
    if shown is None:
        abort(403)
    return shown


def person(org: Organization, person_id: str | None) -> Person | None:
    return org.people.get(person_id) if person_id else None


def person_name(org: Organization, person_id: str | None) -> str:
    p = person(org, person_id)
    return p.name if p else (person_id or "")
