"""The publishing scheduler: regenerate and publish every organization in the background.

It runs on start, after every decision (the web app calls :meth:`Scheduler.poke` after each
successful form POST) and periodically (the smallest ``publish_interval_minutes`` of the
organizations; ``CALSYNC_PUBLISH_INTERVAL_SECONDS`` overrides it). Each organization is
published under :func:`calsync.app.publish_lock.publish_lock`, so several instances (or gunicorn
workers) on one store never publish the same organization at once: an instance that finds
the lock taken skips it this cycle. Errors are logged and never stop the thread. Who
published is in the log line (``host:pid``); the store's sync_run rows say when and what.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calsync.app import notices_auto as auto
from calsync.app.publish_lock import publish_lock
from calsync.app.service import publish_orgs, refresh_watched
from calsync.errors import CalsyncError
from calsync.occurrence import TZ, default_horizon
from calsync.policy import PolicySet
from calsync.settings import ENV_PUBLISH_INTERVAL as ENV_INTERVAL
from calsync.settings import ENV_SCHEDULER, SETTINGS_KEY, Settings
from calsync.store import Store
from calsync.sync.client import Target
from calsync.sync.errors import PublishStopped

log = logging.getLogger("calsync.app.scheduler")

EXTENSION = "calsync.app.scheduler"


def identity() -> str:
    """This instance in logs: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def interval_seconds(policies: PolicySet, settings: Settings | None = None) -> float:
    raw = (settings or Settings.from_env()).publish_interval
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0:
            return value
        log.warning("calsync: ignoring %s=%r (expected seconds > 0)", ENV_INTERVAL, raw)
    minutes = [o.publish_interval_minutes for o in policies.organizations.values()]
    return 60.0 * min(minutes or [10])


