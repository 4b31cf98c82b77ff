"""The UID codec (calsync.occurrence): one place that writes the organization into a UID
(its policy's ``uid_domain``, else ``<org>.calsync``) and reads it back."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from calsync.occurrence import (
    default_domain,
    default_owner,
    domain_of,
    domain_owners,
    join_uid,
    local_part,
    org_domain,
    org_domains,
    organization_of,
    part_uid,
    split_part,
    split_uid,
    uid_for,
)
from calsync.policy import load_policies


@dataclass(frozen=True)
class Org:
    id: str
    uid_domain: str = ""


@dataclass(frozen=True)
class Policies:
    organizations: dict[str, Org] = field(default_factory=dict)


GLB = Org("guanliban", "meetings.example.gov.cn")
JYJ = Org("jiaoyuju")
POLICIES = Policies({o.id: o for o in (GLB, JYJ)})


def test_default_and_custom_domain() -> None:
    assert default_domain("jiaoyuju") == "jiaoyuju.calsync"
    assert org_domain(JYJ) == "jiaoyuju.calsync"
    assert org_domain(GLB) == "meetings.example.gov.cn"
    assert uid_for(JYJ, "request-3") == "request-3@jiaoyuju.calsync"
    assert uid_for(GLB, "zhoulihui") == "zhoulihui@meetings.example.gov.cn"
    # UIDs written before the uid_domain was set stay the organization's
    assert org_domains(GLB) == ("guanliban.calsync", "meetings.example.gov.cn")
    assert org_domains(JYJ) == ("jiaoyuju.calsync",)


@pytest.mark.parametrize("uid, org", [
    ("zhoulihui@meetings.example.gov.cn", "guanliban"),
    ("zhoulihui@guanliban.calsync", "guanliban"),
    ("zhoulihui--wang_fuzhuren@meetings.example.gov.cn", "guanliban"),
    ("busy-20260310T1400-20260310T1600@meetings.example.gov.cn", "guanliban"),
    ("decision-7@meetings.example.gov.cn", "guanliban"),
    ("request-3@jiaoyuju.calsync", "jiaoyuju"),
    # not ours: another system's, a calendar app's, a look-alike, none at all
    ("zhoulihui@guanliban.example.org", None),
    ("zhoulihui@nosuch.calsync", None),
    ("zhoulihui@jiaoyuju.calsync.evil.example", None),
    ("040000008200E00074C5B7101A82E008@outlook.com", None),
    ("zhoulihui", None),
    ("", None),
])
def test_organization_of(uid: str, org: str | None) -> None:
    assert organization_of(uid, POLICIES) == org


def test_round_trip() -> None:
    for org in (GLB, JYJ):
        uid = uid_for(org, "kewuhui-ducha-mon")
        assert split_uid(uid) == ("kewuhui-ducha-mon", org_domain(org))
        assert local_part(uid) == "kewuhui-ducha-mon" and domain_of(uid) == org_domain(org)
        assert join_uid(*split_uid(uid)) == uid
        assert organization_of(uid, POLICIES) == org.id
    assert split_uid("plain") == ("plain", "") and join_uid("plain", "") == "plain"
    assert domain_of("a@b@c.calsync") == "c.calsync"   # the domain is after the last @


def test_parts() -> None:
    uid = uid_for(GLB, "zhoulihui")
    assert part_uid(uid, "") == uid
    published = part_uid(uid, "wang_fuzhuren")
    assert published == "zhoulihui--wang_fuzhuren@meetings.example.gov.cn"
    assert split_part(published) == (uid, "wang_fuzhuren")
    assert split_part(uid) == (uid, "")
    assert organization_of(published, POLICIES) == "guanliban"
    assert part_uid("zhoulihui", "wang") == "zhoulihui--wang"
    assert split_part("zhoulihui--wang") == ("zhoulihui", "wang")
    for odd in ("--x@a.calsync", "x--@a.calsync"):
        assert split_part(odd) == (odd, "")


def test_domain_owners_and_default_owner() -> None:
    assert domain_owners(POLICIES.organizations.values()) == {
        "meetings.example.gov.cn": "guanliban", "guanliban.calsync": "guanliban",
        "jiaoyuju.calsync": "jiaoyuju"}
    # without policies (calsync.sync) only the default domain names an organization
    assert default_owner("x@guanliban.calsync") == "guanliban"
    assert default_owner("x@meetings.example.gov.cn") is None
    assert default_owner("x@.calsync") is None and default_owner("x") is None


def test_the_loaded_policies_are_read_as_they_are() -> None:
    """calsync.policy.PolicySet and Organization are what the codec reads."""
    policies = load_policies(None)
    for org in policies.organizations.values():
        uid = uid_for(org, "x")
        assert uid == f"x@{org.id}.calsync"        # the shipped policies set no uid_domain
        assert organization_of(uid, policies) == org.id
