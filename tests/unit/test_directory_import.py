"""The directory from the office's 通讯录 (issue 13 item 2), on the real loader and generator:
pinyin ids and their collisions, header variants, encodings, the diff, the rewritten
directory.toml, validation messages, hostile files, and people who leave (kept, no new
invitations, history intact)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from calsync.directory import apply, diff_lines, preview
from calsync.directory.ids import pinyin_id, unique_id
from calsync.directory.sheet import MAX_BYTES, SheetError, read_sheet
from calsync.errors import PolicyError, UsageError
from calsync.meetings.generate import generate
from calsync.policy import load_policies, shipped_policies
from tests.support import directory_sheets as ds

LEFT_ON = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 9, 30)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _preview(root: Path, data: bytes, name: str = "通讯录.csv", left_on: dt.date = LEFT_ON):
    return preview(root, "jiaoyuju", name, data, left_on)


# -- ids -------------------------------------------------------------------------------------

def test_person_ids_are_the_pinyin_of_the_name() -> None:
    assert pinyin_id("张伟") == "zhangwei"
    assert pinyin_id("吕小红") == "lvxiaohong"          # ü as v: ids stay ASCII
    assert pinyin_id("曾国藩") == "zengguofan"          # the surname's reading, not ceng
    assert pinyin_id("单雄信") == "shanxiongxin"
    assert pinyin_id("阿依古丽·买买提") == "ayigulimaimaiti"
    assert pinyin_id("Tom Li") == "tomli"


def test_collisions_are_numbered_in_order() -> None:
    taken = {"zhangwei"}
    first = unique_id("zhangwei", taken)
    taken.add(first)
    assert (first, unique_id("zhangwei", taken)) == ("zhangwei2", "zhangwei3")
    assert unique_id("liwei", taken) == "liwei"


def test_three_hundred_people_get_stable_numbered_ids(root: Path, tmp_path: Path) -> None:
    sheet = ds.write_xlsx(tmp_path / "300.xlsx", ds.three_hundred())
    p = _preview(root, sheet.read_bytes(), "300.xlsx")
    plan = p.plan
    assert plan.rows == 300
    assert (len(plan.added), len(plan.changed), len(plan.left), plan.unchanged) == \
        (289, 11, 1, 0)
    ids = [person.id for _, person in plan.added if person.name == "张伟"]
    assert ids == ["zhangwei", "zhangwei2", "zhangwei3", "zhangwei4"]
    # the same sheet again gives the same file, byte for byte
    again = _preview(root, sheet.read_bytes(), "300.xlsx")
    assert again.after == p.after
    apply(p, NOW)
    # applied, the directory loads; importing the sheet once more changes nothing, and the
    # existing people kept their ids (matched by e-mail, phone or name + section)
    org = load_policies(root).organizations["jiaoyuju"]
    assert len(org.staff) == 12 + 289
    assert org.people["du_keyuan"].section == "renshigu"
    assert org.people["zhangwei4"].email == "staff0002@jyj.example.org"
    assert _preview(root, sheet.read_bytes(), "300.xlsx").plan.empty


# -- reading sheets ------------------------------------------------------------------------

def test_header_variants_extra_columns_blank_rows_and_full_width_spaces(root: Path) -> None:
    header = ("编号", "名 字", "部门", "职位", "手机号（必填）", "E-mail", "办公电话")
    text = "县教育局通讯录\r\n\r\n" + ",".join(header) + "\r\n" + \
        "1,潘　云,办公室,科员,１３８０００００００６,PAN.YUN@jyj.example.org,0371-1234567\r\n" + \
        ",,,,,,\r\n" + \
        "2,新　人,教育股,科员,138 0000 1111,xin.ren@jyj.example.org,\r\n"
    p = _preview(root, text.encode("utf-8"))
    assert p.sheet.columns == {"name": "名 字", "section": "部门", "role": "职位",
                               "phone": "手机号(必填)", "email": "E-mail"}
    assert p.sheet.ignored == ("编号", "办公电话")
    added = [person for _, person in p.plan.added]
    assert [(a.id, a.name, a.section, a.phone) for a in added] == \
        [("xinren", "新人", "jiaoyugu", "13800001111")]
    pan = next(c for c in p.plan.changed if c.after.id == "pan_keyuan")
    assert pan.fields == (("phone", "—", "13800000006"),)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_in_utf8_with_or_without_bom_gb18030_and_utf16(root: Path, encoding: str) -> None:
    data = ds.csv_bytes(ds.JIAOYUJU, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    p = _preview(root, data)
    assert p.plan.rows == 12 and not p.plan.added and not p.plan.left
    assert {c.after.name for c in p.plan.changed} >= {"黄志远", "谢婷"}


def test_merged_section_cells_and_heading_rows(root: Path, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "股室", "职务", "手机", "邮箱"])
    sheet.append(["局领导"])                                        # a heading row
    sheet.append(["黄志远", None, "局长", "13800000001", "huang.zhiyuan@jyj.example.org"])
    sheet.append(["唐军", "教育股", "股室负责人", None, "tang.jun@jyj.example.org"])
    sheet.append(["杜娟", None, "科员", None, "du.juan@jyj.example.org"])
    sheet.merge_cells("B4:B5")                                       # 教育股 spans two rows
    path = tmp_path / "merged.xlsx"
    book.save(path)
    p = _preview(root, path.read_bytes(), "merged.xlsx")
    assert {c.after.id for c in p.plan.changed} == {"huang_juzhang"}   # only the phone
    assert "du_keyuan" not in {person.id for person in p.plan.left}


# -- the diff and the rewritten file -----------------------------------------------------

def _small(root: Path) -> bytes:
    rows = [r for r in ds.JIAOYUJU if r[0] != "谢　婷"]
    rows = [("杜　娟", "人事股", *r[2:]) if r[0] == "杜　娟" else r for r in rows]
    rows.append(("周　敏", "教育股", "科员", "13900000001", "zhou.min@jyj.example.org"))
    return ds.csv_bytes(rows)


def test_diff_names_added_changed_and_left(root: Path) -> None:
    p = _preview(root, _small(root))
    lines = diff_lines(p)
    assert lines[1] == "added (1):"
    assert "  + zhoumin  周敏  教育股  科员  13900000001  zhou.min@jyj.example.org  (row 13)" \
        in lines
    assert "  ~ du_keyuan  杜娟  section: 教育股 → 人事股; phone: — → 13800000008" in lines
    assert "  - xie_keyuan  谢婷  教育督导室" in lines
    assert "unchanged: 0" in lines


def test_the_file_keeps_everything_but_the_people_it_changes(root: Path) -> None:
    p = _preview(root, _small(root))
    before, after = tomllib.loads(p.before), tomllib.loads(p.after)
    for key in ("role_rank", "rooms", "sections"):
        assert before[key] == after[key]
    assert "# Heads of schools and centres" in p.after
    assert after["people"]["xie_keyuan"]["left"] == LEFT_ON
    assert after["people"]["school_1"] == before["people"]["school_1"]   # external: untouched
    ids = list(after["people"])
    assert ids.index("zhoumin") == ids.index("xie_keyuan") + 1           # after the staff
    assert ids.index("zhoumin") < ids.index("school_1")


def test_apply_writes_atomically_with_a_backup_and_refuses_a_changed_file(root: Path) -> None:
    p = _preview(root, _small(root))
    original = p.path.read_text(encoding="utf-8")
    backup = apply(p, NOW)
    assert backup is not None and backup.read_text(encoding="utf-8") == original
    assert backup.name == "directory.toml.bak-20261207T093000"
    assert p.path.read_text(encoding="utf-8") == p.after
    stale = _preview(root, ds.csv_bytes(ds.JIAOYUJU))
    p.path.write_text(p.after + "\n# edited by hand\n", encoding="utf-8")
    with pytest.raises(UsageError, match="changed since the preview"):
        apply(stale, NOW)


def test_someone_who_comes_back_is_no_longer_marked_left(root: Path) -> None:
    apply(_preview(root, _small(root)), NOW)
    back = _preview(root, ds.csv_bytes(ds.JIAOYUJU), left_on=dt.date(2027, 1, 4))
    xie = next(c for c in back.plan.changed if c.after.id == "xie_keyuan")
    assert ("left", "2026-12-07", "—") in xie.fields
    assert [p.id for p in back.plan.left] == ["zhoumin"]   # xie's row is there again


def test_posts_replace_posts_but_party_roles_stay(root: Path) -> None:
    rows = [("宋丽华", "局领导", "局长", "", "song.lihua@jyj.example.org"),
            ("黄志远", "局领导", "局长", "", "huang.zhiyuan@jyj.example.org")]
    p = _preview(root, ds.csv_bytes(rows))
    song = next(c for c in p.plan.changed if c.after.id == "song_fujuzhang")
    assert song.after.roles == ("局长", "党委委员")       # 党委委员 is not a post (role_rank)
    assert "huang_juzhang" not in {c.after.id for c in p.plan.changed}   # 局长 ⊂ his roles


def test_a_leaver_still_in_a_post_and_a_new_party_member_are_warned(root: Path) -> None:
    rows = [r for r in ds.JIAOYUJU if r[0] != "唐　军"]
    rows.append(("周　敏", "教育股", "党委委员", "13900000001", "zhou.min@jyj.example.org"))
    warnings = [zh for _, zh in _preview(root, ds.csv_bytes(rows)).plan.warnings]
    assert "唐军已离职，但仍是教育股负责人（sections.jiaoyugu.chief）：请在 directory.toml 中" \
        "改为他人。" in warnings
    assert any(w.startswith("周敏新任党委委员，将被邀请参加保密会议") for w in warnings)


# -- validation messages --------------------------------------------------------------------

def test_problems_name_the_file_row_column_and_fix(root: Path) -> None:
    rows = [("王五", "财务股", "科员", "13900000001", "wang.wu@jyj.example.org"),
            ("赵六", "教育股", "科员", "1390000", "zhao.liu@jyj.example.org"),
            ("钱七", "教育股", "科员", "13900000003", "qian.qi@"),
            ("孙八", "人事股", "科员", "13900000004", "sun.ba@jyj.example.org"),
            ("孙八", "人事股", "科员", "13900000004", "sun.ba@jyj.example.org"),
            ("李九", "教育股", "科员", "13900000005", "")]
    with pytest.raises(SheetError) as caught:
        _preview(root, ds.csv_bytes(rows))
    lines = caught.value.lines()
    assert lines[0] == ("通讯录.csv, row 2, column 科室/股室: '财务股' is not a section of "
                        "县教育局 (use one of: 办公室, 教育股, 人事股, 教育督导室; or add "
                        "[sections.…] to directory.toml)")
    assert lines[1].startswith("通讯录.csv, row 3, column 手机号码: '1390000' is not a phone")
    assert lines[2].startswith("通讯录.csv, row 4, column 电子邮箱: 'qian.qi@' is not a mail")
    assert "通讯录.csv, row 6, column 电子邮箱: repeats row 5 (孙八, same 邮箱): delete one of " \
        "the two rows" in lines
    assert caught.value.chinese()[0] == (
        "第2行“科室/股室”列：“财务股”不是县教育局的科室，可用：办公室、教育股、人事股、"
        "教育督导室（新科室请先在 directory.toml 中添加）。")
    # the missing e-mail of a new person is the next pass's problem, named the same way
    with pytest.raises(SheetError, match=r"row 2, column 电子邮箱: 李九 is new and has no 邮箱"):
        _preview(root, ds.csv_bytes(rows[-1:]))


def test_the_loader_checks_the_left_and_phone_keys(root: Path) -> None:
    path = root / "jiaoyuju" / "directory.toml"
    text = path.read_text(encoding="utf-8")
    marker = '[people.xie_keyuan]\nname = "谢婷"\n'
    path.write_text(text.replace(marker, marker + 'left = "soon"\nphone = "call me"\n'),
                    encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policies(root)
    text = "\n".join(caught.value.lines())
    assert "people.xie_keyuan.left: 'soon' is not a date" in text
    assert "people.xie_keyuan.phone: 'call me' is not a phone number" in text


# -- hostile files ------------------------------------------------------------------------

def _refusal(data: bytes, name: str = "x.xlsx") -> str:
    with pytest.raises(SheetError) as caught:
        read_sheet(name, data)
    return caught.value.chinese()[0]


def test_what_is_not_a_spreadsheet_is_refused_in_plain_chinese() -> None:
    assert _refusal(b"%PDF-1.7\n\x00\x01binary") == \
        "无法识别的文件：这不是 Excel 表格（.xlsx）或 CSV 文件，请上传本单位的通讯录。"
    assert "另存为” .xlsx" in _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "文件过大" in _refusal(b"a" * (MAX_BYTES + 1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")   # a zip, but not a workbook
    assert _refusal(buf.getvalue()).startswith("无法识别的文件")
    assert "没有找到表头“姓名”" in _refusal(b"just some text\nno header\n", "a.csv")


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    assert len(buf.getvalue()) < MAX_BYTES
    assert _refusal(buf.getvalue()) == "文件解压后过大，不像是通讯录；请另存为 CSV 后上传。"


# -- people who leave (管理办: its meetings are scheduled) ------------------------------------

def _guanliban_sheet(root: Path, without: str) -> bytes:
    """管理办's own staff as its 通讯录 lists them, less one person."""
    org = load_policies(root).organizations["guanliban"]
    rows = [(p.name, org.sections[p.section].name if p.section else "办领导", "、".join(p.roles),
             "", p.email) for p in org.staff if p.id != without]
    return ds.csv_bytes(rows)


