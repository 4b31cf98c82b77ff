"""A collection's current DAV:sync-token, for the publish witness (calsync.cli.publish_witness).

One PROPFIND (Depth 0) with the standard library's HTTP client: the witness answers a no-op
``calsync publish`` before the CalDAV client (calsync.sync.client, niquests) would even load.
The token is the one a sync-collection REPORT starts from (RFC 6578 4), so an unchanged token
means an unchanged collection; any failure is None and the witness takes the full path.
"""

from __future__ import annotations

import base64
import http.client
import re
from urllib.parse import urlsplit

_TOKEN = re.compile(r"<(?:[A-Za-z0-9_-]+:)?sync-token[^>]*>\s*([^<\s][^<]*?)\s*<", re.S)
_ASK_TOKEN = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">'
              b"<D:prop><D:sync-token/></D:prop></D:propfind>")


def sync_token(url: str, username: str | None, password: str | None,
               timeout: float) -> str | None:
    """The collection's DAV:sync-token now (one PROPFIND, Depth 0); None on any failure."""
    parts = urlsplit(url)
    conn_type = http.client.HTTPSConnection if parts.scheme == "https" else \
        http.client.HTTPConnection
    headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}
    if username:
        pair = f"{username}:{password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    try:
        conn = conn_type(parts.hostname or "", parts.port, timeout=timeout)
        try:
            conn.request("PROPFIND", parts.path or "/", _ASK_TOKEN, headers)
            resp = conn.getresponse()
            body = resp.read(1 << 20).decode("utf-8", "replace")
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError):
        return None
    if resp.status != 207:
        return None
    m = _TOKEN.search(body)
    return m.group(1) if m else None
