"""The Chinese text of generated events: DESCRIPTION lines built from the policy."""

from __future__ import annotations

import datetime as dt

from calsync.occurrence import Attendee
from calsync.policy.model import Deadline, MeetingType, Organization

# The year's notice is not out and this date is near a statutory holiday: it may still move.
PROVISIONAL_NOTE = "暂定：日期待国务院放假通知确定。"


def meeting_description(org: Organization, types: list[MeetingType],
                        attendees: tuple[Attendee, ...]) -> str:
    lines: list[str] = []
    for mt in types:
        lines.append(f"【{mt.name}】依据：{org.regulation} {mt.clause.split(' ', 1)[-1]}")
    chairs = [a for a in attendees if a.role == "CHAIR"]
    main = types[0]
    chair_name = main.chair_text or (chairs[0].name if chairs else "")
    if len(types) > 1:
        # Held as one event, each type keeps its own chair (篇一 五.1 主任, 六.1 副秘书长).
        named = [(t.chair_text or (chairs[i].name if i < len(chairs) else ""), t.name)
                 for i, t in enumerate(types)]
        chair_name = "、".join(f"{who}（{name}）" for who, name in named if who)
    if chair_name:
        lines.append(f"主持：{chair_name}")
    for label, value in (("召集", main.convener), ("通知", main.notifier),
                         ("记录", main.recorder), ("签到", main.sign_in),
                         ("审批", main.approval)):
        if value:
            lines.append(f"{label}：{value}")
    listening = [a.name for a in attendees if a.role == "NON-PARTICIPANT"]
    if listening:
        lines.append(f"列席：{'、'.join(listening)}")
    for mt in types:
        agenda = mt.agenda
        if len(types) > 1 and mt.joint_agenda is not None:
            agenda = mt.joint_agenda  # e.g. 系统工作会议 at year end: not the half-year item
        if agenda:
            lines.append("会议主要内容：" if len(types) == 1 else f"{mt.name}主要内容：")
            lines.extend(f"（{i}）{item}" for i, item in enumerate(agenda, 1))
        lines.extend(mt.notes)
    if any(mt.confidential for mt in types):
        lines.append("保密：会议研究的问题及讨论发言情况必须高度保密，不得向外泄露。")
    if org.discipline:
        # 篇一 has no discipline clause of its own: say whose words these are.
        source = org.words.discipline_source
        lines.append(f"会议纪律（{source}）：" if source else "会议纪律：")
        lines.extend(f"· {rule}" for rule in org.discipline)
    return "\n".join(lines)


def deadline_description(org: Organization, dl: Deadline, due: dt.datetime,
                         meeting: str | None) -> str:
    """``meeting`` is the meeting's summary, without its date."""
    # No dates here: the event's own time says when, and a per-date text would turn every
    # occurrence into an override.
    lines = [f"【{dl.name}】依据：{org.regulation} {dl.clause.split(' ', 1)[-1]}",
             f"截止时间：{due:%H:%M}前"]
    if meeting:
        lines.append(f"对应会议：{meeting}")
    if dl.description:
        lines.append(dl.description)
    return "\n".join(lines)


def tentative_note(what: str) -> str:
    return f"待定：{what}，秘书记录决定后确认。"


def confirmed_note(note: str) -> str:
    return "已确定" + (f"：{note}" if note else "。")


def holiday_move_note(nominal: dt.datetime, actual: dt.datetime, holiday: str | None) -> str:
    why = f"（{holiday}）" if holiday else ""
    return f"因节假日{why}由{nominal:%Y-%m-%d}调整至{actual:%Y-%m-%d}。"
