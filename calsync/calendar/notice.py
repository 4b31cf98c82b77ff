"""Read the State Council's 国务院办公厅关于YYYY年部分节假日安排的通知 as it is published.

The notice's items (``一、元旦：…``) say which days are off (``放假``, ``放假调休``, ``补休``,
``与周末连休``) and which weekend days are worked (``上班``). Simplified or traditional
characters, full- or half-width punctuation, ``周四`` or ``星期四`` all read the same. Anything
the reader cannot account for is refused (:class:`NoticeRefused`): a wrong holiday table moves
every meeting of the year, so guessing is worse than asking for the whole, unedited text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from calsync.calendar.statutory import festival_days
from calsync.errors import UsageError

ONE_DAY = dt.timedelta(days=1)
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
# The day each festival's block always holds (the other statutory days changed with the law).
_MAIN_DAY = {"元旦": 0, "春节": 1, "清明节": 0, "劳动节": 0, "端午节": 0, "中秋节": 0,
             "国庆节": 0}

# Traditional → simplified, for the characters a notice's title, items and signature use.
_TRADITIONAL = str.maketrans(
    "國務辦廳關於節慶勞動調補與週連農曆歷發電號現將據決經準單門區轄屬機構紀戰勝閏臘個後幹",
    "国务办厅关于节庆劳动调补与周连农历历发电号现将据决经准单门区辖属机构纪战胜闰腊个后干")
_WEEKDAYS = "一二三四五六日"
_NUMERALS = "一二三四五六七八九十"
_NAMES = "|".join(FESTIVALS)
_TITLE = re.compile(r"国务院办公厅关于(\d{4})年部分节假日安排的通知")
_ITEM = re.compile(rf"([{_NUMERALS}]{{1,3}})、((?:{_NAMES})(?:[、和](?:{_NAMES}))*):")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^()]*)\))?")
_SIGNED = re.compile(r"国务院办公厅\n*(\d{4})年(\d{1,2})月(\d{1,2})日")
# Sentence skeletons once every date is replaced by "D".
_OFF = re.compile(r"D(?:至D)?放假(?:调休|公休)?(?:(\d+)天)?")
_COUNT = re.compile(r"共(\d+)天")
_WORK = re.compile(r"D(?:[、和]D)*上班")
_MAKEUP_OFF = re.compile(r"D(?:[、和]D)*补休")


class NoticeRefused(UsageError):
    """The text is not a holiday notice, or it cannot be read without guessing; exit 2."""


@dataclass
class Notice:
    year: int
    signed: dt.date | None = None
    holidays: dict[dt.date, str] = field(default_factory=dict)   # every day off
    workdays: dict[dt.date, str] = field(default_factory=dict)   # weekend days worked (上班)

    @property
    def source(self) -> str:
        when = f"，{self.signed.isoformat()}" if self.signed else ""
        return f"国务院办公厅关于{self.year}年部分节假日安排的通知{when}"


def normalize(text: str) -> str:
    """One spelling: simplified characters, half-width punctuation, 周 for 星期, no spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL)
    text = text.replace("星期", "周").replace("礼拜", "周")
    return re.sub(r"[^\S\n]+", "", text)


def parse_notice(text: str) -> Notice:
    t = normalize(text)
    # gov.cn sets the title on two lines ("…关于2010年" / "部分节假日安排的通知").
    years = sorted({int(y) for y in _TITLE.findall(t.replace("\n", ""))})
    if not years:
        raise NoticeRefused("not a holiday notice: the title 国务院办公厅关于YYYY年部分节假日安排的"
                            "通知 is missing (paste the whole notice, title included)")
    if len(years) > 1:
        raise NoticeRefused(f"the text holds notices for {', '.join(map(str, years))} "
                            "(paste one notice at a time)")
    notice = Notice(years[0])
    items = list(_ITEM.finditer(t))
    if not items:
        raise NoticeRefused(f"no 放假安排 items (一、元旦：…) in the {notice.year} notice "
                            "(paste the whole notice)")
    seen: dict[str, str] = {}
    for i, m in enumerate(items):
        names = re.split("[、和]", m.group(2))
        for name in names:
            if name in seen:
                raise NoticeRefused(f"{name} appears in items {seen[name]} and {m.group(1)} "
                                    "(paste the notice unedited)")
            seen[name] = m.group(1)
        end = items[i + 1].start() if i + 1 < len(items) else len(t)
        _read_item(notice, m.group(1), names, t[m.end():end])
    missing = [f for f in FESTIVALS if f not in seen]
    if missing:
        raise NoticeRefused(f"the {notice.year} notice has no item for {'、'.join(missing)} "
                            "(paste the whole notice)")
    signed = _SIGNED.findall(_arabic_dates(t))
    if signed:
        year, month, day = (int(part) for part in signed[-1])
        notice.signed = _day(year, month, day, what="signature date")
    return notice


_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}


def _arabic_dates(text: str) -> str:
    """二〇〇九年十二月七日 → 2009年12月7日 (older notices sign with Chinese numerals)."""
    def number(s: str) -> str:
        if "十" not in s:
            return "".join(_DIGIT[c] for c in s)
        tens, _, ones = s.partition("十")
        return str(int(_DIGIT.get(tens, "1")) * 10 + int(_DIGIT.get(ones, "0")))

    def date(m: re.Match[str]) -> str:
        return f"{number(m.group(1))}年{number(m.group(2))}月{number(m.group(3))}日"

    cn = "〇○零一二三四五六七八九"
    return re.sub(rf"([{cn}]{{4}})年([{cn}十]{{1,3}})月([{cn}十]{{1,3}})日", date, text)


