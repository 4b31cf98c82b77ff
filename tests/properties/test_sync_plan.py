"""Pure tests of the normalizer and the planner (no servers, no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.sync.apply import from_row, org_of_uid, pending_before, stored_after
from calsync.sync.errors import MalformedServerData, SafetyValveError
from calsync.sync.normalize import (
    diff_instances,
    owned_org,
    semantic_key,
    sequence_of,
    try_semantic_key,
    uid_of,
    with_sequence,
)
from calsync.sync.plan import (
    UNLOADED,
    Action,
    Desired,
    ServerItem,
    Stored,
    href_for,
    hrefs_to_fetch,
    needs_body,
    plan,
    target_hrefs,
)

ORG = "guanliban"
COL = "/cal/guanliban/"


def ics(
    uid: str,
    summary: str = "例会",
    start: str = "20250106T090000",
    org: str | None = ORG,
    extra: str = "",
    seq: int | None = None,
) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calsync//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20250101T000000Z",
        f"DTSTART;TZID=Asia/Shanghai:{start}",
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        f"SUMMARY:{summary}",
    ]
    if org:
        lines.append(f"X-CALSYNC-ORG:{org}")
    if seq is not None:
        lines.append(f"SEQUENCE:{seq}")
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def uid(n: int, org: str = ORG) -> str:
    return f"u{n}@{org}.calsync"


def want(n: int, summary: str = "例会", **kw: object) -> Desired:
    return Desired.of(uid(n), f"u{n}", ics(uid(n), summary, **kw))  # type: ignore[arg-type]


def written(d: Desired, etag: str = '"e1"', seq: int = 0) -> Stored:
    return Stored(d.uid, href_for(COL, d.name), etag, d.key, d.ics, seq)


def on_server(s: Stored, etag: str | None = None, body: bytes | None = None) -> ServerItem:
    assert s.href is not None
    return ServerItem(s.href, etag or s.etag, None, body)


def reformatted(body: bytes) -> bytes:
    """What a server does to an object without changing it."""
    text = body.decode().replace("DTSTAMP:20250101T000000Z", "DTSTAMP:20260101T000000Z")
    text = text.replace("PRODID:-//calsync//EN", "PRODID:-//Radicale//EN")
    lines = text.split("\r\n")
    i = lines.index("BEGIN:VEVENT")
    event = lines[i + 1 : lines.index("END:VEVENT")]
    lines[i + 1 : i + 1 + len(event)] = [*reversed(event), "X-APPLE-CHURN:1"]
    return "\r\n".join(lines).encode()


def run(desired, stored, listing, **kw) -> dict[str, Action]:  # type: ignore[no-untyped-def]
    p = plan(COL, ORG, _by_uid(desired), _by_uid(stored), _by_href(listing), **kw)
    return {a.uid: a for a in p.actions}


def _by_uid(items):  # type: ignore[no-untyped-def]
    return {x.uid: x for x in items}


def _by_href(items):  # type: ignore[no-untyped-def]
    return {x.href: x for x in items}


# -- normalize -------------------------------------------------------------------------------


def test_semantic_key_ignores_churn() -> None:
    body = ics(uid(1))
    churned = reformatted(body)
    assert churned != body
    assert semantic_key(churned) == semantic_key(body)
    folded = body.replace(b"SUMMARY:", b"SUMMARY:").replace(b"RRULE:FREQ", b"RRULE:\r\n FREQ")
    assert semantic_key(folded) == semantic_key(body)
    assert semantic_key(ics(uid(1), seq=7)) == semantic_key(body)
    with_tz = body.replace(
        b"BEGIN:VEVENT",
        b"BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000"
        b"\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        b"BEGIN:VEVENT",
    )
    assert semantic_key(with_tz) == semantic_key(body)


def test_semantic_key_sees_meaning_and_component_order() -> None:
    body = ics(uid(1))
    assert semantic_key(ics(uid(1), "改了")) != semantic_key(body)
    assert semantic_key(ics(uid(1), start="20250106T100000")) != semantic_key(body)
    assert semantic_key(ics(uid(1), extra="X-CALSYNC-KIND:a")) != semantic_key(body)
    override = (
        "BEGIN:VEVENT\r\nUID:u1@guanliban.calsync\r\nDTSTAMP:20250101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Asia/Shanghai:20250113T090000\r\n"
        "DTSTART;TZID=Asia/Shanghai:20250114T090000\r\nDURATION:PT1H\r\nSUMMARY:挪\r\n"
        "END:VEVENT\r\n"
    )
    text = body.decode()
    first = text.replace("END:VCALENDAR", override + "END:VCALENDAR")
    i = text.index("BEGIN:VEVENT")
    second = text[:i] + override + text[i:]
    assert semantic_key(first) == semantic_key(second) != semantic_key(body)


def test_with_sequence_is_deterministic_and_keeps_meaning() -> None:
    body = ics(uid(1), seq=2)
    out = with_sequence(body, 5)
    assert out == with_sequence(body, 5)
    assert out.count(b"SEQUENCE:") == 1 and b"SEQUENCE:5\r\n" in out
    assert sequence_of(out) == 5 and semantic_key(out) == semantic_key(body)
    assert with_sequence(ics(uid(1)), 0).count(b"SEQUENCE:0") == 1


def test_owner_and_uid() -> None:
    assert owned_org(ics(uid(1))) == ORG
    assert owned_org(ics(uid(1), org=None)) is None
    assert uid_of(ics(uid(1))) == uid(1)
    assert org_of_uid(uid(1), "x") == ORG and org_of_uid("plain", "x") == "x"


@pytest.mark.parametrize(
    "bad",
    [b"", b"garbage", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", b"\xff\xfe\x00",
     b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:notadate\r\nEND:VEVENT\r\n"
     b"END:VCALENDAR\r\n"],
)  # fmt: skip
def test_malformed_data_raises_a_clear_error(bad: bytes) -> None:
    with pytest.raises(MalformedServerData, match="not valid iCalendar"):
        semantic_key(bad)
    assert try_semantic_key(bad) is None


def test_diff_instances_reports_moves_and_cancellations() -> None:
    base = ics(uid(1))
    override = (
        "BEGIN:VEVENT\r\nUID:u1@guanliban.calsync\r\nDTSTAMP:20250101T000000Z\r\n"
        "RECURRENCE-ID;TZID=Asia/Shanghai:20250113T090000\r\n"
        "DTSTART;TZID=Asia/Shanghai:20250114T100000\r\nDURATION:PT1H\r\nSUMMARY:例会\r\n"
        "END:VEVENT\r\n"
    )
    moved = base.decode().replace("END:VCALENDAR", override + "END:VCALENDAR").encode()
    cancelled = base.replace(b"RRULE:", b"EXDATE;TZID=Asia/Shanghai:20250120T090000\r\nRRULE:")
    m = diff_instances(base, moved)
    assert [(c.kind, c.old_start, c.new_start) for c in m] == [
        ("moved", "2025-01-13T09:00:00+08:00", "2025-01-14T10:00:00+08:00")
    ]
    c = diff_instances(base, cancelled)
    assert [(x.kind, x.recurrence_id) for x in c] == [("cancelled", "2025-01-20T09:00:00+08:00")]
    assert diff_instances(base, reformatted(base)) == []


# -- planner rules -----------------------------------------------------------------------------


def test_new_resource_is_created_at_name_href_without_precondition() -> None:
    d = want(1)
    a = run([d], [], [])[d.uid]
    assert (a.kind, a.href, a.etag, a.body) == ("create", "/cal/guanliban/u1.ics", None, d.ics)


def test_nothing_changed_plans_unchanged_and_fetches_nothing() -> None:
    d = want(1)
    s = written(d)
    assert hrefs_to_fetch({d.uid: s}, {s.href: on_server(s)}, set()) == set()
    assert run([d], [s], [on_server(s)])[d.uid].kind == "unchanged"


def test_policy_change_updates_with_if_match_and_bumps_sequence_once() -> None:
    old, new = want(1), want(1, "改期")
    s = written(old, seq=3)
    a = run([new], [s], [on_server(s)])[new.uid]
    assert (a.kind, a.etag, a.sequence) == ("update", '"e1"', 4)
    assert sequence_of(a.body or b"") == 4 and semantic_key(a.body or b"") == new.semantic
    after = stored_after(a, '"e2"')
    assert after is not None
    assert run([new], [after], [on_server(after)])[new.uid].kind == "unchanged"


def test_items_are_found_by_listing_href_not_by_uid() -> None:
    d = want(1)
    s = replace(written(d), href="/cal/guanliban/8f3a-odd-name.ics")
    assert run([d], [s], [on_server(s)])[d.uid].kind == "unchanged"
    moved = ServerItem("/cal/guanliban/elsewhere.ics", '"e9"', None, d.ics)
    assert hrefs_to_fetch({d.uid: s}, {moved.href: moved}, set()) == {moved.href}
    a = run([d], [s], [moved])[d.uid]
    assert (a.kind, a.href, a.etag) == ("refresh", moved.href, '"e9"')


def test_reformatted_server_copy_is_refreshed_not_a_conflict() -> None:
    d = want(1)
    s = written(d)
    item = on_server(s, '"e2"', reformatted(d.ics))
    assert hrefs_to_fetch({d.uid: s}, {s.href: on_server(s, '"e2"')}) == {s.href}
    a = run([d], [s], [item])[d.uid]
    assert (a.kind, a.etag) == ("refresh", '"e2"')
    new = want(1, "改期")
    b = run([new], [s], [item])[d.uid]
    assert (b.kind, b.etag) == ("update", '"e2"')


def test_app_edit_is_a_conflict_never_an_overwrite() -> None:
    d = want(1)
    s = written(d)
    edited = on_server(s, '"e2"', ics(uid(1), "日历里改的"))
    a = run([d], [s], [edited])[d.uid]
    assert (a.kind, a.conflict_kind) == ("conflict", "edited")
    assert a.server_ics == edited.ics and a.policy_ics == d.ics
    b = run([want(1, "政策也改了")], [s], [edited])[d.uid]
    assert (b.kind, b.conflict_kind) == ("conflict", "edited-and-changed")
    c = run([], [s], [edited])[d.uid]  # removed from policy: a modification beats a deletion
    assert (c.kind, c.conflict_kind) == ("conflict", "edited-and-changed")


def test_deleted_in_app_is_a_conflict_and_removed_plus_deleted_is_forgotten() -> None:
    d1, d2 = want(1), want(2)
    s1, s2 = written(d1), written(d2)
    a = run([d1, d2], [s1, s2], [on_server(s2)])[d1.uid]
    assert (a.kind, a.conflict_kind) == ("conflict", "deleted")
    assert run([d2], [s1, s2], [on_server(s2)])[d1.uid].kind == "forget"


def test_open_conflicts_wait_and_keep_policy_overwrites() -> None:
    d = want(1)
    s = written(d)
    edited = on_server(s, '"e2"', ics(uid(1), "日历里改的"))
    a = run([d], [s], [edited], open_conflicts={d.uid})[d.uid]
    assert a.kind == "conflict" and a.body is None
    b = run([d], [s], [edited], open_conflicts={d.uid}, resolved_keep_policy={d.uid})[d.uid]
    assert (b.kind, b.etag, b.sequence) == ("update", '"e2"', 1)
    gone = run([d, want(2)], [s, written(want(2))], [on_server(written(want(2)))],
               open_conflicts={d.uid}, resolved_keep_policy={d.uid})[d.uid]  # fmt: skip
    assert (gone.kind, gone.etag) == ("create", None)


def test_foreign_items_are_counted_never_touched() -> None:
    foreign = ServerItem("/cal/guanliban/x.ics", '"f"', None, ics("x@elsewhere", org=None))
    other_org = ServerItem(
        "/cal/guanliban/y.ics", '"g"', None, ics(uid(9, "jiaoyuju"), org="jiaoyuju")
    )
    p = plan(COL, ORG, {}, {}, {foreign.href: foreign, other_org.href: other_org})
    assert p.actions == () and p.stats["foreign"] == 2


def test_interrupted_create_is_adopted_not_duplicated() -> None:
    d = want(1)
    item = ServerItem(href_for(COL, d.name), '"e1"', None, reformatted(d.ics))
    assert target_hrefs(COL, {d.uid: d}, {}) >= {item.href}
    assert hrefs_to_fetch({}, {item.href: item}, target_hrefs(COL, {d.uid: d}, {})) == {item.href}
    a = run([d], [], [item])[d.uid]
    assert (a.kind, a.etag, a.body) == ("adopt", '"e1"', item.ics)


def test_interrupted_update_is_adopted() -> None:
    old, new = want(1), want(1, "改期")
    s = written(old)
    item = on_server(s, '"e2"', with_sequence(new.ics, 1))
    a = run([new], [s], [item])[new.uid]
    assert (a.kind, a.sequence) == ("adopt", 1)


def test_write_ahead_rows_settle() -> None:
    d = want(1)
    create = pending_before(replace(run([d], [], [])[d.uid], href=href_for(COL, "u1")), None)
    # the create never landed: create again; it landed: record it
    assert run([d], [create], [])[d.uid].kind == "create"
    landed = ServerItem(create.href or "", '"e1"', None, d.ics)
    assert run([d], [create], [landed])[d.uid].kind == "refresh"
    assert run([], [create], [])[d.uid].kind == "forget"
    # an update that never landed: the server still has the old copy with the old etag
    s = written(d)
    new = want(1, "改期")
    upd = pending_before(run([new], [s], [on_server(s)])[d.uid], s)
    assert upd.pending == "update" and upd.prev_etag == '"e1"'
    a = run([new], [upd], [on_server(s, body=d.ics)])[d.uid]
    assert (a.kind, a.etag) == ("update", '"e1"')
    assert run([d], [upd], [on_server(s, body=d.ics)])[d.uid].kind == "refresh"
    # a delete that landed: forget; one that did not: delete again
    others = [written(want(2)), written(want(3))]
    rm = pending_before(
        run([], [s, *others], [on_server(s), on_server(others[0])], force=True)[d.uid], s
    )
    assert rm.pending == "delete"
    assert run([], [rm], [])[d.uid].kind == "forget"
    assert run([], [rm], [on_server(s, body=d.ics)], force=True)[d.uid].kind == "delete"


def test_keep_server_rows_stay_until_the_policy_changes() -> None:
    d = want(1)
    app = ics(uid(1), "日历里改的")
    kept = Stored(d.uid, href_for(COL, "u1"), '"e2"', d.key, app, 1)  # resolve keep=server
    assert run([d], [kept], [on_server(kept)])[d.uid].kind == "unchanged"
    churn = on_server(kept, '"e3"', reformatted(app))
    assert run([d], [kept], [churn])[d.uid].kind == "refresh"
    assert run([want(1, "新政策")], [kept], [on_server(kept)])[d.uid].kind == "update"
    deletion = Stored(d.uid, None, None, d.key, b"", 1)  # kept a deletion
    assert run([d], [deletion], [])[d.uid].kind == "unchanged"
    assert run([want(1, "新政策")], [deletion], [])[d.uid].kind == "create"


def test_unreadable_server_data_never_crashes_or_gets_overwritten() -> None:
    d = want(1)
    s = written(d)
    junk = ServerItem("/cal/guanliban/junk.ics", '"j"', None, b"BEGIN:VCALENDAR\r\ngarbage")
    p = plan(COL, ORG, {d.uid: d}, {d.uid: s}, {junk.href: junk, s.href: on_server(s)})
    assert p.stats["unreadable"] == 1 and "junk.ics" in p.warnings[0]
    broken = on_server(s, '"e2"', b"not ical at all")
    a = run([d], [s], [broken])[d.uid]
    assert (a.kind, a.conflict_kind) == ("conflict", "edited")
    b = run([d], [s], [broken], open_conflicts={d.uid}, resolved_keep_policy={d.uid})[d.uid]
    assert (b.kind, b.etag) == ("update", '"e2"')


def test_taken_href_gets_an_alternative_name() -> None:
    d = want(1)
    squatter = ServerItem(href_for(COL, "u1"), '"f"', None, ics("x@elsewhere", org=None))
    a = run([d], [], [squatter])[d.uid]
    assert a.kind == "create" and a.href != squatter.href and a.href.startswith(COL + "u1-")


def test_orphans_of_ours_without_a_record_are_left_alone() -> None:
    item = ServerItem(href_for(COL, "u1"), '"e"', None, ics(uid(1)))
    p = plan(COL, ORG, {}, {}, {item.href: item})
    assert p.actions == () and p.stats["orphan"] == 1


def test_safety_valve() -> None:
    ds = [want(i) for i in range(4)]
    ss = [written(d) for d in ds]
    with pytest.raises(SafetyValveError, match="--force") as err:
        run(ds, ss, [])
    assert "4" in str(err.value)
    assert {a.kind for a in run(ds, ss, [], force=True).values()} == {"conflict"}
    listing = [on_server(s) for s in ss]
    assert [a.kind for a in run(ds[:2], ss, listing).values()].count("delete") == 2
    with pytest.raises(SafetyValveError, match="delete 3 of the 4"):
        run(ds[:1], ss, listing)
    assert [a.kind for a in run(ds[:1], ss, listing, force=True).values()].count("delete") == 3


def test_actions_are_in_a_deterministic_order() -> None:
    ds = [want(i, "新") for i in range(4)] + [want(7)]
    ss = [written(want(i)) for i in range(4)] + [written(want(5)), written(want(6))]
    listing = [on_server(s) for s in ss]
    p1 = plan(COL, ORG, _by_uid(ds), _by_uid(ss), _by_href(listing))
    p2 = plan(COL, ORG, _by_uid(reversed(ds)), _by_uid(reversed(ss)), _by_href(reversed(listing)))
    assert p1 == p2
    kinds = [a.kind for a in p1.actions]
    assert kinds == ["delete", "delete", "update", "update", "update", "update", "create"]


def test_store_row_round_trip_keeps_the_write_ahead_mark() -> None:
    from datetime import UTC, datetime

    from calsync.store.records import ResourceState

    row = ResourceState(1, ORG, "http://x/cal/", uid(1), "/cal/u1.ics",
                        'calsync-pending:update:"e1"', "k" * 64, "BODY", 2,
                        datetime.now(UTC))  # fmt: skip
    s = from_row(row)
    assert (s.pending, s.prev_etag, s.etag, s.written_ics) == ("update", '"e1"', None, b"BODY")


# -- properties ------------------------------------------------------------------------------

# Per uid: what the policy wants, what calsync stored, what the server holds.
VERSIONS = st.sampled_from([None, "a", "b"])
SERVER = st.sampled_from(["missing", "as-stored", "reformatted", "edited", "desired"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict, dict, dict, set[str], set[str], set[str]]:
    desired: dict[str, Desired] = {}
    stored: dict[str, Stored] = {}
    listing: dict[str, ServerItem] = {}
    edited: set[str] = set()
    for n in range(draw(st.integers(1, 5))):
        u = uid(n)
        want_v, stored_v, server = draw(VERSIONS), draw(VERSIONS), draw(SERVER)
        if want_v:
            desired[u] = want(n, want_v)
        if stored_v:
            stored[u] = written(want(n, stored_v), f'"s{n}"')
        href = href_for(COL, f"u{n}")
        if server == "as-stored" and stored_v:
            listing[href] = ServerItem(href, f'"s{n}"', None, want(n, stored_v).ics)
        elif server == "reformatted" and stored_v:
            listing[href] = ServerItem(href, f'"r{n}"', None, reformatted(want(n, stored_v).ics))
        elif server == "edited":
            listing[href] = ServerItem(href, f'"x{n}"', None, ics(u, f"app edit {n}"))
            edited.add(u)
        elif server == "desired" and want_v:
            listing[href] = ServerItem(href, f'"d{n}"', None, want(n, want_v).ics)
    for n in range(draw(st.integers(0, 2))):
        href = f"{COL}foreign-{n}.ics"
        listing[href] = ServerItem(href, f'"f{n}"', None, ics(f"f{n}@x", org=None))
    keep = {u for u in edited if draw(st.booleans())}
    conflicts = {u for u in stored if draw(st.booleans())} | keep
    return desired, stored, listing, edited, keep, conflicts


def _apply(listing: dict, stored: dict, actions: tuple[Action, ...]) -> tuple[dict, dict]:
    """A fake server + store applying a plan the way apply.py does."""
    listing, stored = dict(listing), dict(stored)
    for i, a in enumerate(actions):
        etag = f'"n{i}"'
        if a.kind in ("create", "update"):
            listing[a.href] = ServerItem(a.href, etag, None, a.body)
        elif a.kind == "delete":
            listing.pop(a.href)
        if a.kind in ("conflict", "unchanged"):
            continue
        after = stored_after(a, etag)
        if after is None:
            stored.pop(a.uid, None)
        else:
            stored[a.uid] = after
    return listing, stored


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_second_plan_after_applying_plans_nothing(sc) -> None:  # type: ignore[no-untyped-def]
    desired, stored, listing, _edited, keep, conflicts = sc
    first = plan(COL, ORG, desired, stored, listing, conflicts, keep, force=True)
    listing2, stored2 = _apply(listing, stored, first.actions)
    still = conflicts - keep | {a.uid for a in first.actions if a.kind == "conflict"}
    second = plan(COL, ORG, desired, stored2, listing2, still, (), force=True)
    assert [a for a in second.actions if a.kind not in ("unchanged", "conflict")] == []


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_foreign_and_edited_items_are_never_written(sc) -> None:  # type: ignore[no-untyped-def]
    desired, stored, listing, edited, keep, conflicts = sc
    p = plan(COL, ORG, desired, stored, listing, conflicts, keep, force=True)
    for a in p.writes:
        assert a.href is None or "foreign" not in a.href
        if a.uid in edited and a.kind != "create":
            assert a.uid in keep, a


def test_only_rows_the_plan_may_touch_need_their_stored_body() -> None:
    d1, d2, d3 = want(1), want(2), want(3)
    s1, s2, s3 = written(d1), written(d2), written(d3)
    listing = _by_href([on_server(s1), on_server(s2, '"e9"')])
    desired = _by_uid([d1, d2, want(3, "改了")])
    assert not needs_body(s1, listing, desired)                 # unchanged: stays UNLOADED
    assert needs_body(s2, listing, desired)                     # etag changed on the server
    assert needs_body(s3, listing, desired)                     # gone from the server
    assert needs_body(s1, listing, _by_uid([want(1, "改了")]))  # policy changed: an update
    assert needs_body(s1, listing, {})                          # removed: a delete
    assert needs_body(s1, listing, desired, {d1.uid})           # open conflict
    assert needs_body(replace(s1, pending="update"), listing, desired)
    # a head-only unchanged row plans "unchanged" without its body
    head = replace(s1, written_ics=UNLOADED)
    (a,) = run([d1], [head], [on_server(s1)]).values()
    assert a.kind == "unchanged"


