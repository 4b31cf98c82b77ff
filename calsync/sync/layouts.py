"""Which CalDAV collection holds what, and who may read it (pure).

CalDAV has no per-event access control (``CLASS`` is advisory: python-caldav, vdirsyncer and
khal all show a CONFIDENTIAL event in full), so confidentiality is decided by *where* the bytes
go, with calsync.access as the rule:

- ``org`` layout: the organization's collection ``<org>`` — read by all its staff — holds
  every public occurrence and, for each confidential one, only a "忙碌" block (time-derived
  UID, no RRULE, no text). The confidential occurrences themselves go to one collection per
  set of readers (``<org>-c-<digest>``: the people each names plus the organization's
  secretaries), read by exactly those people. A series that is partly confidential (a public
  meeting merged into a confidential one) is split: each collection gets its occurrences, the
  others become EXDATEs there.
- ``per-person`` layout: one collection per person with what that person may see in full.

Collections calsync published before and no longer wants (a confidential meeting's readers
changed) are listed as ``retire``: emptied at the next publish, without tripping the safety
valve.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from calsync.access import (
    busy_series,
    decision_readers,
    names_viewer,
    readers,
    secretaries_of,
    viewer_of,
)
from calsync.errors import UsageError
from calsync.ical.render import render_resources
from calsync.ical.resources import Resource
from calsync.ical.tasks import (
    CONFIDENTIAL_TASKS,
    DecisionItem,
    confidential_tasks_slug,
    render_task,
    tasks_slug,
)
from calsync.occurrence import Occurrence, Series, org_domains
from calsync.policy import PolicySet
from calsync.sync import LAYOUTS
from calsync.sync.publish import CollectionSpec

CONFIDENTIAL_PREFIX = "-c-"

Render = Callable[[Series], tuple[Resource, ...]]


def renderer(series: Iterable[Series], resources: Iterable[Resource],
             stamps: Mapping[str, dt.datetime]) -> Render:
    """Render a series (its resources: one, or one per part); a series left whole reuses
    the resources already rendered."""
    by_uid = {r.uid: r for r in resources}
    done = {s.uid: (s.occurrences, tuple(by_uid[p.uid] for p in s.parts())) for s in series}

    def render(s: Series) -> tuple[Resource, ...]:
        hit = done.get(s.uid)
        if hit is not None and hit[0] == s.occurrences:
            return hit[1]
        return render_resources(s, stamps.get(s.uid) or max(stamps.values()))
    return render


def confidential_slug(org_id: str, who: frozenset[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(who)).encode()).hexdigest()[:10]
    return f"{org_id}{CONFIDENTIAL_PREFIX}{digest}"


def org_collections(policies: PolicySet, org_id: str, series: Iterable[Series],
                    render: Render) -> list[CollectionSpec]:
    """The ``org`` layout of one organization."""
    org = policies.organizations[org_id]
    secs = secretaries_of(org)
    public: list[Resource] = []
    hidden: list[Occurrence] = []
    groups: dict[frozenset[str], list[Resource]] = {}
    kinds: dict[frozenset[str], set[str]] = {}
    for s in series:
        conf = [o for o in s.occurrences if o.klass == "CONFIDENTIAL"]
        if not conf:
            public.extend(render(s))
            continue
        hidden.extend(conf)
        rest = [o for o in s.occurrences if o.klass != "CONFIDENTIAL"]
        if rest:
            public.extend(render(_part(s, rest)))
        by_readers: dict[frozenset[str], list[Occurrence]] = {}
        for o in conf:
            by_readers.setdefault(readers(o, secs), []).append(o)
        for who, occs in by_readers.items():
            groups.setdefault(who, []).extend(render(_part(s, occs)))
            kinds.setdefault(who, set()).update(
                org.meeting_types[t].name for o in occs for t in o.meeting_types
                if t in org.meeting_types)
    public.extend(r for b in busy_series(hidden) for r in render(b))
    name = org.calendar_name or org.name
    doms = uid_domains(policies, org_id)
    specs = [CollectionSpec(org_id, name, (org_id,), tuple(public), uid_domains=doms)]
    for who, resources in sorted(groups.items(), key=lambda kv: confidential_slug(org_id,
                                                                                 kv[0])):
        label = "、".join(sorted(kinds.get(who, ())))
        specs.append(CollectionSpec(confidential_slug(org_id, who),
                                    f"{org.short_name or org.name}保密会议"
                                    + (f"（{label}）" if label else ""), (org_id,),
                                    tuple(resources), readers=who, uid_domains=doms))
    return specs


def uid_domains(policies: PolicySet, org_id: str) -> tuple[str, ...]:
    """The UID domains of an organization's objects (calsync.occurrence.org_domains)."""
    return org_domains(policies.organizations[org_id])


def _part(series: Series, occs: Iterable[Occurrence]) -> Series:
    return replace(series, occurrences=tuple(occs))


def per_person_collections(policies: PolicySet, org_id: str, series: Iterable[Series],
                           render: Render) -> list[CollectionSpec]:
    """One collection per person: the occurrences that name them (the only ones anyone may
    see in full without being a secretary), so a substitute gets the one meeting, not the
    series."""
    org = policies.organizations[org_id]
    all_series = list(series)
    specs = []
    for person in org.staff:
        viewer = viewer_of(policies, person.id)
        theirs: list[Resource] = []
        for s in all_series:
            mine = [o for o in s.occurrences if names_viewer(viewer, o)]
            if mine:
                theirs.extend(render(_part(s, mine)))
        specs.append(CollectionSpec(f"{org_id}-{person.id}",
                                    f"{person.name}的会议（{org.short_name or org.name}）",
                                    (org_id,), tuple(theirs), readers=frozenset({person.id}),
                                    uid_domains=uid_domains(policies, org_id)))
    return specs


