"""What people decided, beside the policies: the second half of generation's input.

``generate(policies, start, end, orgs, inputs)`` (calsync.meetings.generate) takes one
:class:`Inputs`; calsync.app.inputs builds it from the store (one query per table and
organization), tests build it by hand. Pure data: nothing here reads a file or the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from calsync.meetings.adhoc import StoredAdhoc, StoredSittingIn
from calsync.meetings.decisions import Decision
from calsync.meetings.leave import Leave
from calsync.meetings.requests import StoredRequest
from calsync.meetings.series_decisions import SeriesDecision


@dataclass(frozen=True)
class Inputs:
    """The decisions applied to the policies' occurrences, in the order generation applies
    them: ``series_decisions`` (whole series, staggered or delegated from a date on) before
    ``decisions`` (one occurrence: moved, cancelled, merged, confirmed); ``requests``
    (approved meeting requests) and ``adhoc`` (ad-hoc meetings) add single events;
    ``sitting_in`` (列席) is added before ``leave`` (approved leave notes), so a 列席 person
    may ask for leave like anyone; ``agendas`` (approved, per (series UID, nominal start))
    open their occurrences' DESCRIPTION."""

    decisions: tuple[Decision, ...] = ()
    requests: tuple[StoredRequest, ...] = ()
    leave: tuple[Leave, ...] = ()
    series_decisions: tuple[SeriesDecision, ...] = ()
    adhoc: tuple[StoredAdhoc, ...] = ()
    sitting_in: tuple[StoredSittingIn, ...] = ()
    agendas: Mapping[tuple[str, dt.datetime], str] = field(default_factory=dict)


NO_INPUTS = Inputs()   # the policies alone