class Scheduler:
    """A daemon thread publishing ``orgs`` (default: all) to ``target``."""

    def __init__(self, policies: PolicySet, store: Store, target: Target, *,
                 orgs: list[str] | None = None, interval: float | None = None,
                 instance_dir: Path | None = None,
                 clock: Callable[[], dt.datetime] | None = None,
                 on_published: Callable[[str, Any], None] | None = None,
                 settings: Settings | None = None) -> None:
        self.policies = policies
        self.store = store
        self.target = target
        self.orgs = sorted(orgs or policies.organizations)
        self._settings = settings
        self.interval = (interval if interval is not None
                         else interval_seconds(policies, self.settings()))
        self.instance_dir = instance_dir
        self.clock = clock or (lambda: dt.datetime.now(TZ))
        # After each publish (org, PublishResult): the embedded server's grants follow it.
        self.on_published = on_published
        self.who = identity()
        self.cycles = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def settings(self) -> Settings:
        """The settings given (``calsync serve``, the web app), else the ``CALSYNC_*``
        variables as they are now: the mail settings are read at each cycle, as always."""
        return self._settings or Settings.from_env()

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._run, name="calsync-scheduler",
                                        daemon=True)
        self._thread.start()
        return self

    def poke(self) -> None:
        """Publish soon (after a decision); cheap, callable from any thread."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking new work: a publish in progress ends after the resource it is writing
        (what landed is recorded, the rest waits for the next start). ``timeout`` defaults to
        two request timeouts: a stuck request is the longest a resource can take."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return
        self._thread.join(timeout if timeout is not None else 2 * self.target.timeout + 5)
        if self._thread.is_alive():
            log.warning("calsync: %s: the publish in progress did not stop in time; its "
                        "write-ahead rows let the next start settle it", self.who)

    def _run(self) -> None:
        log.info("calsync: scheduler %s publishes %s every %.0f s", self.who,
                 ", ".join(self.orgs), self.interval)
        while not self._stop.is_set():
            self._wake.clear()
            self.run_cycle()
            self._wake.wait(self.interval)

    def run_cycle(self) -> dict[str, str]:
        """Publish each organization once; returns org -> outcome (published/skipped/failed)."""
        self.cycles += 1
        outcome: dict[str, str] = {}
        for org in self.orgs:
            if self._stop.is_set():
                break
            outcome[org] = self._publish_one(org)
            if outcome[org] == "published":
                self._notify(org)
        self._read_watched()
        return outcome

    def _notify(self, org: str) -> None:
        """iMIP notices (calsync.app.notices_auto): separate from publishing; never fatal."""

        settings = self.settings()
        if not settings.notices_enabled:
            return
        try:
            queued, counts = auto.notify(self.policies, self.store, org, self.clock(),
                                         self.instance_dir, settings)
        except CalsyncError as exc:
            log.error("calsync: %s could not send notices of %s: %s", self.who, org,
                      " ".join(exc.lines()))
            return
        except Exception:  # a bug must not kill the thread
            log.exception("calsync: %s could not send notices of %s", self.who, org)
            return
        if queued or counts:
            log.info("calsync: %s notices of %s: queued %d, %s", self.who, org, queued,
                     " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none due")

    def _read_watched(self) -> None:
        urls = list(self.settings().watch)
        if not urls:
            return
        try:
            counts = refresh_watched(self.store, self.target, urls)
            log.info("calsync: %s read watched calendars: %s", self.who,
                     ", ".join(f"{u} {n}" for u, n in counts.items()))
        except CalsyncError as exc:
            log.warning("calsync: %s could not read a watched calendar: %s", self.who, exc)
        except Exception:  # never kill the scheduler thread
            log.exception("calsync: %s reading watched calendars failed", self.who)

    def _publish_one(self, org: str) -> str:
        try:
            with publish_lock(self.store, org, self.instance_dir) as acquired:
                if not acquired:
                    log.info("calsync: %s skipped %s: another instance is publishing it",
                             self.who, org)
                    return "skipped"
                start, end = default_horizon(self.clock().date())
                _, result = publish_orgs(self.policies, self.store, self.target, [org],
                                         start, end, layout="org", stop=self._stop.is_set)
        except CalsyncError as exc:
            log.error("calsync: %s could not publish %s: %s", self.who, org,
                      " ".join(exc.lines()))
            return "failed"
        except Exception:  # a bug must not kill the thread; the next cycle tries again
            log.exception("calsync: %s could not publish %s", self.who, org)
            return "failed"
        if self.on_published is not None:
            try:
                self.on_published(org, result)
            except Exception:  # never kill the thread; the next cycle tries again
                log.exception("calsync: %s could not update the CalDAV rights of %s",
                              self.who, org)
        counts = " ".join(f"{k}={v}" for k, v in result.counts().items()) or "nothing to do"
        if result.errors and all(isinstance(e, PublishStopped) for e in result.errors):
            done = "; ".join(c.partial() for c in result.collections if c.planned)
            log.info("calsync: %s stopped publishing %s for shutdown: %s", self.who, org,
                     done or counts)
            return "stopped"
        if result.errors:
            log.error("calsync: %s published %s with errors: %s (%s)", self.who, org,
                      "; ".join(str(e) for e in result.errors), counts)
            return "failed"
        log.info("calsync: %s published %s: %s", self.who, org, counts)
        return "published"


def caldav_target(conf: dict[str, Any] | None) -> Target | None:
    """A Target from the web app's ``CALSYNC_CALDAV`` mapping (url, username, password)."""
    if not conf or not conf.get("url"):
        return None
    return Target(url=conf["url"], username=conf.get("username") or None,
                  password=conf.get("password") or None,
                  server_kind=conf.get("server_kind"))


def attach(app: Any) -> None:
    """Wire the web app: successful POSTs (decisions, approvals, acks ...) poke the app's
    scheduler. With ``CALSYNC_SCHEDULER=1`` (gunicorn, where no ``calsync serve`` starts one)
    the app starts its own scheduler publishing to the configured CalDAV server."""
    from flask import request

    @app.after_request
    def _poke_after_post(response: Any) -> Any:
        scheduler = app.extensions.get(EXTENSION)
        if (scheduler is not None and request.method == "POST"
                and response.status_code < 400 and request.blueprint != "auth"):
            scheduler.poke()
        return response

    core = app.extensions["calsync"]
    settings: Settings = app.config[SETTINGS_KEY]
    if not core.caldav and settings.caldav_url:
        # gunicorn calls create_app() without config: take the server from the environment
        # (as `calsync serve` does), for the scheduler and the 发布 page alike.
        core.caldav = settings.external_caldav()
    if settings.scheduler:
        target = caldav_target(core.caldav)
        if target is None:
            log.warning("calsync: %s is set but no CalDAV server is configured "
                        "(CALSYNC_CALDAV_URL); no scheduler started", ENV_SCHEDULER)
            return
        app.extensions[EXTENSION] = Scheduler(core.policies, core.store, target,
                                              settings=settings).start()