def collections(policies: PolicySet, series: Iterable[Series], orgs: list[str], layout: str,
                render: Render) -> list[CollectionSpec]:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (choose {' or '.join(LAYOUTS)})")
    all_series = list(series)
    specs: list[CollectionSpec] = []
    for org_id in orgs:
        mine = [s for s in all_series if s.organization == org_id]
        if layout == "org":
            specs.extend(org_collections(policies, org_id, mine, render))
        else:
            specs.extend(per_person_collections(policies, org_id, mine, render))
    return specs


def retired(specs: list[CollectionSpec], known: Mapping[str, Iterable[str]],
            home: str) -> list[CollectionSpec]:
    """Empty specs for confidential collections calsync wrote before and wants no more.

    ``known``: organization → collection URLs with resources in the store. One stored under
    the home's path at another host or port (the server moved: ``calsync serve`` on another
    CalDAV port) is the same collection at the home's address now (its rows move there when
    it is published, calsync.sync.reading)."""
    wanted = {_url(home, s) for s in specs}
    out = []
    for org_id in sorted({o for s in specs for o in s.organizations}):
        for url in sorted({_moved(u, home) for u in known.get(org_id, ())}):
            slug = url.rstrip("/").rsplit("/", 1)[-1]
            if url not in wanted and slug.startswith(org_id + CONFIDENTIAL_PREFIX):
                doms = next((s.uid_domains for s in specs if org_id in s.organizations), ())
                out.append(CollectionSpec(slug, slug, (org_id,), (), url=url,
                                          readers=frozenset(), retire=True, uid_domains=doms))
    return out


def _moved(url: str, home: str) -> str:
    there, here = urlsplit(url), urlsplit(_url(home, None))
    if there.path.startswith(here.path) and (there.scheme, there.netloc) != (
            here.scheme, here.netloc):
        return urlunsplit(there._replace(scheme=here.scheme, netloc=here.netloc))
    return url


def _url(home: str, spec: CollectionSpec | None) -> str:
    """A spec's URL (``None``: the home itself), without credentials."""
    if spec is None:
        url = home.rstrip("/") + "/"
    else:
        url = spec.url or home.rstrip("/") + "/" + spec.slug.strip("/") + "/"
    parts = urlsplit(url)  # the store keeps URLs without credentials
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# -- decisions as tasks (VTODO, calsync.ical.tasks): one public and one collection per set of
# readers of confidential meetings' decisions

def task_collections(policies: PolicySet, org_id: str, items: Iterable[DecisionItem],
                     occurrences: Mapping[tuple[str, dt.datetime], Occurrence],
                     keep_empty: bool = False) -> list[CollectionSpec]:
    """The tasks collections of one organization. ``occurrences``: (series UID, recurrence
    id) → occurrence, for the meeting's class and readers; a decision whose meeting is not
    generated any more keeps its recorded class, and a confidential one then goes to the
    organizer section alone. ``keep_empty``: publish ``<org>-tasks`` even without decisions
    (it held some before)."""
    org = policies.organizations[org_id]
    secs = secretaries_of(org)
    names = {s.id: s.name for s in org.sections.values()}
    public: list[Resource] = []
    groups: dict[frozenset[str], list[Resource]] = {}
    for it in items:
        if it.organization != org_id:
            continue
        occ = occurrences.get((it.series_uid, it.recurrence_id))
        res = render_task(it, names.get(it.section, it.section), occ)
        who = decision_readers(occ, bool(it.confidential), secs)
        if who is None:      # a public meeting's: the organization's staff
            public.append(res)
            continue
        groups.setdefault(who, []).append(res)
    short = org.short_name or org.name
    specs = []
    if public or keep_empty:
        specs.append(CollectionSpec(tasks_slug(org_id), f"{short}会议议定事项", (org_id,),
                                    tuple(public)))
    for who, resources in sorted(groups.items(),
                                 key=lambda kv: confidential_tasks_slug(org_id, kv[0])):
        specs.append(CollectionSpec(confidential_tasks_slug(org_id, who),
                                    f"{short}保密会议议定事项", (org_id,), tuple(resources),
                                    readers=who))
    return specs


def retired_tasks(specs: list[CollectionSpec], orgs: Iterable[str],
                  known: Mapping[str, Iterable[str]], home: str) -> list[CollectionSpec]:
    """Empty specs for confidential tasks collections written before and wanted no more (a
    meeting's readers changed): emptied without tripping the safety valve."""
    wanted = {_url(home, s) for s in specs}
    out = []
    for org_id in sorted(set(orgs)):
        for url in sorted(known.get(org_id, ())):
            slug = url.rstrip("/").rsplit("/", 1)[-1]
            if url not in wanted and slug.startswith(org_id + CONFIDENTIAL_TASKS):
                out.append(CollectionSpec(slug, slug, (org_id,), (), url=url,
                                          readers=frozenset(), retire=True))
    return out
