"""Policies + working-day calendar + decisions → series of occurrences (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calsync.calendar.workdays import WorkCalendar
from calsync.meetings import adhoc as adhoc_mod
from calsync.meetings import agenda as agenda_mod
from calsync.meetings import decisions as decisions_mod
from calsync.meetings import holiday_moves
from calsync.meetings import series_decisions as series_mod
from calsync.meetings.adjust import apply_leave_notes, apply_merges
from calsync.meetings.decisions import Decision
from calsync.meetings.describe import (
    PROVISIONAL_NOTE,
    deadline_description,
    holiday_move_note,
    meeting_description,
    tentative_note,
)
from calsync.meetings.inputs import NO_INPUTS, Inputs
from calsync.meetings.people import attendees_and_audience, organizer
from calsync.meetings.requests import StoredRequest, request_series
from calsync.meetings.schedule import (
    previous_working_day,
    shift,
    weekly_dates,
    window_day,
    working_days_before,
)
from calsync.meetings.series_decisions import SeriesDecision
from calsync.occurrence import Occurrence, Recurrence, Series, at, organization_of, uid_for
from calsync.policy import PolicySet
from calsync.policy.model import (
    AttendeeSpec,
    Deadline,
    MeetingType,
    Organization,
    Schedule,
    Section,
)

DEADLINE_BLOCK = dt.timedelta(minutes=30)  # a deadline shows as the half hour before it
# Generated on each side of the range, then cut: a holiday move that avoids a clash looks at
# the meetings around it, so near the range's ends it must see the days beyond them, or the
# same occurrence lands on another day in a longer range.
MARGIN = dt.timedelta(days=31)


@dataclass(frozen=True)
class Generation:
    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()
    stale: tuple[Decision, ...] = ()   # decisions whose occurrence no longer exists

    def occurrences(self) -> list[Occurrence]:
        occs = [o for s in self.series for o in s.occurrences]
        return sorted(occs, key=lambda o: (o.start, o.organization, o.uid))


def generate(policies: PolicySet, start: dt.date, end: dt.date,
             orgs: Iterable[str] | None = None, inputs: Inputs = NO_INPUTS) -> Generation:
    """Everything due in [start, end] (dates inclusive) for the chosen organizations (default:
    all), with what people decided (calsync.meetings.inputs.Inputs, in the order it says)
    applied.
    """
    adhocs, sitting, leave = inputs.adhoc, inputs.sitting_in, inputs.leave
    per_series: dict[str, list[SeriesDecision]] = {}
    for sd in inputs.series_decisions:
        per_series.setdefault(sd.series_uid, []).append(sd)
    reqs = inputs.requests
    chosen = list(orgs) if orgs is not None else sorted(policies.organizations)
    by_key = {(d.series_uid, d.recurrence_id): d for d in inputs.decisions}
    used: set[tuple[str, dt.datetime]] = set()
    series: list[Series] = []
    warnings: list[str] = []
    cal = policies.calendar
    missing = cal.years_missing(start, end)
    if missing:
        warnings.append(
            f"no holiday data for {', '.join(map(str, missing))}: law-only calendar (the "
            f"statutory days of the 放假办法 are off); occurrences the coming notice could move "
            f"are marked provisional (import it: calsync holidays import NOTICE)")
    for org_id in chosen:
        org = policies.organizations[org_id]
        builder = _OrgBuilder(org, cal, start - MARGIN, end + MARGIN, by_key, used,
                              [r for r in reqs if r.organization == org_id], per_series,
                              [a for a in adhocs if a.organization == org_id])
        built = apply_merges(builder.build(), by_key, org, builder.before, builder.warnings)
        built = adhoc_mod.add_sitting_in(built, sitting, org)
        built = agenda_mod.apply(apply_leave_notes(built, leave, org), inputs.agendas)
        series.extend(_cut(built, start, end))
        warnings.extend(builder.warnings)
    stale = tuple(d for key, d in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1]))
                  if key not in used and _in_scope(d, policies, chosen, start, end))
    warnings.extend(f"stale decision (its occurrence no longer exists): {d.describe()}"
                    for d in stale)
    uids = [s.uid for s in series]
    warnings.extend(f"series decision on {target} names no series (withdraw it on the clashes "
                    f"page or with calsync series withdraw)"
                    for target in sorted(per_series)
                    if organization_of(target, policies) in chosen
                    and not any(series_mod.covers(target, uid) for uid in uids))
    series.sort(key=lambda s: (s.organization, s.id))
    return Generation(tuple(series), tuple(warnings), stale)


def _cut(series: Iterable[Series], start: dt.date, end: dt.date) -> list[Series]:
    """The series inside [start, end]: the rule's starts in it, and the occurrences whose
    nominal start and start are both in it (one moved across an end belongs to neither
    range's copy: EXDATE here, absent there)."""
    out = []
    for s in series:
        occs = tuple(o for o in s.occurrences if start <= o.nominal_start.date() <= end
                     and start <= o.start.date() <= end)
        if occs:
            nominal = tuple(n for n in s.nominal if start <= n.date() <= end)
            out.append(replace(s, nominal=nominal, occurrences=occs))
    return out


def _in_scope(d: Decision, policies: PolicySet, orgs: list[str], start: dt.date,
              end: dt.date) -> bool:
    return (organization_of(d.series_uid, policies) in orgs
            and start <= d.recurrence_id.date() <= end)


class _OrgBuilder:
    def __init__(self, org: Organization, cal: WorkCalendar, start: dt.date, end: dt.date,
                 decisions: dict[tuple[str, dt.datetime], Decision],
                 used: set[tuple[str, dt.datetime]],
                 requests: list[StoredRequest] | None = None,
                 series_decisions: dict[str, list[SeriesDecision]] | None = None,
                 adhoc: list[adhoc_mod.StoredAdhoc] | None = None) -> None:
        self.org, self.cal, self.start, self.end = org, cal, start, end
        self.adhoc = adhoc or []
        self.decisions, self.used = decisions, used
        self.before: dict[tuple[str, dt.datetime], Occurrence] = {}  # for refused merges
        self.requests = requests or []
        self.series_decisions = series_decisions or {}
        self.warnings: list[str] = []
        self.by_type: dict[str, list[Series]] = {}
        self.windows: dict[tuple[str, dt.datetime], holiday_moves.Window] = {}
        self.descriptions: dict[tuple, tuple[tuple, str]] = {}

    def uid(self, series_id: str) -> str:
        return uid_for(self.org, series_id)

    def build(self) -> list[Series]:
        out: list[Series] = []
        types = self.org.meeting_types.values()
        # Weekly and computed dates first; "after" schedules follow the (decided) result.
        for later in (False, True):
            for mt in types:
                for sched in mt.schedules:
                    if (sched.kind == "after") == later:
                        for section in self._sections(mt):
                            out.extend(self._schedule_series(mt, sched, section))
            # Before the "after" meetings are placed (they follow the moved targets), and
            # again once they are there, keeping their targets where they are.
            out = self._avoid_holiday_clashes(out, fixed=self._after_targets() if later else ())
        for dl in self.org.deadlines.values():
            out.extend(self._deadline_series(dl))
        for req in self.requests:
            made = request_series(self.org, req)
            out.append(self._finish(made.id, made.uid, None, list(made.nominal),
                                    list(made.occurrences)))
        for row in self.adhoc:
            if row.meeting_type in self.org.meeting_types:  # a type the policy dropped: none
                made = adhoc_mod.adhoc_series(self.org, row)
                out.append(self._finish(made.id, made.uid, None, list(made.nominal),
                                        list(made.occurrences)))
        return [s for s in out if s.occurrences]

    def _after_targets(self) -> set[str]:
        return {s.after for mt in self.org.meeting_types.values() for s in mt.schedules
                if s.kind == "after" and s.after}

    def _avoid_holiday_clashes(self, out: list[Series],
                               fixed: Iterable[str] = ()) -> list[Series]:
        decided = set(self.decisions)
        out = holiday_moves.avoid_clashes(out, self.windows, decided, self.start, self.end,
                                          set(fixed))
        by_id = {s.id: s for s in out}
        self.by_type = {t: [by_id.get(s.id, s) for s in ss] for t, ss in self.by_type.items()}
        return out

    def _sections(self, mt: MeetingType) -> list[Section | None]:
        return list(self.org.sections.values()) if mt.per_section else [None]

    def _series_id(self, mt: MeetingType, sched: Schedule, section: Section | None) -> str:
        parts = [mt.id] + ([section.id] if section else [])
        if len(mt.schedules) > 1:
            parts.append(sched.id)
        return "-".join(parts)

    # -- meetings ----------------------------------------------------------------------------
    def _schedule_series(self, mt: MeetingType, sched: Schedule,
                         section: Section | None) -> list[Series]:
        sid = self._series_id(mt, sched, section)
        if sched.kind == "weekly":
            made = [self._weekly(mt, sched, section, sid)]
        elif sched.kind == "after":
            made = [self._after(mt, sched, section, sid)]
        else:
            made = self._yearly(mt, sched, section, sid)
        self.by_type.setdefault(mt.id, []).extend(made)
        return made

    def _weekly(self, mt: MeetingType, sched: Schedule, section: Section | None,
                sid: str) -> Series:
        assert sched.time is not None and sched.weekday is not None
        uid = self.uid(sid)
        dates = weekly_dates(sched, self.start, self.end)
        step = dt.timedelta(weeks=sched.interval)
        occs = []
        for day in dates:
            held = shift(self.cal, day, sched.on_holiday, sched.makeup_weekends,
                         before=day + step, after=day - step)
            if held is None:
                continue
            nominal = at(day, sched.time)
            if held != day:
                self.windows[(uid, nominal)] = holiday_moves.window(
                    self.cal, day, sched.on_holiday, sched.makeup_weekends, day + step,
                    day - step, sched.interval)
            occs.append(self._meeting(mt, section, uid, sid, nominal, at(held, sched.time),
                                      sched.duration_minutes, [mt]))
        return self._finish(sid, uid, Recurrence(sched.weekday, sched.interval),
                            [at(d, sched.time) for d in dates], occs)

    def _after(self, mt: MeetingType, sched: Schedule, section: Section | None,
               sid: str) -> Series:
        # The loader checked that the target type has a weekly, organization-wide schedule.
        target = next(s for s in self.by_type[sched.after or ""] if s.rule is not None)
        weekly = next(s for s in self.org.meeting_types[sched.after or ""].schedules
                      if s.kind == "weekly")
        uid = self.uid(sid)
        # Nominal starts follow the target's rule, never a decision on one of its occurrences.
        duration = dt.timedelta(minutes=weekly.duration_minutes)
        nominal_of = {n: n + duration for n in target.nominal}
        occs = []
        for t in target.occurrences:
            # A cancelled 周例会 leaves its 科务会 where the rule put it.
            begin = nominal_of[t.nominal_start] if t.status == "CANCELLED" else t.end
            occs.append(self._meeting(mt, section, uid, sid, nominal_of[t.nominal_start], begin,
                                      sched.duration_minutes, [mt], move_note=False))
        return self._finish(sid, uid, target.rule, list(nominal_of.values()), occs)

    def _yearly(self, mt: MeetingType, sched: Schedule, section: Section | None,
                sid: str) -> list[Series]:
        assert sched.time is not None
        types = [mt] + [self.org.meeting_types[t] for t in sched.also_types]
        out = []
        for year in range(self.start.year, self.end.year + 2):
            label = year
            if sched.kind == "yearly-window":
                day = window_day(self.cal, sched, year)
                # Only the chosen day matters: a notice never makes another window day eligible
                # (make-up weekends are not), it can only take this one away.
                provisional = day is not None and self.cal.is_provisional(day)
                if day is None:
                    self.warnings.append(f"{self.org.id}: no working day for {mt.name} in "
                                         f"{year}-{sched.month:02d}")
                    continue
            else:
                holiday, provisional = self.cal.spring_festival_holiday_start(year)
                day = working_days_before(self.cal, holiday, sched.working_days_before or 1,
                                          sched.count_makeup_days)
                label = year - 1  # the year it sums up
            if not self.start <= day <= self.end:
                continue
            yid = f"{sid}-{year}"
            uid = self.uid(yid)
            occ = self._meeting(mt, section, uid, yid, at(day, sched.time), at(day, sched.time),
                                sched.duration_minutes, types, year_label=label)
            if provisional and not occ.provisional:
                occ = replace(occ, provisional=True, notes=(*occ.notes, PROVISIONAL_NOTE))
            out.append(self._finish(yid, uid, None, [occ.nominal_start], [occ]))
        return out

    def _meeting(self, mt: MeetingType, section: Section | None, uid: str, sid: str,
                 nominal: dt.datetime, start: dt.datetime, minutes: int,
                 types: list[MeetingType], move_note: bool = True,
                 year_label: int | None = None) -> Occurrence:
        # Held as one event, every type's chair chairs (the 主任 stays CHAIR at year end).
        chair_specs = tuple(AttendeeSpec(sel, "CHAIR", "主持") for t in types[1:]
                            for sel in t.chairs[:1])
        people, audience = attendees_and_audience(
            self.org, mt.chairs, chair_specs + _merged_specs(types), section, start.date())
        summary = "暨".join(t.name for t in types)
        if section is not None:
            summary = f"{summary}（{section.name}）"
        if len(types) > 1 and year_label is not None:
            summary = f"{year_label}年度{summary}"
        notes: list[str] = []
        if move_note and start.date() != nominal.date():
            notes.append(holiday_move_note(nominal, start, self.cal.holiday_name(nominal.date())))
        provisional = (self.cal.is_provisional(start.date())
                       or self.cal.is_provisional(nominal.date()))
        if provisional:
            notes.append(PROVISIONAL_NOTE)
        room = (self.org.rooms.get(mt.location or "") or
                (self.org.rooms.get(section.room or "") if section else None))
        alarm = mt.alarm_minutes if mt.alarm_minutes is not None else self.org.alarm_minutes
        # 当月值班领导 chairs (篇一 三.1): one resource per leader, by the nominal day's month
        part = ""
        if self.org.roster is not None and any(c.kind == "duty_leader" for c in mt.chairs):
            part = self.org.roster.leader_for(nominal.date()) or ""
        pending = [t.needs_confirmation for t in types if t.needs_confirmation]
        notes.extend(tentative_note(what) for what in pending)
        return Occurrence(
            series=sid, uid=uid, organization=self.org.id, kind="meeting",
            status="TENTATIVE" if pending else "CONFIRMED",
            meeting_types=tuple(t.id for t in types), summary=summary,
            start=start, end=start + dt.timedelta(minutes=minutes), nominal_start=nominal,
            description=self._description(types, people),
            location=room.name if room else "",
            klass="CONFIDENTIAL" if any(t.confidential for t in types) else "PUBLIC",
            organizer=organizer(self.org), attendees=people, clause=mt.clause,
            provisional=provisional, alarm_minutes=alarm or None, notes=tuple(notes),
            audience=audience, part=part)

    def _description(self, types: list[MeetingType], people: tuple) -> str:
        # The attendee tuples are shared (calsync.meetings.people memoizes them): one text per pair.
        key = (tuple(t.id for t in types), id(people))
        hit = self.descriptions.get(key)
        if hit is None or hit[0] is not people:
            hit = self.descriptions[key] = (people, meeting_description(self.org, types, people))
        return hit[1]

    def _finish(self, sid: str, uid: str, rule: Recurrence | None,
                nominal: list[dt.datetime], occs: list[Occurrence]) -> Series:
        mine = [d for target, ds in self.series_decisions.items()
                if series_mod.covers(target, uid) for d in ds]
        occs = series_mod.apply(occs, mine, self.org)
        occs = decisions_mod.apply(occs, self.decisions, self.used, self.before)
        # An occurrence moved out of the range belongs to the neighbouring range: here it is
        # dropped (EXDATE), so a range never lists a day outside itself.
        occs = [o for o in occs if self.start <= o.start.date() <= self.end]
        if rule is not None and nominal:
            # The rule's weekday is the nominal starts' own: an offset (a deadline's half hour,
            # a meeting that ends after midnight) may have moved them to another day.
            rule = Recurrence(nominal[0].weekday(), rule.interval)
        return Series(sid, uid, self.org.id, rule, tuple(nominal), tuple(occs))

    # -- deadlines ---------------------------------------------------------------------------
    def _deadline_series(self, dl: Deadline) -> list[Series]:
        if dl.kind == "weekly":
            assert dl.weekday is not None
            sid = f"deadline-{dl.id}"
            uid = self.uid(sid)
            sched = Schedule(id=dl.id, kind="weekly", weekday=dl.weekday, time=dl.time)
            dates = weekly_dates(sched, self.start, self.end)
            occs = []
            for day in dates:
                held = shift(self.cal, day, dl.on_holiday, before=day + dt.timedelta(7),
                             after=day - dt.timedelta(7))
                if held is not None:
                    occs.append(self._deadline(dl, uid, sid, at(day, dl.time),
                                               at(held, dl.time), None))
            nominal = [at(d, dl.time) - DEADLINE_BLOCK for d in dates]
            return [self._finish(sid, uid, Recurrence(dl.weekday), nominal, occs)]
        out = []
        for meeting in self.by_type.get(dl.meeting or "", []):
            out.append(self._deadline_for(dl, meeting))
        return out

    def _deadline_for(self, dl: Deadline, meeting: Series) -> Series:
        sid = f"deadline-{dl.id}-{meeting.id}"
        uid = self.uid(sid)
        back = dt.timedelta(days=dl.days_before)

        def due(start: dt.datetime) -> dt.datetime:
            return at(start.date() - back, dl.time)

        occs = []
        for m in meeting.occurrences:
            # Follows the meeting when it moves; a non-working day → the previous working day;
            # never after the meeting has begun.
            day = previous_working_day(self.cal, m.start.date() - back)
            if at(day, dl.time) > m.start:
                day = previous_working_day(self.cal, day - dt.timedelta(days=1))
            occ = self._deadline(dl, uid, sid, due(m.nominal_start), at(day, dl.time), m)
            if m.status == "CANCELLED":
                occ = replace(occ, status="CANCELLED", notes=(*occ.notes, "对应会议已取消。"))
            occs.append(occ)
        rule = meeting.rule  # same interval; _finish takes the weekday from the nominal starts
        nominal = [due(n) - DEADLINE_BLOCK for n in meeting.nominal]
        return self._finish(sid, uid, rule, nominal, occs)

    def _deadline(self, dl: Deadline, uid: str, sid: str, nominal: dt.datetime,
                  due: dt.datetime, meeting: Occurrence | None) -> Occurrence:
        people, audience = attendees_and_audience(self.org, None, dl.attendees, None,
                                                  due.date())
        # A deadline moves with its meeting.
        provisional = self.cal.is_provisional(due.date()) or bool(meeting and meeting.provisional)
        notes = [PROVISIONAL_NOTE] if provisional else []
        summary = f"{dl.name}（{meeting.summary}）" if meeting else dl.name
        meeting_text = meeting.summary if meeting else None
        return Occurrence(
            series=sid, uid=uid, organization=self.org.id, kind="deadline",
            meeting_types=meeting.meeting_types if meeting else (), summary=summary,
            start=due - DEADLINE_BLOCK, end=due, nominal_start=nominal - DEADLINE_BLOCK,
            description=deadline_description(self.org, dl, due, meeting_text),
            organizer=organizer(self.org), attendees=people, clause=dl.clause,
            provisional=provisional, alarm_minutes=dl.alarm_minutes, transparent=True,
            related_to=meeting.uid if meeting else None, notes=tuple(notes),
            audience=audience)


def _merged_specs(types: list[MeetingType]) -> tuple:
    return tuple(spec for t in types for spec in t.attendees)
