"""The CalDAV edge: a thin wrapper over ``caldav.DAVClient`` sending explicit requests.

Why raw requests through the DAVClient's session rather than the high-level API: every write
must be exactly one conditional request (``If-None-Match: *`` / ``If-Match``), listing must be
one ``PROPFIND Depth: 1`` for getetag, and bodies come in one ``calendar-multiget``. The
high-level API adds UID searches before saves and one GET per object with load_objects.
Credentials live only in the session's auth object: never in logs, reprs or messages.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TypeAlias
from urllib.parse import quote, unquote, urljoin, urlsplit

import niquests
from caldav.davclient import DAVClient  # typed: `caldav.DAVClient` is a lazy attribute (object)

from calsync.sync.errors import ServerRefused
from calsync.sync.plan import ServerItem
from calsync.sync.quirks import ServerQuirks, detect_server_kind, quirks_for

log = logging.getLogger(__name__)

DAV, CAL = "DAV:", "urn:ietf:params:xml:ns:caldav"
_SAFE = "/-_.~@:+"
_XML = {"Content-Type": "application/xml; charset=utf-8"}
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}
_PROPFIND_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
    "<D:getetag/><D:resourcetype/></D:prop></D:propfind>"
)
# The same listing plus the collection's own DAV:sync-token: a fresh token in the same request.
_PROPFIND_ETAGS_TOKEN = _PROPFIND_ETAGS.replace(
    "<D:resourcetype/>", "<D:resourcetype/><D:sync-token/>"
)
# A sync-collection REPORT's refusals that mean "do a full listing instead": an invalid or
# expired token (Radicale 403, Xandikos 412 DAV:valid-sync-token, others 409/400), or a server
# without RFC 6578 (405/415/422/501). 401 stays an error: a full listing would fail too.
_SYNC_FALLBACK = frozenset({400, 403, 405, 409, 412, 415, 422, 501})
# Multiget size when the quirks table knows no limit: keeps each reply a sane size.
DEFAULT_MULTIGET = 200
SHANGHAI_VTIMEZONE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync//EN\r\nBEGIN:VTIMEZONE\r\n"
    "TZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nTZNAME:CST\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\nEND:VCALENDAR\r\n"
)


# (changed href -> etag, removed hrefs, new sync token); see CalDAVClient.sync_collection
SyncDelta: TypeAlias = tuple[dict[str, str | None], set[str], str | None]


class _NoDelta(Exception):
    """The sync-collection REPORT gave no usable delta: read the full listing instead."""


class TransportError(Exception):
    """5xx, timeout or dropped connection; the caller stops the collection."""


@dataclass(frozen=True)
class Target:
    """Where to publish. ``url`` is the calendar home (collections are created below it)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    server_kind: str | None = None  # a quirks key; detected from the Server header if None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def norm_href(href: str) -> str:
    """One spelling per resource path, whatever percent-encoding the server chose."""
    return quote(unquote(urlsplit(href).path), safe=_SAFE)


