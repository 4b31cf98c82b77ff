"""In-process cache for the subscription feeds, so a feed hit never regenerates.

Each request costs one cheap query, the store's newest audit id: every stored input change
(decision, leave, request, token, user) writes an audit row. While it is unchanged, tokens and
rendered feeds come from memory. When it moves, the inputs that generation reads (decisions,
approved leave and requests, their newest stamps) are read again and hashed; only a different
hash regenerates, so e.g. someone creating a feed token does not re-render every feed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from calsync.feeds import Scope, Viewer, feed_key, render_feed
from calsync.generate import Generation, generate
from calsync.inputs import dtstamps, read_inputs
from calsync.meeting_requests import series_uid
from calsync.policy import PolicySet
from calsync.service import default_horizon
from calsync.store import Store

MAX_FEEDS = 128          # rendered feeds kept (an organization's is ~1.3 MB for two years)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    etag: str                  # sha256 hex of ``body`` (the identity bytes)
    last_modified: dt.datetime
    max_age: int               # seconds: the policy's feed refresh


@dataclass(frozen=True)
class _Inputs:
    digest: str
    generation: Generation
    dtstamps: dict[str, dt.datetime]
    section_of_uid: dict[str, str]


class FeedCache:
    def __init__(self, policies: PolicySet, store: Store,
                 now: Callable[[], dt.datetime]) -> None:
        self.policies, self.store, self.now = policies, store, now
        self._lock = threading.Lock()       # guards the dicts below
        self._build = threading.Lock()      # one generation/render at a time (no stampede)
        self._audit = -1
        self._tokens: dict[str, tuple[str, str]] = {}
        self._inputs: _Inputs | None = None
        self._inputs_audit = -1
        self._feeds: OrderedDict[tuple, Rendered] = OrderedDict()
        self.renders = 0                    # how many feeds were rendered (tests read it)

    # -- per request -------------------------------------------------------------------------
    def stamp(self) -> int:
        """The store's newest audit id; a change forgets the cached tokens."""
        audit = self.store.latest_audit_id()
        with self._lock:
            if audit != self._audit:
                self._audit = audit
                self._tokens = {}
        return audit

    def person(self, token: str, audit: int) -> tuple[str, str] | None:
        with self._lock:
            hit = self._tokens.get(token) if audit == self._audit else None
        if hit is not None:
            return hit
        found = self.store.person_for_token(token)
        if found is not None:       # unknown tokens are not remembered: no memory to fill
            with self._lock:
                if audit == self._audit:
                    self._tokens[token] = found
        return found

    def feed(self, viewer: Viewer, scope: Scope, audit: int) -> Rendered:
        inputs = self._current_inputs(audit)
        key = (viewer, scope, inputs.digest)
        with self._lock:
            hit = self._feeds.get(key)
            if hit is not None:
                self._feeds.move_to_end(key)
                return hit
        with self._build:
            with self._lock:
                hit = self._feeds.get(key)
            if hit is not None:
                return hit
            rendered = self._render(viewer, scope, inputs)
            with self._lock:
                self._feeds[key] = rendered
                while len(self._feeds) > MAX_FEEDS:
                    self._feeds.popitem(last=False)
            return rendered

    # -- misses ------------------------------------------------------------------------------
    def _current_inputs(self, audit: int) -> _Inputs:
        with self._lock:
            if self._inputs is not None and self._inputs_audit == audit:
                return self._inputs
        with self._build:
            with self._lock:
                if self._inputs is not None and self._inputs_audit == audit:
                    return self._inputs
                previous = self._inputs
            inputs = self._read_inputs(previous)
            with self._lock:
                self._inputs, self._inputs_audit = inputs, audit
            return inputs

    def _read_inputs(self, previous: _Inputs | None) -> _Inputs:
        orgs = sorted(self.policies.organizations)
        start, end = default_horizon(self.now().date())
        stored = read_inputs(self.store, self.policies, orgs)
        digest = hashlib.sha256(repr((start, end, sorted(stored.newest.items()),
                                      stored.decisions, stored.requests, stored.leave,
                                      stored.series, stored.adhoc, stored.sitting_in,
                                      sorted(stored.agendas.items()))).encode()).hexdigest()
        if previous is not None and previous.digest == digest:
            return previous
        gen = generate(self.policies, start, end, orgs, stored.decisions, stored.requests,
                       stored.leave, stored.series, adhoc=stored.adhoc,
                       sitting_in=stored.sitting_in, agendas=stored.agendas)
        stamps = dtstamps(self.policies, stored.newest, gen.series)
        sections = {series_uid(self.policies.organizations[r.organization], r.id): r.section_id
                    for r in stored.requests}
        return _Inputs(digest, gen, stamps, sections)

    def _render(self, viewer: Viewer, scope: Scope, inputs: _Inputs) -> Rendered:
        body = render_feed(self.policies, inputs.generation, viewer, scope, inputs.dtstamps,
                           inputs.section_of_uid)
        self.renders += 1
        etag = hashlib.sha256(body).hexdigest()
        last_modified = self.store.feed_state(feed_key(viewer, scope), etag, self.now())
        # mtime=0: the gzip bytes depend on the body only.
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        org = self.policies.organizations[viewer.organization]
        return Rendered(body, gzipped, etag, last_modified, org.feed_refresh_minutes * 60)