def _attending(policies, start: dt.date, end: dt.date, pid: str) -> list[dt.date]:
    gen = generate(policies, start, end, ["guanliban"])
    return sorted({o.start.date() for o in gen.occurrences()
                   if any(a.person_id == pid for a in o.attendees)})


def _leave(root: Path, pid: str, last: dt.date) -> None:
    apply(preview(root, "guanliban", "通讯录.csv", _guanliban_sheet(root, pid), last), NOW)


def test_leavers_are_not_invited_after_their_last_day_but_stay_in_the_past(root: Path) -> None:
    start, end, last = dt.date(2026, 11, 2), dt.date(2026, 12, 31), LEFT_ON
    before = _attending(load_policies(root), start, end, "xu_keyuan")
    assert any(d > last for d in before) and any(d <= last for d in before)
    _leave(root, "xu_keyuan", last)
    policies = load_policies(root)
    after = _attending(policies, start, end, "xu_keyuan")
    assert after == [d for d in before if d <= last]          # past occurrences still list him
    xu = policies.organizations["guanliban"].people["xu_keyuan"]
    assert (xu.name, xu.left) == ("徐敏", last)               # kept: names in history resolve


def test_a_leaving_chief_chairs_up_to_the_last_day_and_the_import_warns(root: Path) -> None:
    plan = preview(root, "guanliban", "通讯录.csv", _guanliban_sheet(root, "feng_kezhang"),
                   LEFT_ON).plan
    assert "冯涛已离职，但仍是督查考评科负责人（sections.ducha.chief）：请在 directory.toml 中" \
        "改为他人。" in [zh for _, zh in plan.warnings]
    _leave(root, "feng_kezhang", LEFT_ON)
    gen = generate(load_policies(root), dt.date(2026, 12, 1), dt.date(2026, 12, 14),
                   ["guanliban"])
    kewu = {o.start.date(): o for o in gen.occurrences() if o.summary == "科务会（督查考评科）"}
    assert next((a.person_id, a.role) for a in kewu[dt.date(2026, 12, 7)].attendees) == \
        ("feng_kezhang", "CHAIR")
    later = kewu[dt.date(2026, 12, 11)].attendees
    assert "feng_kezhang" not in {a.person_id for a in later}
    assert "xu_keyuan" in {a.person_id for a in later}
