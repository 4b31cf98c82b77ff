"""Property: for random meetings, some confidential, no byte of a confidential meeting's
summary, description, location or attendees reaches a person it does not invite — through
the feeds (every scope), the CalDAV collections they may read, the CLI's JSON and the clash
list. Each secret is a unique marker, so "reaches" is a plain substring check."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.access import (
    OPERATOR,
    clash_for_viewer,
    for_viewer,
    invited,
    secretaries_of,
    viewer_of,
)
from calsync.ical.export import occurrence_json
from calsync.ical.feeds import render_feed
from calsync.ical.render import render_resources
from calsync.meetings.clashes import clash_json, find_clashes, recurrence_id
from calsync.meetings.generate import Generation
from calsync.occurrence import Attendee, Occurrence, Recurrence, Series, at
from calsync.policy import PolicySet, load_policies
from calsync.sync.layouts import org_collections

POLICIES: PolicySet = load_policies()
ORG = POLICIES.organizations["guanliban"]
STAFF = [p for p in ORG.staff]
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 3, 2)


@st.composite
def meetings(draw) -> list[Series]:
    n = draw(st.integers(1, 6))
    out = []
    for i in range(n):
        confidential = draw(st.booleans())
        people = draw(st.lists(st.sampled_from(STAFF), min_size=1, max_size=5,
                               unique_by=lambda p: p.id))
        weekly = draw(st.booleans())
        count = draw(st.integers(1, 4)) if weekly else 1
        hour = draw(st.integers(8, 16))
        tag = f"M{i}"
        nominal = tuple(at(MONDAY + dt.timedelta(days=7 * k + i % 5), dt.time(hour))
                        for k in range(count))
        occs = []
        for k, start in enumerate(nominal):
            extra = draw(st.lists(st.sampled_from(STAFF), max_size=1)) if weekly else []
            who = {p.id: p for p in (*people, *extra)}
            attendees = tuple(
                Attendee(f"{p.name}", p.email, "CHAIR" if j == 0 else "REQ-PARTICIPANT",
                         person_id=p.id) for j, p in enumerate(who.values()))
            marker = "机密" if confidential else "公开"
            occs.append(Occurrence(
                f"s{i}", f"s{i}@guanliban.calsync", "guanliban", "meeting", ("dangzu",),
                f"{marker}标题{tag}-{k}", start, start + dt.timedelta(hours=1), start,
                description=f"{marker}说明{tag}-{k}", location=f"{marker}地点{tag}",
                klass="CONFIDENTIAL" if confidential else "PUBLIC", attendees=attendees))
        rule = Recurrence(MONDAY.weekday()) if weekly else None
        out.append(Series(f"s{i}", f"s{i}@guanliban.calsync", "guanliban", rule, nominal,
                          tuple(occs)))
    return out


def _secrets_for(person_id: str, series: list[Series]) -> set[str]:
    viewer = viewer_of(POLICIES, person_id)
    out = set()
    for s in series:
        for o in s.occurrences:
            if o.klass == "CONFIDENTIAL" and not invited(viewer, o):
                out |= {o.summary, o.description}
                if not any(invited(viewer, x) and x.location == o.location
                           for x in s.occurrences):
                    out.add(o.location)
                out |= {a.email for a in o.attendees if not _visible_elsewhere(
                    viewer, a.email, series)}
    return out


def _visible_elsewhere(viewer, email: str, series: list[Series]) -> bool:
    """An attendee's address is no secret when a meeting the viewer sees lists them."""
    return any(email in (a.email for a in o.attendees)
               for s in series for o in s.occurrences
               if o.klass != "CONFIDENTIAL" or invited(viewer, o))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meetings(), st.sampled_from(STAFF))
def test_no_confidential_byte_reaches_an_uninvited_person(series: list[Series], person) -> None:
    viewer = viewer_of(POLICIES, person.id)
    secrets = _secrets_for(person.id, series)
    gen = Generation(tuple(series))
    stamps = {s.uid: STAMP for s in series}
    doors: dict[str, str] = {}
    # feeds, every scope
    for scope in ("me", ("org", ORG.id), *(("section", s) for s in ORG.sections)):
        doors[f"feed {scope}"] = render_feed(POLICIES, gen, viewer, scope, stamps).decode()
    # the CalDAV collections this person may read
    specs = org_collections(POLICIES, ORG.id, series, lambda s: render_resources(s, STAMP))
    staff = {p.id for p in ORG.staff}
    for spec in specs:
        readers = spec.readers if spec.readers is not None else staff
        if person.id in readers:
            doors[f"caldav {spec.slug}"] = b"".join(r.ics for r in spec.resources).decode()
    # the CLI's JSON
    shown = for_viewer(viewer, series)
    doors["json"] = json.dumps([occurrence_json(s, o) for s in shown for o in s.occurrences],
                               ensure_ascii=False)
    # clashes
    occs = gen.occurrences()
    by_rid = {(o.uid, recurrence_id(o)): o for o in occs}
    clashes = [c for c in (clash_for_viewer(viewer, c, by_rid)
                           for c in find_clashes(occs, (), calendar=POLICIES.calendar))
               if c is not None]
    doors["clashes"] = json.dumps([clash_json(c) for c in clashes], ensure_ascii=False)
    for door, text in doors.items():
        flat = text.replace("\r\n ", "")
        leaked = {s for s in secrets if s and s in flat}
        assert not leaked, (person.id, door, leaked)
    # and the rule shows the invitees what is theirs, in the org feed and their collection
    mine = [o for s in series for o in s.occurrences if invited(viewer, o)]
    for o in mine:
        assert o.summary in doors[f"feed {('org', ORG.id)}"].replace("\r\n ", "")


def test_secretaries_read_every_confidential_collection() -> None:
    secs = set(secretaries_of(POLICIES.organizations[ORG.id]))
    assert secs and all(POLICIES.organizations["guanliban"].people[s].section == "mishuke"
                        for s in secs)
    assert OPERATOR.person_id == ""
