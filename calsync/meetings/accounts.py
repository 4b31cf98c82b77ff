"""Web accounts from the directory: who is a secretary, a leader or staff, and passwords.

Users are the internal people of each organization's directory (username = person id); the
roles decide what the web page lets them do. Passwords are werkzeug hashes, never printed.
"""

from __future__ import annotations

import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from calsync.policy import PolicySet
from calsync.policy.model import Organization, Person

ROLES = ("secretary", "leader", "staff")
LEADER_WORDS = ("主任", "局长", "书记")


def role_for(org: Organization, person: Person) -> str:
    """``secretary`` (member of the organizer section), ``leader`` or ``staff``."""
    if person.section and person.section == org.organizer:
        return "secretary"
    if person.unit_head or person.id in _leaders(org):
        return "leader"
    if any(any(w in r for w in LEADER_WORDS) and "科员" not in r for r in person.roles):
        return "leader"
    return "staff"


def _leaders(org: Organization) -> set[str]:
    # Supervisors (分管领导) and the duty leaders who chair 周例会.
    ids = {s.supervisor for s in org.sections.values() if s.supervisor}
    if org.roster is not None:
        ids.update(org.roster.rotation)
        ids.update(org.roster.months.values())
    return ids


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_ok(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash or "", password)


def sync_directory(store, policies: PolicySet, actor: str) -> int:
    """Create or update one user per internal person; keeps passwords. Returns rows changed.

    A person id that two organizations share stays with the first (sorted) organization.
    """
    changed = 0
    seen: set[str] = set()
    existing = {u.username: u for u in store.users.list_users()}
    for org_id in sorted(policies.organizations):
        org = policies.organizations[org_id]
        for person in org.staff:
            if person.id in seen:
                continue
            seen.add(person.id)
            role = role_for(org, person)
            old = existing.get(person.id)
            if old is not None and (old.organization, old.display_name, old.role) == (
                    org_id, person.name, role):
                continue
            store.users.set_user(person.id, organization=org_id, display_name=person.name,
                                 role=role,
                                 password_hash=old.password_hash if old else None, actor=actor)
            changed += 1
    return changed


def first_secretary(policies: PolicySet) -> Person | None:
    """The first secretary of the first organization (by id), in directory order."""
    for org_id in sorted(policies.organizations):
        org = policies.organizations[org_id]
        for person in org.staff:
            if role_for(org, person) == "secretary":
                return person
    return None


def first_secretary_password(store, policies: PolicySet,
                             given: str | None) -> tuple[str | None, str | None]:
    """Give the first secretary a password when no secretary has one yet: ``given`` (the
    ``CALSYNC_ADMIN_PASSWORD`` setting), else a generated one.

    Returns ``(username, password)``: the password only when it was generated here (so
    ``serve`` prints it once); ``None`` when it was given or when a secretary already had a
    password (then nothing changes).
    """
    person = first_secretary(policies)
    if person is None:
        return None, None
    users = store.users.list_users()
    if any(u.role == "secretary" and u.password_hash for u in users):
        return person.id, None
    if not any(u.username == person.id for u in users):
        sync_directory(store, policies, actor="calsync serve")
    password = given or secrets.token_urlsafe(12)
    store.users.set_password(person.id, hash_password(password), actor="calsync serve")
    return person.id, None if given else password
