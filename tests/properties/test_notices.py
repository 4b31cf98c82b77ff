"""The State Council notice reader: the real notices of 2010–2026, day by day against
chinese-calendar; the same notices in traditional characters, half-width punctuation and 周/星期;
malformed texts refused with exit 2 and nothing written."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import chinese_calendar
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.calendar.notice import NoticeRefused, parse_notice
from calsync.cli import main
from calsync.policy import load_policies, shipped_policies

NOTICES = Path(__file__).parents[1] / "fixtures" / "notices"
YEARS = sorted(int(p.stem) for p in NOTICES.glob("*.txt"))

# Days another State Council notice changed after the year's 部分节假日安排的通知, so the
# annual notice and chinese-calendar (which follows every notice) rightly differ there.
LATER_NOTICES = {
    # 国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知
    dt.date(2015, 9, 3), dt.date(2015, 9, 4), dt.date(2015, 9, 6),
    # 国务院办公厅关于调整2019年劳动节假期安排的通知 (2019-03-22)
    dt.date(2019, 4, 28), dt.date(2019, 5, 2), dt.date(2019, 5, 3), dt.date(2019, 5, 5),
    # 国务院办公厅关于延长2020年春节假期的通知 (2020-01-26)
    dt.date(2020, 1, 31), dt.date(2020, 2, 1),
}


def text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def test_notices_from_2010_to_2026_are_fixtures() -> None:
    assert list(range(2010, 2027)) == YEARS


@pytest.mark.parametrize("year", YEARS)
def test_notice_agrees_with_chinese_calendar_day_by_day(year: int) -> None:
    notice = parse_notice(text(year))
    assert notice.year == year
    # The next year's notice decides the last days of December when 元旦 starts early.
    spill = parse_notice(text(year + 1)) if year + 1 in YEARS else None
    day, wrong = dt.date(year, 1, 1), []
    while day.year == year:
        off = {**notice.holidays, **(spill.holidays if spill else {})}
        work = {**notice.workdays, **(spill.workdays if spill else {})}
        working = False if day in off else True if day in work else day.weekday() < 5
        if working != chinese_calendar.is_workday(day) and day not in LATER_NOTICES:
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []
    # Every day the notice names is really decided by it: the later notices aside, the
    # notice and chinese-calendar agree on each one.
    for d in notice.holidays:
        assert d in LATER_NOTICES or d.year < year or not chinese_calendar.is_workday(d)
    for d in notice.workdays:
        assert d in LATER_NOTICES or chinese_calendar.is_workday(d)


def test_forms_of_the_items() -> None:
    n2014, n2017, n2023 = parse_notice(text(2014)), parse_notice(text(2017)), parse_notice(
        text(2023))
    # 补休: "4月5日放假，4月7日（星期一）补休" — the Sunday between is part of the block.
    assert [d for d, n in n2014.holidays.items() if n == "清明节"] == [
        dt.date(2014, 4, 5), dt.date(2014, 4, 6), dt.date(2014, 4, 7)]
    # 与周末连休: "6月2日放假，与周末连休" (a Monday) joins the weekend before it.
    assert [d for d, n in n2014.holidays.items() if n == "端午节"] == [
        dt.date(2014, 5, 31), dt.date(2014, 6, 1), dt.date(2014, 6, 2)]
    # Two festivals in one item.
    assert n2017.holidays[dt.date(2017, 10, 4)] == "中秋节、国庆节"
    assert n2017.workdays == {dt.date(2017, 1, 22): "春节", dt.date(2017, 2, 4): "春节",
                              dt.date(2017, 4, 1): "清明节", dt.date(2017, 5, 27): "端午节",
                              dt.date(2017, 9, 30): "中秋节、国庆节"}
    # "放假，共1天", and a range over the turn of the year.
    assert [d for d, n in n2023.holidays.items() if n == "清明节"] == [dt.date(2023, 4, 5)]
    assert dt.date(2022, 12, 31) in n2023.holidays
    n2025 = parse_notice(text(2025))
    # 不调休: one day off, nothing else.
    assert [d for d, n in n2025.holidays.items() if n == "元旦"] == [dt.date(2025, 1, 1)]
    assert n2025.signed == dt.date(2024, 11, 12)
    # gov.cn's layout: the title on two lines, the date signed in Chinese numerals.
    assert text(2010).startswith("国务院办公厅关于2010年\n部分节假日安排的通知")
    assert parse_notice(text(2010)).signed == dt.date(2009, 12, 7)
    assert parse_notice(text(2012)).signed == dt.date(2011, 12, 5)
    assert sorted(d for d, n in n2025.holidays.items() if n == "春节") == [
        dt.date(2025, 1, 28) + dt.timedelta(days=i) for i in range(8)]


# -- traditional characters, half-width punctuation, 周/星期 -----------------------------------

_S2T = opencc.OpenCC("s2t")
_FULL_TO_HALF = {"（": "(", "）": ")", "：": ":", "，": ",", "；": ";"}


_WIDE_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def variant(source: str, traditional: bool, half: frozenset[str], weekday: str,
            wide_digits: bool = False, reprint: bool = False) -> str:
    out = source.translate(_WIDE_DIGITS) if wide_digits else source
    if reprint:  # as news sites reprint it: "一、 元旦：" then the dates on their own line
        out = re.sub(r"^([一二三四五六七八九十]+、)(\S+?：)", r"  \1 \2\n  ", out,
                     flags=re.MULTILINE)
    if weekday == "星期":
        out = out.replace("（周", "（星期").replace("、周", "、星期")
    elif weekday == "周":
        out = out.replace("星期", "周")
    for full in half:
        out = out.replace(full, _FULL_TO_HALF[full])
    return _S2T.convert(out) if traditional else out


@settings(max_examples=60, deadline=None)
@given(year=st.sampled_from(YEARS), traditional=st.booleans(),
       half=st.frozensets(st.sampled_from(sorted(_FULL_TO_HALF))),
       weekday=st.sampled_from(["周", "星期", "as published"]), wide_digits=st.booleans(),
       reprint=st.booleans())
def test_variants_read_the_same(year: int, traditional: bool, half: frozenset[str],
                                weekday: str, wide_digits: bool, reprint: bool) -> None:
    published = parse_notice(text(year))
    changed = variant(text(year), traditional, half, weekday, wide_digits, reprint)
    if traditional:
        assert "節假日" in changed and ("國慶節" in changed)
    got = parse_notice(changed)
    assert (got.year, got.holidays, got.workdays, got.signed) == (
        published.year, published.holidays, published.workdays, published.signed)


def test_traditional_half_width_2025_reads_like_the_original() -> None:
    changed = variant(text(2025), True, frozenset(_FULL_TO_HALF), "星期")
    assert "國務院辦公廳關於2025年部分節假日安排的通知" in changed
    assert "1月28日(農曆除夕、星期二)" in changed
    got = parse_notice(changed)
    assert got.holidays == parse_notice(text(2025)).holidays


# -- import: writes DIR/holidays/YYYY.toml; malformed texts are refused ----------------------

@pytest.fixture
def policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(shipped_policies(), root,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    shutil.rmtree(root / "holidays")
    return root


def test_import_every_notice_then_the_calendar_matches_chinese_calendar(
        policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for year in YEARS:
        assert main(["holidays", "import", str(NOTICES / f"{year}.txt"),
                     "--policies", str(policies)]) == 0
    out = capsys.readouterr().out
    assert f"{policies / 'holidays' / '2026.toml'}: 2026: " in out
    cal = load_policies(policies).calendar
    assert sorted(cal.years) == YEARS
    day, wrong = dt.date(2010, 1, 1), []
    while day.year <= 2026:
        if cal.is_working_day(day) != chinese_calendar.is_workday(day) \
                and day not in LATER_NOTICES:
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []
    # The imported 2026 table is the shipped one, day for day.
    shipped = load_policies().calendar.years[2026]
    assert (cal.years[2026].holidays, cal.years[2026].workdays) == (
        shipped.holidays, shipped.workdays)


def test_show_says_where_the_data_comes_from(policies: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["holidays", "import", str(NOTICES / "2025.txt"),
                 "--policies", str(policies)]) == 0
    capsys.readouterr()
    assert main(["holidays", "show", "2025", "--policies", str(policies)]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["source"] == "notice"
    assert "2025-01-28" in imported["days_off"] and imported["workdays"] == [
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]
    assert main(["holidays", "show", "2026"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "shipped"
    assert main(["holidays", "show", "2027", "--format", "json"]) == 0
    law = json.loads(capsys.readouterr().out)
    assert law["source"] == "law-only" and law["workdays"] == []
    assert law["days_off"] == ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07",
                               "2027-02-08", "2027-04-05", "2027-05-01", "2027-05-02",
                               "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02",
                               "2027-10-03"]
    assert main(["holidays", "show", "2027", "--format", "table"]) == 0
    assert "2027: law-only" in capsys.readouterr().out


def test_import_without_a_policy_folder_is_refused(tmp_path: Path, monkeypatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CALSYNC_POLICIES", raising=False)
    before = sorted((shipped_policies() / "holidays").iterdir())
    assert main(["holidays", "import", str(NOTICES / "2025.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--policies" in err[0]
    assert sorted((shipped_policies() / "holidays").iterdir()) == before


def test_import_uses_calsync_policies(policies: Path, monkeypatch) -> None:
    monkeypatch.setenv("CALSYNC_POLICIES", str(policies))
    assert main(["holidays", "import", str(NOTICES / "2024.txt")]) == 0
    assert (policies / "holidays" / "2024.toml").is_file()


def _malformed() -> dict[str, str]:
    t25, t26 = text(2025), text(2026)
    return {
        "empty": "",
        "not a notice": "国务院办公厅关于印发国务院2025年度立法工作计划的通知\n一、加强立法。",
        "no title": t25.split("\n", 1)[1],
        "two notices": t25 + "\n" + t26,
        "no items": t25.split("一、")[0],
        "a festival missing": t25.replace(
            "五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。\n", ""),
        "a festival twice": t25.replace("三、清明节", "三、元旦"),
        "wrong weekday": t25.replace("1月26日（周日）", "1月26日（周一）"),
        "wrong count": t25.replace("共8天。1月26日", "共7天。1月26日"),
        "range backwards": t25.replace("4月4日（周五）至6日（周日）",
                                       "4月6日（周日）至4日（周五）"),
        "no such date": t25.replace("5月31日（周六）", "2月30日（周六）"),
        "weekday as make-up day": t25.replace("4月27日（周日）上班", "4月28日（周一）上班"),
        "day off and workday": t25.replace("4月27日（周日）上班", "5月3日（周六）上班"),
        "other year's dates": t25.replace("2025年部分", "2026年部分"),
        "unreadable item": t25.replace("放假1天，不调休", "放假事宜另行通知"),
        "edited festival day": t25.replace("10月1日（周三）至8日（周三）",
                                           "10月2日（周四）至8日（周三）"),
        "date without month": t25.replace("1月1日（周三）放假1天", "1日（周三）放假1天"),
    }


@pytest.mark.parametrize("name", sorted(_malformed()))
def test_malformed_notice_is_refused_and_nothing_is_written(
        name: str, policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(_malformed()[name], encoding="utf-8")
    with pytest.raises(NoticeRefused):
        parse_notice(path.read_text(encoding="utf-8"))
    assert main(["holidays", "import", str(path), "--policies", str(policies)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calsync: error: ")
    assert "(" in lines[0] and lines[0].endswith(")")  # names the fix
    assert not (policies / "holidays").exists()


def test_a_file_that_is_not_text_is_refused(policies: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notice.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\xff\xfe")
    assert main(["holidays", "import", str(path), "--policies", str(policies)]) == 2
    assert "UTF-8" in capsys.readouterr().err
    assert not (policies / "holidays").exists()
