"""What each CalDAV server does differently, as data, plus server-kind detection.

Rows for "radicale" (3.9.0) and "xandikos" (0.4.10) were OBSERVED on 2026-11-27 against real
servers started by tests/support/servers.py: probe scripts using caldav 3.6.0 through
tests/support/faultproxy.py (which logged every request), and caldav-server-tester 1.7.0
(`--format json --diff`). tests/test_servers.py re-checks the sync-token claims on every run.
The "nextcloud", "baikal" and "generic" rows are NOT observed here; they are taken from the
profiles in caldav 3.6.0's `caldav.compatibility_hints` (or are conservative defaults).

`caldav_features` is what to pass as `caldav.DAVClient(features=...)`: a built-in profile name
plus overrides, which the library resolves via `caldav.config.resolve_features`. With a profile
whose "save.if-none-match" and "save.no-uid-conflict" hold, `save(no_overwrite=True)` /
`add_event(..., no_overwrite=True)` is ONE PUT with `If-None-Match: *`; without one it first
sends a UID-search REPORT (one per object: quadratic for a bulk upload).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

# How a server treats DAV:limit in a sync-collection REPORT (RFC 6578 section 3.7).
#   honoured            truncates with a 507 and a checkpoint token: paging is safe
#   ignored             answers everything in one reply: harmless, but no paging
#   truncates_silently  cuts the reply at the limit WITHOUT a 507 and returns the newest
#                       token, so the rest is lost for good: never send DAV:limit there
#   unknown             not observed: don't send DAV:limit
LimitBehaviour = Literal["honoured", "ignored", "truncates_silently", "unknown"]


@dataclass(frozen=True)
class ServerQuirks:
    kind: str
    # RFC 6578 sync-collection REPORT with tokens works (incremental changes + deletions)
    sync_token: bool
    # DAV:limit in sync-collection, see LimitBehaviour; page only when "honoured"
    sync_limit: LimitBehaviour
    # status for a sync token the server never issued (client must do a full resync)
    invalid_sync_token_status: int | None
    # a successful PUT answers with a strong ETag header (no GET needed afterwards)
    etag_on_put: bool
    # PUT also answers with a Schedule-Tag (RFC 6638): caldav's obj.save() then sends
    # If-Schedule-Tag-Match instead of If-Match unless called with precondition="etag"
    schedule_tag_on_put: bool
    # If-None-Match: * on an existing object is refused with 412 (safe create)
    if_none_match_star: bool
    # If-Match: * on a missing object is refused with 412 (safe update-only)
    if_match_star: bool
    # status for a second resource with a UID already in the collection (CALDAV:no-uid-conflict)
    uid_conflict_status: int | None
    # MKCALENDAR applies displayname and calendar-timezone from its body in one request
    mkcalendar_props: bool
    # collection URLs must end in "/" (both observed servers also answer without it)
    needs_trailing_slash: bool
    # largest calendar-multiget the server is known to accept; None = no known limit
    max_multiget: int | None
    # server answers requests without credentials with 401 first; send Basic preemptively
    # (DAVClient(auth_type="basic")) to save one round trip per connection
    preemptive_basic_auth: bool
    # caldav.DAVClient(features=...) value
    caldav_features: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    @property
    def dav_limit_paging_safe(self) -> bool:
        return self.sync_limit == "honoured"


QUIRKS: dict[str, ServerQuirks] = {
    # Radicale 3.9.0, observed 2026-11-27 (probe scripts + caldav-server-tester 1.7.0):
    # - sync_token: initial + incremental sync-collection REPORT answered 207 with a new
    #   token, deletions reported as 404 members (probe; re-checked in tests/test_servers.py).
    # - sync_limit: DAV:limit nresults=2 with 6 members -> all 6 in one 207, no 507 (probe);
    #   tester: sync-token.limit "unsupported: DAV:limit is ignored".
    # - invalid token: 403 for both a foreign URL token and 40 zeroes (probe).
    # - PUT 201/204 carries ETag "<sha256>" (probe); If-None-Match:* on existing -> 412,
    #   If-Match:* missing -> 412, If-Match:* existing -> 204 (probe; tester reports
    #   save-load.mutable.if-match-wildcard "full", contradicting caldav's 3.8.0-era profile,
    #   hence the override below).
    # - same UID under a new name -> 409 with CALDAV:no-uid-conflict (probe; tester "full").
    # - MKCALENDAR with displayname + calendar-timezone -> 201, both read back by PROPFIND.
    # - PROPFIND on a collection without trailing slash -> 207 (probe).
    # - without credentials the first request gets 401 (probe: caldav's first MKCALENDAR
    #   went 401 then 201 unless auth_type="basic").
    # - the builtin server allows 8 parallel connections ("Maximum parallel connections: 8"
    #   in its log); multiget size limit not observed.
    "radicale": ServerQuirks(
        kind="radicale",
        sync_token=True,
        sync_limit="ignored",
        invalid_sync_token_status=403,
        etag_on_put=True,
        schedule_tag_on_put=False,
        if_none_match_star=True,
        if_match_star=True,
        uid_conflict_status=409,
        mkcalendar_props=True,
        needs_trailing_slash=False,
        max_multiget=None,
        preemptive_basic_auth=True,
        caldav_features={
            "base": "radicale",
            # observed on 3.9.0 (the library's profile was measured on 3.8.0)
            "save-load.mutable.if-match-wildcard": {"support": "full"},
        },
        notes="Server header 'WSGIServer/0.2 CPython/3.x' (wsgiref builtin server).",
    ),
    # Xandikos 0.4.10, observed 2026-11-27 (probe scripts + caldav-server-tester 1.7.0):
    # - sync_token: initial + incremental sync-collection work, deletions as 404 (probe;
    #   re-checked in tests/test_servers.py). Tokens are git SHAs.
    # - sync_limit: DAV:limit nresults=2 with 6 members -> 2 members, no 507, and the SAME
    #   newest token as an unlimited sync (probe); tester: sync-token.limit "broken: 1 of 3
    #   changes are never reported: the reply is cut at 2 without a 507, and the token skips
    #   them". Never page with DAV:limit on Xandikos.
    # - invalid token: 412 with DAV:valid-sync-token for a foreign URL and for 40 zeroes
    #   (probe; tester "quirk", contradicting caldav's 0.4.8-era "ungraceful 500").
    # - PUT 201/204 carries ETag "<git sha1>" (probe); If-None-Match:* existing -> 412,
    #   If-Match:* missing -> 412, If-Match:* existing -> 204 (probe).
    # - same UID under a new name -> 412 with CALDAV:no-uid-conflict (probe; tester "full").
    # - PUT also answers Schedule-Tag, even for an event without ORGANIZER (probe: caldav's
    #   update save() went out with If-Schedule-Tag-Match, not If-Match).
    # - MKCALENDAR with displayname + calendar-timezone -> 201 with a mkcalendar-response,
    #   both read back by PROPFIND (probe). No trailing slash -> 207 (probe).
    # - no authentication at all (single principal /user/, calendar home /user/calendars/).
    "xandikos": ServerQuirks(
        kind="xandikos",
        sync_token=True,
        sync_limit="truncates_silently",
        invalid_sync_token_status=412,
        etag_on_put=True,
        schedule_tag_on_put=True,
        if_none_match_star=True,
        if_match_star=True,
        uid_conflict_status=412,
        mkcalendar_props=True,
        needs_trailing_slash=False,
        max_multiget=None,
        preemptive_basic_auth=False,
        caldav_features={
            "base": "xandikos",
            "sync-token.invalid-token": {
                "support": "quirk",
                "behaviour": "412 with valid-sync-token (observed on 0.4.10)",
            },
        },
        notes="Server header 'Python/3.x aiohttp/x.y' (aiohttp); no auth.",
    ),
    # NOT observed here: from caldav 3.6.0 compatibility_hints.nextcloud (tester 2026-10);
    # schedule_tag_on_put assumed False (SabreDAV sends it only for scheduling objects).
    # sync-token.limit "broken" (cut without 507, token skips the rest); initial sync with
    # DAV:limit refused with 507; save.no-uid-conflict "full". SabreDAV-based.
    "nextcloud": ServerQuirks(
        kind="nextcloud",
        sync_token=True,
        sync_limit="truncates_silently",
        invalid_sync_token_status=None,
        etag_on_put=True,
        schedule_tag_on_put=False,
        if_none_match_star=True,
        if_match_star=True,
        uid_conflict_status=None,
        mkcalendar_props=True,
        needs_trailing_slash=True,
        max_multiget=None,
        preemptive_basic_auth=True,
        caldav_features={"base": "nextcloud"},
        notes="Detected by URL (/remote.php/dav); trashbin keeps deleted calendar ids.",
    ),
    # NOT observed here: from caldav 3.6.0 compatibility_hints.baikal (0.10.1, tester
    # 2026-10). save.no-uid-conflict "unsupported" (duplicate UID stored 201), so caldav
    # still searches before a no_overwrite save there; sync-token.limit "full" from a token,
    # ignored on initial sync.
    "baikal": ServerQuirks(
        kind="baikal",
        sync_token=True,
        sync_limit="honoured",
        invalid_sync_token_status=None,
        etag_on_put=True,
        schedule_tag_on_put=False,
        if_none_match_star=True,
        if_match_star=True,
        uid_conflict_status=None,
        mkcalendar_props=True,
        needs_trailing_slash=True,
        max_multiget=None,
        preemptive_basic_auth=True,
        caldav_features={"base": "baikal"},
        notes="Detected by URL (dav.php / baikal). Initial sync ignores DAV:limit.",
    ),
    # Conservative defaults for anything unrecognised: assume only what RFC 4791 requires
    # and nothing that is dangerous when wrong (no DAV:limit paging, no UID-conflict
    # reliance). caldav's own defaults apply (no profile).
    "generic": ServerQuirks(
        kind="generic",
        sync_token=False,
        sync_limit="unknown",
        invalid_sync_token_status=None,
        etag_on_put=False,
        schedule_tag_on_put=False,
        if_none_match_star=True,
        if_match_star=False,
        uid_conflict_status=None,
        mkcalendar_props=False,
        needs_trailing_slash=True,
        max_multiget=100,
        preemptive_basic_auth=False,
        caldav_features={},
        notes="Probe sync-token support at runtime before relying on it.",
    ),
}

# (pattern on the Server header, kind). Neither observed server names itself: Radicale's
# builtin server sends "WSGIServer/0.2 CPython/3.11.7" (wsgiref) and Xandikos 0.4.10 sends
# "Python/3.11 aiohttp/3.14.5". Both are heuristics, which is fine for the two servers we
# deploy against; an explicit configured kind should always win over detection.
_SERVER_HEADER_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"radicale", re.I), "radicale"),
    (re.compile(r"xandikos", re.I), "xandikos"),
    (re.compile(r"nextcloud|owncloud", re.I), "nextcloud"),
    (re.compile(r"baikal", re.I), "baikal"),
    (re.compile(r"^WSGIServer/[\d.]+ CPython/", re.I), "radicale"),
    (re.compile(r"\baiohttp/", re.I), "xandikos"),
)
_URL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/remote\.php/(?:dav|caldav)\b", re.I), "nextcloud"),
    (re.compile(r"/(?:cal|dav)\.php\b|baikal", re.I), "baikal"),
)


def detect_server_kind(server_header: str | None, url: str) -> str:
    """Map the HTTP ``Server:`` header (and, failing that, the URL) to a QUIRKS key."""
    # URL first for PHP servers: they run behind Apache/nginx, whose Server header says nothing
    for pattern, kind in _URL_PATTERNS:
        if pattern.search(url or ""):
            return kind
    if server_header:
        for pattern, kind in _SERVER_HEADER_PATTERNS:
            if pattern.search(server_header):
                return kind
    return "generic"


def quirks_for(kind: str) -> ServerQuirks:
    """Row for ``kind``; unknown kinds get the conservative "generic" row."""
    return QUIRKS.get(kind, QUIRKS["generic"])
