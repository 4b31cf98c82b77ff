"""Publishing decisions (议定事项) as VTODOs: the I/O edge of calsync.ical.tasks.

The tasks collections go through the same plan-then-apply sync as the events
(calsync.sync.publish.publish): idempotent, If-Match/If-None-Match on every write, a task
edited in a client (marked done in Thunderbird, say) recorded as a conflict and left alone.
The only difference is how a missing collection is made: MKCALENDAR with
``supported-calendar-component-set`` VTODO (RFC 4791 5.2.3), so clients file it under tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from calsync.ical.tasks import COMPONENTS, occurrence_key, task_uid
from calsync.meetings.minutes import STATUS_LABELS
from calsync.occurrence import local_part
from calsync.policy import PolicySet
from calsync.sync.apply import Progress
from calsync.sync.client import SHANGHAI_VTIMEZONE, CalDAVClient, Target, norm_href
from calsync.sync.errors import MalformedServerData, ServerRefused
from calsync.sync.layouts import retired_tasks, task_collections
from calsync.sync.normalize import parse
from calsync.sync.publish import CollectionSpec, PublishResult, publish

if TYPE_CHECKING:  # typing only: calsync.app.service passes the store it opened
    from calsync.store import Store

DAV, CAL = "DAV:", "urn:ietf:params:xml:ns:caldav"


class TasksClient(CalDAVClient):
    """A CalDAV client whose new collections hold VTODOs only."""

    components: tuple[str, ...] = COMPONENTS

    def mkcalendar(self, url: str, display_name: str, tz: str = SHANGHAI_VTIMEZONE) -> None:
        comps = "".join(f'<C:comp name="{c}"/>' for c in self.components)
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<C:mkcalendar xmlns:D="{DAV}" xmlns:C="{CAL}"><D:set><D:prop>'
            f"<D:displayname>{escape(display_name)}</D:displayname>"
            f"<C:calendar-timezone>{escape(tz)}</C:calendar-timezone>"
            f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        ).encode()
        resp = self.request("MKCALENDAR", url, body,
                            {"Content-Type": "application/xml; charset=utf-8"})
        if resp.status not in (200, 201):
            raise ServerRefused(norm_href(url), resp.status, "creating the tasks collection")


def task_specs(policies: PolicySet, store: Store, orgs: Iterable[str], occurrences: Iterable,
               home: str) -> list[CollectionSpec]:
    """The tasks collections of ``orgs`` (none for an organization that never had a
    decision), plus confidential ones to retire."""
    by_key = {occurrence_key(o): o for o in occurrences}
    known = store.sync_state.collection_urls()
    with_items = set(store.minutes.action_organizations())
    specs: list[CollectionSpec] = []
    wanted = [o for o in orgs if o in policies.organizations]
    for org_id in wanted:
        written = any(u.rstrip("/").rsplit("/", 1)[-1].startswith(org_id + "-tasks")
                      for u in known.get(org_id, ()))
        if org_id not in with_items and not written:
            continue
        items = store.minutes.action_items(org_id)
        specs += task_collections(policies, org_id, items, by_key, keep_empty=written)
    return specs + retired_tasks(specs, wanted, known, home)


def publish_tasks(policies: PolicySet, store: Store, target: Target, orgs: Iterable[str],
                  occurrences: Iterable, into: PublishResult | None = None,
                  dry_run: bool = False, force: bool = False,
                  progress: Progress | None = None, stop: Callable[[], bool] | None = None,
                  restore: bool | None = None, settle: bool = False) -> PublishResult:
    """Publish the decisions of ``orgs``; with ``into`` (the events' result) its collections,
    errors and specs are added there, so one result reports (and grants) everything."""
    specs = task_specs(policies, store, list(orgs), occurrences, target.url)
    result = PublishResult(dry_run, specs=[])
    if specs and not (stop is not None and stop()):  # shutting down: events only
        with TasksClient(target) as dav:
            result = publish(specs, store, target, dry_run=dry_run, force=force,
                             progress=progress, client=dav, stop=stop,
                             restore=force if restore is None else restore, settle=settle)
    if into is not None:
        into.collections.extend(result.collections)
        into.errors.extend(result.errors)
        into.specs.extend(result.specs)
        return into
    return result


# -- a conflict resolved in the client's favour --------------------------------------------

CLIENT_STATUS = {"NEEDS-ACTION": "open", "IN-PROCESS": "progress", "COMPLETED": "done"}


def adopt_client_status(store: Store, uid: str, server_ics: str | None, actor: str) -> bool:
    """After ``resolve --keep server`` on a decision's VTODO: take the status the client set
    (marked done in Thunderbird, say) into the decision, with a progress note saying so.
    True when the decision changed; the next publish then writes calsync's (equal) version."""
    head = local_part(uid)
    if not head.startswith("decision-") or not head[9:].isdigit() or not server_ics:
        return False
    item = store.minutes.action_item(int(head[9:]))
    if item is None or task_uid(item) != uid:   # the decision's own task, nobody else's
        return False
    try:
        todos = parse(server_ics).walk("VTODO")
    except MalformedServerData:
        return False
    status = CLIENT_STATUS.get(str(todos[0].get("STATUS", "")).upper()) if todos else None
    if status is None or status == item.status:
        return False
    store.minutes.report_progress(item.id, status=status,
                                  note=f"在任务应用中改为“{STATUS_LABELS[status]}”", actor=actor,
                                  expected_version=item.version)
    return True
