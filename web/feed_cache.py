"""In-process cache for the subscription feeds: a conditional GET is a dictionary lookup, and
no request waits behind another feed's render.

The stamp: the store's newest audit id (every stored input change writes an audit row),
watched by calsync.store.changes without an ORM session per request, plus the identity of the
policies (the 节假日 page swaps them in place). While it is unchanged, tokens and rendered
feeds come from memory. When it moves, the inputs that generation reads (decisions, approved
leave and requests, their newest stamps) are read again and hashed; only a different hash
regenerates, so e.g. someone creating a feed token does not re-render every feed.

After a change the inputs are made again by one background thread; the request that saw
the change first waits for them (up to ``wait_seconds``), so a client sees its own change at
once. Renders run under a per-feed lock and at most ``renderers`` at a time (fewer than
waitress' threads, so pages always find a thread). Stale-while-revalidate: a request whose
feed is being made again by another thread, or that finds every render slot busy, gets the
last good bytes at once (marked ``stale``) instead of queueing; a feed never rendered gets
``None`` then (the view answers 503 with Retry-After). A person's feed looks at that person's
series only (calsync.ical.feeds.PersonIndex), and a series' events are rendered once per
generation and shared by every feed that shows them whole (calsync.ical.feeds.EventBytes).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from calsync.access import may_read_feed
from calsync.app.inputs import dtstamps, read_inputs
from calsync.ical.feeds import (
    EventBytes,
    PersonIndex,
    Scope,
    Viewer,
    Window,
    feed_key,
    render_feed,
)
from calsync.meetings.generate import Generation, generate
from calsync.meetings.requests import series_uid
from calsync.occurrence import default_horizon
from calsync.policy import PolicySet
from calsync.store import Store
from calsync.store.changes import ChangeWatch

log = logging.getLogger("calsync.web.feeds")

MAX_FEEDS = 2048         # rendered feeds kept, at most ...
MAX_FEED_BYTES = 128 * 2**20   # ... and this many (gzipped) bytes of them, oldest out
RENDERERS = 2            # renders at once (waitress serve has 4 threads by default)
WAIT_SECONDS = 10.0      # longest wait for the inputs after a change (then: last good bytes)

Stamp = tuple[int, int, dt.date]  # (newest audit id, id of the policies, today)


@dataclass(frozen=True)
class Rendered:
    """A rendered feed, kept gzipped only (a twentieth of the bytes: calendar apps ask for
    gzip; the identity bytes are unpacked for the others)."""
    gzipped: bytes
    etag: str                  # sha256 hex of the identity bytes
    last_modified: dt.datetime
    max_age: int               # seconds: the policy's feed refresh
    digest: str = ""           # the inputs it was rendered from
    stale: bool = False        # served while a newer version is being rendered

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.gzipped)


@dataclass(frozen=True)
class _Inputs:
    digest: str
    generation: Generation
    dtstamps: dict[str, dt.datetime]
    section_of_uid: dict[str, str]
    index: PersonIndex
    events: EventBytes


FeedKey = tuple[Viewer, Scope, Window | None]


class FeedCache:
    def __init__(self, policies: PolicySet | Callable[[], PolicySet], store: Store,
                 now: Callable[[], dt.datetime], renderers: int = RENDERERS,
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self._policies_of = policies if callable(policies) else (lambda: policies)
        self.policies = self._policies_of()
        self.store, self.now = store, now
        self.watch = ChangeWatch(store.engine)
        self._lock = threading.Lock()            # guards the fields below
        self._made = threading.Condition(self._lock)   # the inputs thread finished
        self._making = False                     # the inputs thread runs
        self._waiting = 0                        # requests waiting for it
        self.renderers = max(1, renderers)
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(self.renderers)
        self._key_locks: dict[FeedKey, threading.Lock] = {}
        self._stamp: Stamp = (-1, 0, dt.date.min)
        self._tokens: dict[str, tuple[str, str]] = {}
        self._viewers: dict[str, Viewer | None] = {}
        self._inputs: _Inputs | None = None
        self._inputs_stamp: Stamp | None = None
        self._feeds: OrderedDict[FeedKey, Rendered] = OrderedDict()
        self._bytes = 0                          # held by self._feeds
        self.renders = 0                         # feeds rendered (tests read it)
        self.stale_served = 0
        self.before_render: Callable[[FeedKey], None] | None = None   # a test's gate

    def close(self) -> None:
        self.watch.close()

    # -- per request -------------------------------------------------------------------------
    def stamp(self) -> Stamp:
        """The current stamp; a change forgets the cached tokens. The day is part of it: a
        person whose ``left`` day has passed loses the feed that day, with no other change
        (and the horizon and the organization feed's window follow the date)."""
        policies = self._policies_of()
        stamp = (self.watch.stamp(), id(policies), self.now().date())
        with self._lock:
            if stamp != self._stamp:
                self._stamp, self.policies = stamp, policies
                self._tokens, self._viewers = {}, {}
        return stamp

    def person(self, token: str, stamp: Stamp) -> tuple[str, str] | None:
        with self._lock:
            hit = self._tokens.get(token) if stamp == self._stamp else None
        if hit is not None:
            return hit
        found = self.store.feeds.person_for_token(token)
        if found is not None:       # unknown tokens are not remembered: no memory to fill
            with self._lock:
                if stamp == self._stamp:
                    self._tokens[token] = found
        return found

    def viewer(self, token: str, stamp: Stamp,
               make: Callable[[str, str], Viewer | None]) -> Viewer | None:
        """The reader of ``token`` (``make(person_id, organization)``), remembered until the
        stamp moves (a rotated token, a changed directory)."""
        with self._lock:
            if stamp == self._stamp and token in self._viewers:
                return self._viewers[token]
        who = self.person(token, stamp)
        found = make(*who) if who is not None else None
        if found is not None:
            with self._lock:
                if stamp == self._stamp:
                    self._viewers[token] = found
        return found

    def current(self, token: str, scope: Scope, window: Window | None,
                stamp: Stamp) -> Rendered | None:
        """The feed of ``token`` and ``scope`` if it is cached and up to date at ``stamp``,
        else None: dictionaries only, no I/O, no render (web/feed_shortcut.py). The viewer
        must be known at this stamp, and may still see the scope."""
        with self._lock:
            if stamp != self._stamp or self._inputs_stamp != stamp or self._inputs is None:
                return None
            viewer = self._viewers.get(token)
            if viewer is None:
                return None
            hit = self._feeds.get((viewer, scope, window))
            if hit is None or hit.digest != self._inputs.digest:
                return None
            policies = self.policies
        return hit if may_read_feed(policies, viewer, scope) else None

    def feed(self, viewer: Viewer, scope: Scope, stamp: Stamp,
             window: Window | None = None) -> Rendered | None:
        """The feed's bytes for ``stamp``; the last good ones (``stale``) while they are being
        made again; None when there are none and nothing can be made now (the view says 503)."""
        key: FeedKey = (viewer, scope, window)
        with self._lock:
            hit = self._feeds.get(key)
            inputs = self._inputs if self._inputs_stamp == stamp else None
            if hit is not None:
                self._feeds.move_to_end(key)
                if inputs is not None and hit.digest == inputs.digest:
                    return hit                       # the dictionary lookup: no I/O
        if inputs is None:
            inputs = self._inputs_for(stamp, stale_ok=hit is not None)
            if inputs is None:
                return self._stale(hit)
        if not self._slots.acquire(blocking=False):
            return self._stale(hit)
        try:
            with self._lock:
                lock = self._key_locks.setdefault(key, threading.Lock())
            if not lock.acquire(blocking=hit is None):
                return self._stale(hit)
            try:
                with self._lock:
                    hit = self._feeds.get(key)
                if hit is not None and hit.digest == inputs.digest:
                    return hit
                rendered = self._render(key, inputs)
                self._keep(key, rendered)
                return rendered
            finally:
                lock.release()
        finally:
            self._slots.release()

    def _keep(self, key: FeedKey, rendered: Rendered) -> None:
        with self._lock:
            previous = self._feeds.pop(key, None)
            if previous is not None:
                self._bytes -= _size(previous)
            self._feeds[key] = rendered
            self._bytes += _size(rendered)
            while len(self._feeds) > 1 and (len(self._feeds) > MAX_FEEDS
                                            or self._bytes > MAX_FEED_BYTES):
                old, dropped = self._feeds.popitem(last=False)
                self._bytes -= _size(dropped)
                self._key_locks.pop(old, None)

    def _stale(self, hit: Rendered | None) -> Rendered | None:
        if hit is None:
            return None
        with self._lock:
            self.stale_served += 1
        return replace(hit, stale=True)

    # -- the inputs: read and generated outside the requests -------------------------------
    def _inputs_for(self, stamp: Stamp, *, stale_ok: bool) -> _Inputs | None:
        """The inputs for ``stamp`` (or newer), made by one background thread. The request
        that starts it waits up to ``wait_seconds`` (so a client sees its own change at once);
        others wait only when they have nothing to serve, at most ``renderers`` of them at a
        time; everyone else gets None (serve the last good bytes, or 503)."""
        with self._lock:
            if self._inputs is not None and self._inputs_stamp == stamp:
                return self._inputs
            started = not self._making
            if started:
                self._making = True
                threading.Thread(target=self._make_inputs, daemon=True,
                                 name="calsync-feed-inputs").start()
            elif stale_ok or self._waiting >= self.renderers:
                return None
            self._waiting += 1
            try:
                self._made.wait_for(lambda: not self._making, timeout=self.wait_seconds)
            finally:
                self._waiting -= 1
            return None if self._making else self._inputs

    def _make_inputs(self) -> None:
        """Until the inputs match the newest stamp seen (a change during a run runs again)."""
        try:
            while True:
                with self._lock:
                    stamp, policies, previous = self._stamp, self.policies, self._inputs
                inputs = self._read_inputs(policies, previous)
                with self._lock:
                    self._inputs, self._inputs_stamp = inputs, stamp
                    if self._stamp == stamp:
                        break
        except Exception:   # a broken store: say so; requests serve what they have
            log.exception("calsync: could not read the feeds' inputs")
        finally:
            with self._lock:
                self._making = False
                self._made.notify_all()

    def _read_inputs(self, policies: PolicySet, previous: _Inputs | None) -> _Inputs:
        orgs = sorted(policies.organizations)
        start, end = default_horizon(self.now().date())
        stored = read_inputs(self.store, policies, orgs)
        decided = stored.inputs
        digest = hashlib.sha256(repr((id(policies), start, end,
                                      sorted(stored.newest.items()),
                                      decided.decisions, decided.requests, decided.leave,
                                      decided.series_decisions, decided.adhoc,
                                      decided.sitting_in,
                                      sorted(decided.agendas.items()))).encode()).hexdigest()
        if previous is not None and previous.digest == digest:
            return previous
        gen = generate(policies, start, end, orgs, decided)
        stamps = dtstamps(policies, stored.newest, gen.series)
        sections = {series_uid(policies.organizations[r.organization], r.id): r.section_id
                    for r in decided.requests}
        return _Inputs(digest, gen, stamps, sections, PersonIndex(gen), EventBytes())

    def _render(self, key: FeedKey, inputs: _Inputs) -> Rendered:
        if self.before_render is not None:
            self.before_render(key)
        viewer, scope, window = key
        policies = self.policies
        body = render_feed(policies, inputs.generation, viewer, scope, inputs.dtstamps,
                           inputs.section_of_uid, index=inputs.index, window=window,
                           events=inputs.events)
        with self._lock:
            self.renders += 1
        etag = hashlib.sha256(body).hexdigest()
        last_modified = self.store.feeds.feed_state(_state_key(key), etag, self.now())
        # mtime=0: the gzip bytes depend on the body only.
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        org = policies.organizations[viewer.organization]
        return Rendered(gzipped, etag, last_modified, org.feed_refresh_minutes * 60,
                        inputs.digest)


def _size(r: Rendered) -> int:
    return len(r.gzipped)


def _state_key(key: FeedKey) -> str:
    viewer, scope, window = key
    base = feed_key(viewer, scope)
    return base if window is None else f"{base}:{window[0]:%Y%m%d}-{window[1]:%Y%m%d}"
