"""Occurrences as JSON objects and as a terminal table; .ics files on disk."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from pathlib import Path

from calsync.errors import OutputError
from calsync.ical.render import series_text, wrap
from calsync.meetings.generate import Generation
from calsync.occurrence import Occurrence, Series, part_id
from calsync.policy import PolicySet

_WEEKDAY_ZH = "一二三四五六日"


def occurrence_rows(gen: Generation) -> list[tuple[Series, Occurrence]]:
    rows = [(s, o) for s in gen.series for o in s.occurrences]
    return sorted(rows, key=lambda r: (r[1].start, r[1].organization, r[1].uid))


def occurrence_json(series: Series, o: Occurrence) -> dict[str, object]:
    chair = o.chair
    return {
        "uid": o.uid,
        "recurrence_id": o.nominal_start.isoformat() if series.rule is not None else None,
        "series": o.series,
        # the calendar object it is in: the series', or its duty leader's part
        "resource": part_id(o.series, o.part),
        "resource_uid": o.published_uid,
        "organization": o.organization,
        "meeting_types": list(o.meeting_types),
        "summary": o.summary,
        "start": o.start.isoformat(),
        "end": o.end.isoformat(),
        "kind": o.kind,
        "status": o.published_status,
        "class": o.klass,
        "location": o.location,
        "chair": chair.as_json() if chair else None,
        "attendees": [a.as_json() for a in o.attendees],
        "organizer": {"name": o.organizer[0], "email": o.organizer[1]},
        "clause": o.clause,
        "provisional": o.provisional,
        "moved_from": o.nominal_start.isoformat() if o.moved else None,
        "related_to": o.related_to,
    }


def occurrence_table(gen: Generation) -> str:
    header = ("日期", "星期", "时间", "事项", "主持", "地点", "备注")
    rows = [header]
    for _series, o in occurrence_rows(gen):
        notes = []
        if o.moved:
            notes.append(f"由{o.nominal_start:%m-%d %H:%M}调整")
        if o.status == "CANCELLED":
            notes.append("已取消")
        if o.provisional:
            notes.append("暂定")
        if o.klass == "CONFIDENTIAL":
            notes.append("保密")
        chair = o.chair.name if o.chair else ""
        when = f"{o.start:%H:%M}-{o.end:%H:%M}" if o.kind == "meeting" else f"{o.end:%H:%M}截止"
        rows.append((f"{o.start:%Y-%m-%d}", _WEEKDAY_ZH[o.start.weekday()], when, o.summary,
                     chair, o.location, "，".join(notes)))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_ics(policies: PolicySet, gen: Generation, out: Path, orgs: list[str],
              dtstamp: dt.datetime | None = None) -> list[Path]:
    """``out/<org>.ics`` (everything) and ``out/<org>/<series>.ics`` (one per resource).

    Files of series that no longer exist are removed, so the folder mirrors the generation.
    """
    written: list[Path] = []
    by_org: dict[str, list[Series]] = {org_id: [] for org_id in orgs}
    for s in gen.series:
        by_org.setdefault(s.organization, []).append(s)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for org_id, series in sorted(by_org.items()):
            org = policies.organizations[org_id]
            stamp = dtstamp or org.revised
            folder = out / org_id
            folder.mkdir(exist_ok=True)
            keep = set()
            texts = []
            for s in series:   # each resource rendered once: its file and the combined one
                for part in s.parts():
                    text = series_text(part, stamp)
                    texts.append(text)
                    path = folder / f"{part.id}.ics"
                    _write(path, wrap((text,)))
                    keep.add(path.name)
                    written.append(path)
            for old in folder.glob("*.ics"):
                if old.name not in keep:
                    old.unlink()
            path = out / f"{org_id}.ics"
            _write(path, wrap(texts, org.calendar_name or org.name))
            written.append(path)
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror} "
                          f"(choose another --out folder or free some space)") from exc
    return written


def _write(path: Path, data: bytes) -> None:
    # Write then rename, so a reader never sees half a file.
    # Attendees' names and addresses: the owner only (0600), whatever the umask.
    tmp = path.with_suffix(".ics.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)
    tmp.replace(path)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