def _read_item(notice: Notice, number: str, names: list[str], body: str) -> None:
    label = f"item {number} ({'、'.join(names)})"
    name = "、".join(names)
    cursor = [notice.year, 0]  # year and month that a date without them inherits
    read = 0
    # A sentence may be wrapped over lines; the item's sentences end with 。
    for sentence in re.split(r"[。;]", body.replace("\n", "")):
        if not sentence:
            continue
        skeleton = _DATE.sub("D", sentence)
        # Dates are read only in an item's sentences, not in what follows the last item.
        shaped = _WORK.fullmatch(skeleton) or _OFF.fullmatch(skeleton.split(",")[0])
        dates = [_date(m, cursor, notice.year, "元旦" in names, label)
                 for m in _DATE.finditer(sentence)] if shaped else []
        if not shaped or not _sentence(notice, label, name, skeleton, dates):
            if read:
                break  # the item is over: the notice's closing paragraphs follow
            raise NoticeRefused(f"{label}: cannot read {sentence[:40]!r} "
                                "(paste the notice unedited)")
        read += 1
    off = {d for d, n in notice.holidays.items() if n == name}
    for festival in names:
        main = festival_days(notice.year)[festival][_MAIN_DAY[festival]]
        if main not in off:
            raise NoticeRefused(f"{label}: {main} ({festival}) is not among its days off "
                                f"(is this the {notice.year} notice?)")


def _sentence(notice: Notice, label: str, name: str, skeleton: str,
              dates: list[dt.date]) -> bool:
    clauses = skeleton.split(",")
    if _WORK.fullmatch(skeleton):
        for day in dates:
            _workday(notice, label, name, day)
        return True
    first = _OFF.fullmatch(clauses[0])
    if not first:
        return False
    used = clauses[0].count("D")
    days = _span(dates[0], dates[1], label) if used == 2 else [dates[0]]
    counts = [int(first.group(1))] if first.group(1) else []
    weekend = False
    for clause in clauses[1:]:
        if (c := _COUNT.fullmatch(clause)) is not None:
            counts.append(int(c.group(1)))
        elif clause == "不调休":
            pass
        elif clause == "与周末连休":
            weekend = True
        elif _MAKEUP_OFF.fullmatch(clause):
            n = clause.count("D")
            days += dates[used:used + n]
            used += n
        else:
            return False
    if used != len(dates):
        return False
    if weekend:
        days = _with_weekend(days)
    days = _fill_weekends(days)
    for n in counts:
        if n != len(days):
            raise NoticeRefused(f"{label}: says 共{n}天 but lists {len(days)} days off "
                                "(paste the notice unedited)")
    for day in days:
        if day in notice.workdays:
            raise NoticeRefused(f"{label}: {day} is both a day off and a working day")
        if notice.holidays.get(day, name) != name:
            raise NoticeRefused(f"{label}: {day} is also a day off of "
                                f"{notice.holidays[day]} (paste the notice unedited)")
        notice.holidays[day] = name
    return True


def _workday(notice: Notice, label: str, name: str, day: dt.date) -> None:
    if day.weekday() < 5:
        raise NoticeRefused(f"{label}: the working day {day} is a weekday, not a weekend day "
                            "(paste the notice unedited)")
    if day in notice.holidays or notice.workdays.get(day, name) != name:
        raise NoticeRefused(f"{label}: {day} is listed twice (paste the notice unedited)")
    notice.workdays[day] = name


def _date(m: re.Match[str], cursor: list[int], year: int, new_year_item: bool,
          label: str) -> dt.date:
    y, mo, d, note = m.group(1), m.group(2), int(m.group(3)), m.group(4)
    month = int(mo) if mo else cursor[1]
    if not month:
        raise NoticeRefused(f"{label}: {m.group(0)} has no month (paste the notice unedited)")
    if y:
        cursor[0] = int(y)
    elif new_year_item and month == 12 and cursor[0] == year:
        cursor[0] = year - 1  # 元旦 may start in the last days of the previous year
    cursor[1] = month
    day = _day(cursor[0], month, d, what=f"{label}: {m.group(0)}")
    if not (day.year == year or (day.year == year - 1 and day.month == 12)):
        raise NoticeRefused(f"{label}: {day} is not in {year} (is this the {year} notice?)")
    weekday = re.search(r"周([一二三四五六日天])", note or "")
    if weekday and _WEEKDAYS.index(weekday.group(1).replace("天", "日")) != day.weekday():
        raise NoticeRefused(f"{label}: {day} is a {day:%A}, not 周{weekday.group(1)} "
                            "(check the notice's year and dates)")
    return day


def _day(y: int, m: int, d: int, what: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise NoticeRefused(f"{what} is not a date (paste the notice unedited)") from None


def _span(first: dt.date, last: dt.date, label: str) -> list[dt.date]:
    if last < first:
        raise NoticeRefused(f"{label}: the days off end on {last}, before {first} "
                            "(paste the notice unedited)")
    if (last - first).days > 31:
        raise NoticeRefused(f"{label}: {first} to {last} is longer than a month "
                            "(paste the notice unedited)")
    return [first + i * ONE_DAY for i in range((last - first).days + 1)]


def _fill_weekends(days: list[dt.date]) -> list[dt.date]:
    """One block: a weekend between a day off and its 补休 day is off too."""
    out = set(days)
    cur = min(days)
    while cur < max(days):
        cur += ONE_DAY
        if cur.weekday() >= 5:
            out.add(cur)
    return sorted(out)


def _with_weekend(days: list[dt.date]) -> list[dt.date]:
    """Add the weekend days next to a single day off (与周末连休)."""
    out = set(days)
    for step in (ONE_DAY, -ONE_DAY):
        cur = (max(days) if step > dt.timedelta(0) else min(days)) + step
        while cur.weekday() >= 5:
            out.add(cur)
            cur += step
    return sorted(out)
