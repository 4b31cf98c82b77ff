"""Web users: who may sign in, for which organization, in which role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from calsync.errors import StoreError
from calsync.store.base import Repository, to_record, utc
from calsync.store.models import AppUserRow
from calsync.store.records import USER_ROLES, UserRecord


def _shown(user: UserRecord | None) -> dict[str, object] | None:
    """What the audit log keeps of a user: everything but the password hash."""
    if user is None:
        return None
    return {
        "username": user.username,
        "organization": user.organization,
        "display_name": user.display_name,
        "role": user.role,
        "has_password": user.password_hash is not None,
    }


def _required(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"a user needs a non-empty {what}")
    return value.strip()


class UsersRepository(Repository):
    def set_user(
        self,
        username: str,
        *,
        organization: str,
        display_name: str,
        role: str,
        password_hash: str | None = None,
        actor: str,
        at: datetime | None = None,
    ) -> UserRecord:
        """Create or update a user. ``password_hash=None`` keeps the current hash (a new user
        then has none and cannot sign in until :meth:`set_password`)."""
        username = _required(username, "user name")
        if any(c.isspace() for c in username):
            raise StoreError(f"user name {username!r} must not contain spaces")
        organization = _required(organization, "organization")
        display_name = _required(display_name, "display name")
        if role not in USER_ROLES:
            raise StoreError(f"unknown user role {role!r} (use one of {sorted(USER_ROLES)})")
        try:
            return self._set_user(username, organization, display_name, role, password_hash,
                                  actor, utc(at))
        except StoreError:
            # Two processes creating the same new user at once (several workers starting on
            # a fresh database): the loser's INSERT fails; now the row exists, so update it.
            if self.get_user(username) is None:
                raise
            return self._set_user(username, organization, display_name, role, password_hash,
                                  actor, utc(at))

    def _set_user(
        self, username: str, organization: str, display_name: str, role: str,
        password_hash: str | None, actor: str, now: datetime,
    ) -> UserRecord:
        with self._writing() as session:
            row = session.get(AppUserRow, username, with_for_update=True)
            before = to_record(row, UserRecord) if row else None
            if row is None:
                row = AppUserRow(username=username, created_at=now, password_hash=None)
                session.add(row)
            row.organization, row.display_name, row.role = organization, display_name, role
            if password_hash is not None:
                row.password_hash = password_hash
            session.flush()
            after = to_record(row, UserRecord)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="user.create" if before is None else "user.update",
                target=f"user:{username}",
                before=_shown(before),
                after=_shown(after),
            )
        return after

    def set_password(
        self, username: str, password_hash: str, actor: str, *, at: datetime | None = None,
        temporary: bool = False,
    ) -> UserRecord:
        """Replace a user's password hash (the audit row records only that it changed).

        Every change bumps ``session_version``, which ends the user's other web sessions; a
        ``temporary`` password (a secretary's reset) must be changed at the next login."""
        if not isinstance(password_hash, str) or not password_hash:
            raise StoreError("a password hash must be a non-empty string")
        now = utc(at)
        with self._writing() as session:
            row = session.get(AppUserRow, username, with_for_update=True)
            if row is None:
                raise StoreError(f"there is no user {username!r} (create it with set_user)")
            row.password_hash = password_hash
            row.session_version = (row.session_version or 0) + 1
            row.must_change_password = temporary
            session.flush()
            after = to_record(row, UserRecord)
            self._add_audit(
                session, at=now, actor=actor, action="user.password", target=f"user:{username}",
                after={"temporary": True} if temporary else None,
            )
        return after

    def end_sessions(self, username: str) -> None:
        """End every web session of ``username`` (logout): bumps ``session_version``, which
        the page's user loader checks. Not audited: the password is unchanged."""
        with self._writing() as session:
            row = session.get(AppUserRow, username, with_for_update=True)
            if row is not None:
                row.session_version = (row.session_version or 0) + 1

    def get_user(self, username: str) -> UserRecord | None:
        with self._reading() as session:
            row = session.get(AppUserRow, username)
            return to_record(row, UserRecord) if row else None

    def list_users(self, organization: str | None = None) -> list[UserRecord]:
        """Users by user name; all organizations unless one is given."""
        query = select(AppUserRow).order_by(AppUserRow.username)
        if organization is not None:
            query = query.where(AppUserRow.organization == organization)
        with self._reading() as session:
            return [to_record(row, UserRecord) for row in session.scalars(query)]
