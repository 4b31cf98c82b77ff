"""The UID codec round-trips (calsync.occurrence): whatever the ids, parts and uid_domains the
policies may hold, a UID written for an organization is read back as that organization's,
with its local part and part intact."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume, given
from hypothesis import strategies as st

from calsync.occurrence import (
    PART_SEPARATOR,
    domain_of,
    local_part,
    org_domain,
    organization_of,
    part_uid,
    split_part,
    uid_for,
)

# what calsync.policy.reader accepts as an id
IDS = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)
LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
DOMAINS = st.lists(LABELS, min_size=2, max_size=4).map(".".join)
LOCALS = st.text(st.characters(blacklist_characters="@", blacklist_categories=("Cs",)),
                 min_size=1, max_size=30)


@dataclass(frozen=True)
class Org:
    id: str
    uid_domain: str = ""


@dataclass(frozen=True)
class Policies:
    organizations: dict[str, Org]


@given(st.dictionaries(IDS, st.one_of(st.just(""), DOMAINS), min_size=1, max_size=4),
       st.data(), LOCALS)
def test_every_organization_reads_back(domains: dict[str, str], data: st.DataObject,
                                       local: str) -> None:
    # two organizations never share a domain (each uid_domain is its own)
    owners = [d or f"{o}.calsync" for o, d in domains.items()]
    owners += [f"{o}.calsync" for o, d in domains.items() if d]
    assume(len(owners) == len(set(owners)))
    policies = Policies({o: Org(o, d) for o, d in domains.items()})
    org = policies.organizations[data.draw(st.sampled_from(sorted(domains)))]
    uid = uid_for(org, local)
    assert local_part(uid) == local and domain_of(uid) == org_domain(org)
    assert organization_of(uid, policies) == org.id


@given(IDS, IDS, st.one_of(st.just(""), DOMAINS))
def test_parts_round_trip(series: str, part: str, domain: str) -> None:
    org = Org("guanliban", domain)
    uid = uid_for(org, series)
    published = part_uid(uid, part)
    assert domain_of(published) == org_domain(org)
    if PART_SEPARATOR not in part:     # a person id may hold "--"; none does today
        assert split_part(published) == (uid, part)