class CalDAVClient:
    def __init__(self, target: Target) -> None:
        parts = urlsplit(target.url)
        if parts.username or parts.password:  # never let credentials travel in a URL
            target = replace(
                target,
                url=parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(),
                username=target.username or unquote(parts.username or ""),
                password=target.password or unquote(parts.password or ""),
            )
        self.target = target
        auth_type = "basic" if target.username else None
        self.dav = DAVClient(
            url=target.url,
            username=target.username,
            password=target.password,
            auth_type=auth_type,  # preemptive: saves a 401 round trip per connection
            timeout=int(max(1, target.timeout)),
            enable_rfc6764=False,
        )
        self.timeout = target.timeout
        # PHP servers are known by their URL; the rest by the first reply's Server header
        by_url = detect_server_kind(None, target.url)
        self.kind = target.server_kind or (by_url if by_url != "generic" else None)
        self.requests = 0

    def close(self) -> None:
        self.dav.close()

    def __enter__(self) -> CalDAVClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def quirks(self) -> ServerQuirks:
        return quirks_for(self.kind or "generic")

    def url(self, href: str) -> str:
        return urljoin(self.target.url, href)

    # -- raw requests --------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        allow: frozenset[int] = frozenset(),
    ) -> Response:
        """One request; ``allow``: statuses handed back instead of raised (403, 5xx)."""
        self.requests += 1
        try:
            r = self.dav.session.request(
                method,
                url,
                data=body or None,
                headers={"User-Agent": "calsync", **(headers or {})},
                auth=self.dav.auth,
                timeout=self.timeout,
            )
            content = r.content or b""
        except niquests.exceptions.Timeout:
            raise TransportError(f"{method} {norm_href(url)} timed out") from None
        except (niquests.exceptions.ConnectionError, niquests.exceptions.HTTPError) as exc:
            raise TransportError(f"{method} {norm_href(url)} failed: {_reason(exc)}") from None
        status = int(r.status_code or 0)
        hdrs = {k.lower(): v for k, v in r.headers.items()}
        if self.kind is None:
            self.kind = detect_server_kind(hdrs.get("server"), self.target.url)
        if status in allow:
            pass
        elif status >= 500 or status == 0:
            raise TransportError(f"{method} {norm_href(url)} answered {status}")
        elif status in (401, 403):
            raise ServerRefused(norm_href(url), status, method)
        log.debug("%s %s -> %s", method, norm_href(url), status)
        return Response(status, hdrs, content)

    # -- reading -------------------------------------------------------------------------

    def list_collection(self, url: str) -> dict[str, ServerItem] | None:
        """Every member's href and etag in one PROPFIND; None if the collection is missing."""
        listed = self._listing(url, with_token=False)
        return None if listed is None else listed[0]

    def _listing(
        self, url: str, with_token: bool
    ) -> tuple[dict[str, ServerItem], str | None] | None:
        body = (_PROPFIND_ETAGS_TOKEN if with_token else _PROPFIND_ETAGS).encode()
        resp = self.request("PROPFIND", url, body, {"Depth": "1", **_XML})
        if resp.status == 404:
            return None
        if resp.status != 207:
            raise ServerRefused(norm_href(url), resp.status, "listing")
        own = norm_href(url).rstrip("/")
        out: dict[str, ServerItem] = {}
        token = None
        for href, props, status in _responses(resp.body):
            if norm_href(href).rstrip("/") == own:
                if status == 404:  # Xandikos: 207 whose only response is the 404 collection
                    return None
                token = _text(props.get("sync-token"))
                continue
            if status >= 300:
                continue
            rtype = props.get("resourcetype")
            if rtype is not None and len(rtype):
                continue  # a sub-collection, not a calendar object
            h = norm_href(href)
            out[h] = ServerItem(h, _text(props.get("getetag")))
        return out, token

    def sync_collection(
        self, url: str, token: str | None, known: Iterable[str] = ()
    ) -> SyncDelta | None:
        """What changed since ``token`` (RFC 6578): (changed href -> etag, removed, new token).

        No token: an initial sync, everything is "changed". None: the collection is missing.
        One request, except when the token is refused (invalid or expired), the reply is
        truncated or the server has no RFC 6578: then one full PROPFIND listing follows, in
        which ``removed`` is ``known`` minus what is listed; its token is the collection's
        DAV:sync-token if the server has one. Servers the quirks table says lack sync tokens
        get the PROPFIND straight away (and no token); an undetected kind is tried.
        DAV:limit is never sent: Xandikos truncates without a 507 and the rest is lost.
        """
        if self.kind is None or self.quirks.sync_token:
            try:
                return self._sync_report(url, token or "")
            except _NoDelta as why:
                log.info("%s: %s; reading the full listing", norm_href(url), why)
        listed = self._listing(url, with_token=self.quirks.sync_token)
        if listed is None:
            return None
        items, new_token = listed
        changed = {h: i.etag for h, i in items.items()}
        return changed, set(map(norm_href, known)) - set(changed), new_token

    def _sync_report(self, url: str, token: str) -> SyncDelta | None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<D:sync-collection xmlns:D="{DAV}"><D:sync-token>{_esc(token)}</D:sync-token>'
            "<D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/><D:resourcetype/></D:prop></D:sync-collection>"
        ).encode()
        headers = {"Depth": "0", **_XML}
        resp = self.request("REPORT", url, body, headers, allow=_SYNC_FALLBACK)
        if resp.status == 404:
            return None
        if resp.status != 207:
            raise _NoDelta(f"sync-collection answered {resp.status}")
        try:
            root = ET.fromstring(resp.body)
        except ET.ParseError:
            raise _NoDelta("sync-collection answered unreadable XML") from None
        new_token = _text(root.find(f"{{{DAV}}}sync-token"))
        if not new_token:  # not an RFC 6578 reply (a server ignoring the REPORT type)
            raise _NoDelta("sync-collection answered without a sync token")
        own = norm_href(url).rstrip("/")
        changed: dict[str, str | None] = {}
        removed: set[str] = set()
        for href, props, status in _responses(resp.body):
            h = norm_href(href)
            if h.rstrip("/") == own:
                if status == 507:  # truncated despite no DAV:limit: the rest would be lost
                    raise _NoDelta("sync-collection reply was truncated (507)")
                continue
            if status == 404:
                removed.add(h)
            elif status < 300:
                rtype = props.get("resourcetype")
                if rtype is None or not len(rtype):  # skip sub-collections
                    changed[h] = _text(props.get("getetag"))
        return changed, removed - set(changed), new_token

    def multiget(self, url: str, hrefs: Iterable[str]) -> dict[str, ServerItem]:
        """Bodies for ``hrefs`` in as few calendar-multiget REPORTs as the server allows."""
        wanted = sorted(hrefs)
        size = self.quirks.max_multiget or DEFAULT_MULTIGET
        out: dict[str, ServerItem] = {}
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            body = (
                '<?xml version="1.0" encoding="utf-8"?>'
                f'<C:calendar-multiget xmlns:D="{DAV}" xmlns:C="{CAL}">'
                "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
                + "".join(f"<D:href>{_esc(h)}</D:href>" for h in chunk)
                + "</C:calendar-multiget>"
            ).encode()
            resp = self.request("REPORT", url, body, dict(_XML))
            if resp.status != 207:
                raise ServerRefused(norm_href(url), resp.status, "calendar-multiget on")
            for href, props, status in _responses(resp.body):
                if status >= 300:
                    continue  # gone since the listing: the planner sees it as missing
                h = norm_href(href)
                data = props.get("calendar-data")
                ics = (data.text or "").encode("utf-8") if data is not None else None
                out[h] = ServerItem(h, _text(props.get("getetag")), None, ics)
        return out

    def get(self, href: str) -> ServerItem | None:
        resp = self.request("GET", self.url(href), headers={"Accept": "text/calendar"})
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise ServerRefused(href, resp.status, "GET")
        return ServerItem(norm_href(href), resp.headers.get("etag"), None, resp.body)

    def etag_of(self, href: str) -> str | None:
        body = _PROPFIND_ETAGS.encode()
        resp = self.request("PROPFIND", self.url(href), body, {"Depth": "0", **_XML})
        if resp.status != 207:
            return None
        for _href, props, status in _responses(resp.body):
            if status < 300:
                return _text(props.get("getetag"))
        return None

    def read_watched(self, url: str) -> list[bytes]:
        """Every calendar object of a watched (read-only) calendar: 1 PROPFIND + multiget."""
        listing = self.list_collection(url)
        if listing is None:
            raise ServerRefused(norm_href(url), 404, "reading the watched calendar")
        items = self.multiget(url, listing)
        return [items[h].ics or b"" for h in sorted(items) if items[h].ics]

    # -- writing -------------------------------------------------------------------------

    def put(self, href: str, body: bytes, etag: str | None) -> Response:
        """One conditional PUT: If-Match ``etag``, or If-None-Match: * to create."""
        cond = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        return self.request("PUT", self.url(href), body, {**_ICS, **cond})

    def delete(self, href: str, etag: str | None) -> Response:
        cond = {"If-Match": etag} if etag else {}
        return self.request("DELETE", self.url(href), b"", cond)

    def mkcalendar(self, url: str, display_name: str, tz: str = SHANGHAI_VTIMEZONE) -> None:
        """Create a calendar collection with a display name and calendar-timezone."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<C:mkcalendar xmlns:D="{DAV}" xmlns:C="{CAL}"><D:set><D:prop>'
            f"<D:displayname>{_esc(display_name)}</D:displayname>"
            f"<C:calendar-timezone>{_esc(tz)}</C:calendar-timezone>"
            "</D:prop></D:set></C:mkcalendar>"
        ).encode()
        resp = self.request("MKCALENDAR", url, body, dict(_XML))
        if resp.status not in (200, 201):
            raise ServerRefused(norm_href(url), resp.status, "creating the calendar")

    def calendar_home(self) -> str:
        """The principal's calendar home, found by caldav's discovery (2 requests)."""
        try:
            home = self.dav.principal().calendar_home_set.url
        except Exception as exc:  # caldav raises many types; keep the message, drop creds
            raise ServerRefused(
                norm_href(self.target.url), 0, f"discovery ({_reason(exc)})"
            ) from None
        return str(home)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(el: ET.Element | None) -> str | None:
    return el.text.strip() if el is not None and el.text else None


def _status(el: ET.Element | None) -> int:
    if el is None or not el.text:
        return 200
    parts = el.text.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500


def _responses(body: bytes) -> list[tuple[str, dict[str, ET.Element], int]]:
    """(href, {local prop name: element}, status) per DAV:response of a multistatus."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TransportError(f"the server sent unreadable XML ({exc})") from None
    out = []
    for resp in root.iter(f"{{{DAV}}}response"):
        href = _text(resp.find(f"{{{DAV}}}href")) or ""
        props: dict[str, ET.Element] = {}
        ok = False
        for ps in resp.iter(f"{{{DAV}}}propstat"):
            if _status(ps.find(f"{{{DAV}}}status")) < 300:
                ok = True
                for prop in ps.iter(f"{{{DAV}}}prop"):
                    for child in prop:
                        props[child.tag.rsplit("}", 1)[-1]] = child
        top = resp.find(f"{{{DAV}}}status")
        out.append((href, props, _status(top) if top is not None else (200 if ok else 404)))
    return out
