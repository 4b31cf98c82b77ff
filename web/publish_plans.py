"""The 发布 page's plans: the last dry run per organization, refreshed in the background.

A dry run reads every resource of the CalDAV collection (1.4 s for the shipped policies, far
more at a bureau's size), so the page no longer runs one per view: it shows the last plan with
the time it was made and, when that plan is older than ``FRESH_SECONDS`` or the store changed
since, starts one refresh in a background thread (at most one per organization at a time).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calsync.errors import CalsyncError

log = logging.getLogger("calsync.web.publish")

FRESH_SECONDS = 30.0


@dataclass(frozen=True)
class Plan:
    at: dt.datetime                 # when the dry run finished
    stamp: int                      # the store's audit stamp it was made at
    start: dt.date
    end: dt.date
    result: Any = None              # calsync.sync.publish.PublishResult
    failure: str | None = None


class PlanBoard:
    """``plan(org)`` → the last Plan (or None) and whether a refresh is running."""

    def __init__(self, make: Callable[[str], tuple[dt.date, dt.date, Any]],
                 stamp: Callable[[], int], clock: Callable[[], dt.datetime],
                 fresh_seconds: float = FRESH_SECONDS) -> None:
        self._make, self._stamp, self._clock = make, stamp, clock
        self.fresh_seconds = fresh_seconds
        self._lock = threading.Lock()
        self._plans: dict[str, Plan] = {}
        self._running: dict[str, threading.Thread] = {}
        self.runs = 0                               # dry runs made (tests read it)

    def view(self, org: str) -> tuple[Plan | None, bool]:
        """The last plan of ``org`` and whether a newer one is being made (started here when
        the last one is missing, old, or older than the store's last change)."""
        with self._lock:
            plan = self._plans.get(org)
            running = org in self._running
        if not running and (plan is None or self._stale(plan)):
            running = self.refresh(org)
        return plan, running

    def forget(self, org: str) -> None:
        """After a real publish: the plan no longer says what the next publish would do."""
        with self._lock:
            self._plans.pop(org, None)

    def refresh(self, org: str) -> bool:
        with self._lock:
            if org in self._running:
                return True
            thread = threading.Thread(target=self._run, args=(org,), daemon=True,
                                      name=f"calsync-plan-{org}")
            self._running[org] = thread
        thread.start()
        return True

    def wait(self, org: str, timeout: float = 120.0) -> Plan | None:
        """Wait for the refresh in progress (tests, and a page that wants the result)."""
        with self._lock:
            thread = self._running.get(org)
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            return self._plans.get(org)

    def _stale(self, plan: Plan) -> bool:
        age = (self._clock() - plan.at).total_seconds()
        return age >= self.fresh_seconds or self._stamp() != plan.stamp

    def _run(self, org: str) -> None:
        stamp = self._stamp()          # before the run: a change during it makes it stale
        try:
            start, end, result = self._make(org)
            plan = Plan(self._clock(), stamp, start, end, result)
        except CalsyncError as exc:
            plan = Plan(self._clock(), stamp, dt.date.min, dt.date.min,
                        failure=" ".join(exc.lines()))
        except Exception as exc:  # a bug must not leave the page waiting forever
            log.exception("calsync: the publishing plan of %s failed", org)
            plan = Plan(self._clock(), stamp, dt.date.min, dt.date.min,
                        failure=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._plans[org] = plan
            self._running.pop(org, None)
            self.runs += 1
