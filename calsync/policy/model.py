"""The regulations as typed, immutable data (what ``policies/`` files become)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Attendee roles (RFC 5545 ROLE); 列席 is a NON-PARTICIPANT who is there but has no vote.
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")

# Selectors name people relative to the directory and the occurrence.
SELECTOR_WORDS = (
    "all_staff",        # every internal person of the organization
    "section_members",  # everyone in the section (per-section meetings)
    "section_chief",    # that section's chief
    "section_chiefs",   # every section's chief
    "supervisor",       # the leader who supervises (分管) that section
    "duty_leader",      # the month's duty leader (当月值班领导)
)
SELECTOR_PREFIXES = ("role", "person", "group", "section",
                     "supervisor")  # supervisor:<role>: the section's 分管 if they hold it

ON_HOLIDAY = (
    "next-in-week",           # next working weekday of the same ISO week, else none that week
    "previous-in-week",       # previous working weekday of the same week, else none
    "next-working-day",       # next working day, whatever the week
    "previous-working-day",
    "skip",
)


@dataclass(frozen=True)
class Selector:
    kind: str        # one of SELECTOR_WORDS or SELECTOR_PREFIXES
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind


@dataclass(frozen=True)
class AttendeeSpec:
    selector: Selector
    role: str = "REQ-PARTICIPANT"
    note: str = ""  # e.g. 负责记录 (takes minutes)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    roles: tuple[str, ...] = ()
    section: str | None = None
    unit_head: bool = False       # 一把手: leave needs the director's approval
    external: bool = False
    groups: tuple[str, ...] = ()
    title: str = ""               # shown after the name for external attendees
    phone: str = ""               # 手机 from the office's 通讯录 (calsync directory import)
    # The last day in office: no invitations to occurrences after it; past ones keep them.
    left: dt.date | None = None

    def present(self, day: dt.date | None) -> bool:
        """Still in office on ``day`` (a person who left keeps their history only)."""
        return self.left is None or day is None or day <= self.left


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    email: str
    chief: str | None
    supervisor: str | None        # 分管领导
    room: str | None


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    capacity: int | None = None


@dataclass(frozen=True)
class DutyRoster:
    """当月值班领导: explicit months first, else a rotation counted from an anchor month."""

    rotation: tuple[str, ...]
    anchor: tuple[int, int]                       # (year, month) when rotation[0] is on duty
    months: dict[tuple[int, int], str] = field(default_factory=dict)

    def leader_for(self, day: dt.date) -> str | None:
        key = (day.year, day.month)
        if key in self.months:
            return self.months[key]
        if not self.rotation:
            return None
        offset = (day.year - self.anchor[0]) * 12 + (day.month - self.anchor[1])
        return self.rotation[offset % len(self.rotation)]


@dataclass(frozen=True)
class Schedule:
    """One recurring or computed pattern of a meeting type; each becomes one series."""

    id: str
    kind: str                          # weekly | after | yearly-window | before-spring-festival
    time: dt.time | None = None
    duration_minutes: int = 60
    weekday: int | None = None         # 0 = Monday
    interval: int = 1
    anchor: dt.date | None = None
    on_holiday: str = "next-in-week"
    makeup_weekends: bool = False      # may it be held on a 调休 working weekend?
    after: str | None = None           # kind=after: the meeting type whose end starts this one
    month: int | None = None           # yearly-window
    last_days: int | None = None
    prefer_weekday: int | None = None
    working_days_before: int | None = None  # before-spring-festival
    count_makeup_days: bool = False    # before-spring-festival: do 调休 weekends count?
    also_types: tuple[str, ...] = ()   # held together with these meeting types, as ONE event


@dataclass(frozen=True)
class MeetingType:
    id: str
    name: str
    clause: str
    agenda: tuple[str, ...] = ()
    confidential: bool = False
    chair: Selector | None = None
    chair_text: str = ""               # when the chair is outside the directory
    # Tried in order after ``chair`` when it names nobody (篇二 三.2: 副局长 or 股室负责人).
    chair_else: tuple[Selector, ...] = ()
    attendees: tuple[AttendeeSpec, ...] = ()
    location: str | None = None        # room id
    duration_minutes: int = 60
    alarm_minutes: int | None = None   # None: the organization's default
    per_section: bool = False
    on_demand: bool = False
    schedules: tuple[Schedule, ...] = ()
    convener: str = ""                 # 召集
    notifier: str = ""                 # 通知
    recorder: str = ""                 # 记录
    sign_in: str = ""                  # 签到
    approval: str = ""                 # who approves holding it
    notes: tuple[str, ...] = ()        # extra description lines from the clause
    # Meeting requests (篇二 二.3, 三): who may ask for this category ("any_section",
    # "organizer" or a selector such as "role:党委书记"; empty: any section) and who approves
    # ("supervisor": the section's 分管, the director when important; "director"; a selector).
    requested_by: tuple[str, ...] = ()
    approved_by: str = "supervisor"
    # Held only once a secretary records this (e.g. "由管理办主任会议确定"): TENTATIVE till then.
    needs_confirmation: str = ""
    # The agenda when held together with another type as one event (篇一 五.2 year end).
    joint_agenda: tuple[str, ...] | None = None

    @property
    def chairs(self) -> tuple[Selector, ...]:
        return ((self.chair,) if self.chair else ()) + self.chair_else


@dataclass(frozen=True)
class Deadline:
    id: str
    name: str
    clause: str
    kind: str                          # before-meeting | weekly
    time: dt.time
    attendees: tuple[AttendeeSpec, ...] = ()
    meeting: str | None = None         # before-meeting: meeting type id
    days_before: int = 0
    weekday: int | None = None         # weekly
    on_holiday: str = "previous-in-week"
    alarm_minutes: int | None = None
    description: str = ""
    agenda_for: str | None = None      # weekly: the meeting type whose topics it closes


@dataclass(frozen=True)
class Semester:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class RequestRules:
    """篇二 二.3: sections report meetings to the office 1–3 days ahead."""

    min_lead_days: int = 1
    max_lead_days: int = 3
    merge_share: float = 0.8


@dataclass(frozen=True)
class Words:
    """The organization's own regulation's words, shown on its pages and events."""

    section: str = "股室"              # 篇二 股室; 篇一 科室
    office: str = "办公室"             # who receives requests: 办公室 / 秘书科
    director_title: str = "局长"       # 局长 / 主任
    request_clause: str = "篇二 二.3"  # the clause meeting requests and statistics follow
    discipline_source: str = ""        # where the discipline lines come from, when not own


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    short_name: str
    regulation: str
    revised: dt.datetime               # the DTSTAMP of everything generated from it
    organizer: str                     # section id (ORGANIZER)
    alarm_minutes: int
    discipline: tuple[str, ...]
    calendar_name: str
    people: dict[str, Person]
    sections: dict[str, Section]
    rooms: dict[str, Room]
    roster: DutyRoster | None
    meeting_types: dict[str, MeetingType]
    deadlines: dict[str, Deadline]
    role_rank: tuple[str, ...] = ()
    requests: RequestRules = RequestRules()
    semesters: tuple[Semester, ...] = ()
    uid_domain: str = ""
    director: str | None = None        # 局长/主任: approves unit heads' leave, important requests
    publish_interval_minutes: int = 10  # calsync serve republishes at least this often
    feed_refresh_minutes: int = 60      # REFRESH-INTERVAL / X-PUBLISHED-TTL of the feeds
    words: Words = Words()

    @property
    def staff(self) -> list[Person]:
        return [p for p in self.people.values() if not p.external]
