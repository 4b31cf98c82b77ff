"""Decisions (议定事项) as VTODOs against real Radicale and Xandikos: the tasks collection
(VTODO only, Chinese name), what each VTODO says (read back by icalendar AND by the `ical`
package), a second publish plans nothing, done on the page → STATUS:COMPLETED + COMPLETED,
a task marked done in a client is a conflict (not overwritten), and a confidential meeting's
decision never reaches the organization's tasks collection."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream
from ical.types import RelationshipType  # noqa: F401 - the engine knows RELATED-TO

from calsync.app.service import generation, resolve_and_record
from calsync.app.tasks_publish import publish_tasks
from calsync.ical.tasks import CONFIDENTIAL_TASKS, task_uid
from calsync.meetings.minutes import DONE, PROGRESS, DecisionInput
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import open_store
from calsync.sync.client import Target
from tests.support.servers import ServerHandle
from tests.support.web_fixtures import empty_home, hrefs
from tests.support.webapp import confidential_policies

ORG = "guanliban"
WEEKLY = "zhoulihui@guanliban.calsync"          # 周例会: public
OFFICE = "zhurenbangong@guanliban.calsync"      # 主任办公会: confidential in this policy copy
SECRET_TITLE = "研究人事调整方案（保密）"
PUBLIC_TITLE = "修订窗口服务考评办法"
AT = dt.datetime(2026, 3, 5, 10, 0, tzinfo=TZ)


@pytest.fixture
def world(tmp_path: Path, caldav_server: ServerHandle) -> dict[str, Any]:
    policies = load_policies(confidential_policies(tmp_path))
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    occs = generation(policies, store, dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                      [ORG]).occurrences()
    weekly = next(o for o in occs if o.uid == WEEKLY)
    office = next(o for o in occs if o.uid == OFFICE)
    assert office.klass == "CONFIDENTIAL" and weekly.klass == "PUBLIC"
    home = empty_home(caldav_server)
    target = Target(home, caldav_server.username, caldav_server.password, 10.0)
    pub = store.minutes.add_action_item(ORG, weekly.uid, weekly.nominal_start,
                                        DecisionInput(PUBLIC_TITLE, "zonghe", dt.date(2026, 3, 20)),
                                        meeting=weekly.summary, confidential=False,
                                        actor="zhou_mishukezhang", at=AT)
    sec = store.minutes.add_action_item(ORG, office.uid, office.nominal_start,
                                        DecisionInput(SECRET_TITLE, "mishuke",
                                                      dt.date(2026, 3, 25)),
                                        meeting=office.summary, confidential=True,
                                        actor="zhou_mishukezhang", at=AT)
    yield {"policies": policies, "store": store, "occs": occs, "target": target,
           "server": caldav_server, "home": home, "pub": pub, "sec": sec,
           "weekly": weekly, "office": office}
    store.close()


def _publish(w: dict[str, Any]) -> Any:
    result = publish_tasks(w["policies"], w["store"], w["target"], [ORG], w["occs"])
    result.raise_first_error()
    return result


def _collections(server: ServerHandle, home: str) -> list[str]:
    status, _, body = server.request("PROPFIND", home, b"", {"Depth": "1"})
    assert status == 207
    return sorted({h for h in hrefs(body) if h.rstrip("/") != urljoin(home, ".").rstrip("/")
                   and h.endswith("/") and h != home and not home.endswith(h)})


def _objects(server: ServerHandle, collection: str) -> dict[str, tuple[bytes, str]]:
    """UID → (body, etag), by plain GETs."""
    status, _, body = server.request("PROPFIND", collection, b"", {"Depth": "1"})
    assert status == 207
    out = {}
    for href in hrefs(body):
        if href.endswith(".ics"):
            st, headers, data = server.request("GET", urljoin(collection, href))
            assert st == 200
            [todo] = icalendar.Calendar.from_ical(data).walk("VTODO")
            etag = headers.get("ETag") or headers.get("Etag") or ""
            out[str(todo["UID"])] = (data, etag, urljoin(collection, href))
    return out


def _prop(server: ServerHandle, collection: str, prop: str) -> bytes:
    body = (f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" '
            f'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{prop}</D:prop></D:propfind>')
    status, _, data = server.request("PROPFIND", collection, body.encode(),
                                     {"Depth": "0", "Content-Type": "application/xml"})
    assert status == 207, data
    return data


def test_round_trip_idempotent_and_done(world: dict[str, Any]) -> None:
    w, server, home = world, world["server"], world["home"]
    first = _publish(w)
    assert first.counts() == {"create": 2}
    public = urljoin(home, f"{ORG}-tasks/")
    objs = _objects(server, public)
    assert set(objs) == {task_uid(w["pub"])}
    # the collection: VTODO only, named in Chinese
    comps = _prop(server, public, "<C:supported-calendar-component-set/>").decode()
    assert re.findall(r'comp name="(\w+)"', comps) == ["VTODO"]
    assert "管理办会议议定事项" in _prop(server, public, "<D:displayname/>").decode()

    body = objs[task_uid(w["pub"])][0]
    [todo] = icalendar.Calendar.from_ical(body).walk("VTODO")
    assert str(todo["SUMMARY"]) == PUBLIC_TITLE
    assert todo["DUE"].dt == dt.date(2026, 3, 20)
    assert str(todo["STATUS"]) == "NEEDS-ACTION" and "COMPLETED" not in todo
    # the calendar object the meeting is in: March's 周例会 is 王立新's (the duty leader's part)
    assert str(todo["RELATED-TO"]) == w["weekly"].published_uid == \
        "zhoulihui--wang_fuzhuren@guanliban.calsync"
    rid = w["weekly"].nominal_start.astimezone(TZ)
    assert str(todo["X-CALSYNC-RECURRENCE-ID"]) == f"{rid:%Y%m%dT%H%M%S}"
    assert todo["X-CALSYNC-RECURRENCE-ID"].params["TZID"] == "Asia/Shanghai"
    assert "承办科室：综合业务科" in str(todo["DESCRIPTION"])
    assert todo["DTSTAMP"].dt == AT.astimezone(dt.UTC)
    # the independent engine reads the same task
    [other] = IcsCalendarStream.calendar_from_ics(body.decode()).todos
    assert other.uid == task_uid(w["pub"]) and other.summary == PUBLIC_TITLE
    assert other.due == dt.date(2026, 3, 20) and other.status == "NEEDS-ACTION"
    assert [r.uid for r in other.related_to] == [w["weekly"].published_uid]

    # a second publish plans nothing
    again = _publish(w)
    assert again.counts() == {"unchanged": 2}
    assert _objects(server, public)[task_uid(w["pub"])][1] == objs[task_uid(w["pub"])][1]

    # progress, then done on the page → the server copy follows at the next publish
    store = w["store"]
    item = store.minutes.report_progress(w["pub"].id, status=PROGRESS, note="已起草修订稿",
                                         actor="wu_kezhang", expected_version=1,
                                         at=AT + dt.timedelta(days=1))
    assert _publish(w).counts() == {"unchanged": 1, "update": 1}
    [todo] = icalendar.Calendar.from_ical(_objects(server, public)[task_uid(item)][0]) \
        .walk("VTODO")
    assert str(todo["STATUS"]) == "IN-PROCESS"
    done_at = AT + dt.timedelta(days=2)
    item = store.minutes.report_progress(item.id, status=DONE, note="办法已印发",
                                         actor="wu_kezhang",
                                         expected_version=item.version, at=done_at)
    assert _publish(w).counts() == {"unchanged": 1, "update": 1}
    body = _objects(server, public)[task_uid(item)][0]
    [todo] = icalendar.Calendar.from_ical(body).walk("VTODO")
    assert str(todo["STATUS"]) == "COMPLETED"
    assert todo["COMPLETED"].dt == done_at.astimezone(dt.UTC)
    assert int(todo["PERCENT-COMPLETE"]) == 100
    [other] = IcsCalendarStream.calendar_from_ics(body.decode()).todos
    assert other.status == "COMPLETED" and other.completed == done_at.astimezone(dt.UTC)
    assert _publish(w).counts() == {"unchanged": 2}


def test_client_edit_is_a_conflict(world: dict[str, Any]) -> None:
    w, server, home = world, world["server"], world["home"]
    _publish(w)
    public = urljoin(home, f"{ORG}-tasks/")
    body, etag, url = _objects(server, public)[task_uid(w["pub"])]
    # Thunderbird marks it done: STATUS, COMPLETED, PERCENT-COMPLETE, a new DTSTAMP
    edited = body.replace(b"STATUS:NEEDS-ACTION", b"STATUS:COMPLETED\r\nCOMPLETED:20260306T"
                          b"020000Z\r\nPERCENT-COMPLETE:100\r\nLAST-MODIFIED:20260306T020000Z")
    assert edited != body
    status, _, _ = server.request("PUT", url, edited, {"Content-Type": "text/calendar",
                                                       "If-Match": etag})
    assert status in (201, 204)
    # meanwhile the page changes it too (a progress note)
    w["store"].minutes.report_progress(w["pub"].id, status=PROGRESS, note="正在办理",
                                       actor="wu_kezhang", expected_version=1,
                                       at=AT + dt.timedelta(days=1))
    result = _publish(w)
    assert result.counts() == {"conflict": 1, "unchanged": 1}
    after, _, _ = _objects(server, public)[task_uid(w["pub"])]
    assert b"STATUS:COMPLETED" in after and b"IN-PROCESS" not in after   # not overwritten
    [c] = w["store"].conflicts.open_conflicts(ORG)
    assert c.uid == task_uid(w["pub"]) and c.kind == "edited-and-changed"
    # still a conflict, still untouched, until someone resolves it
    assert _publish(w).counts() == {"conflict": 1, "unchanged": 1}
    # kept the client's: the decision takes its status (with a note), and the next publish
    # writes calsync's version of the same thing, then nothing
    _, recorded = resolve_and_record(w["policies"], w["store"], c.id, "server", "zhou",
                                     dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert recorded == 1
    item = w["store"].minutes.action_item(w["pub"].id)
    assert item.status == DONE and item.completed_at is not None
    notes = w["store"].minutes.action_notes([item.id])[item.id]
    assert notes[-1].note == "在任务应用中改为“已办结”"
    assert _publish(w).counts() == {"unchanged": 1, "update": 1}
    body = _objects(server, public)[task_uid(item)][0]
    assert b"STATUS:COMPLETED" in body and b"PERCENT-COMPLETE:100" in body
    assert _publish(w).counts() == {"unchanged": 2}
    assert w["store"].conflicts.open_conflicts(ORG) == []


def test_confidential_decision_only_for_the_meetings_readers(world: dict[str, Any]) -> None:
    w, server, home = world, world["server"], world["home"]
    result = _publish(w)
    public = urljoin(home, f"{ORG}-tasks/")
    raw = b"".join(b for b, _, _ in _objects(server, public).values())
    assert SECRET_TITLE.encode() not in raw and task_uid(w["sec"]).encode() not in raw
    assert OFFICE.encode() not in raw
    [secret] = [s for s in result.specs if CONFIDENTIAL_TASKS in s.slug]
    # read by exactly the people the meeting names and the organizer section (秘书科)
    office = w["office"]
    named = {a.person_id for a in office.attendees if a.person_id}
    assert secret.readers == named | {"zhou_mishukezhang", "chen_mishu", "sun_keyuan"}
    assert "qian_keyuan" not in secret.readers
    [plain] = [s for s in result.specs if s.slug == f"{ORG}-tasks"]
    assert plain.readers is None   # the organization's staff, like its calendar
    objs = _objects(server, urljoin(home, f"{secret.slug}/"))
    [todo] = icalendar.Calendar.from_ical(objs[task_uid(w["sec"])][0]).walk("VTODO")
    assert str(todo["SUMMARY"]) == SECRET_TITLE and str(todo["CLASS"]) == "CONFIDENTIAL"
    assert str(todo["RELATED-TO"]) == OFFICE
