"""通讯录 sheets for the directory-import tests and bench/directory_import.py: written with
openpyxl (xlsx) or as CSV bytes, shaped like offices' own (a title row above the header,
序号 and 备注 columns, blank rows, full-width spaces in two-character names)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

HEADER = ("序号", "姓　名", "科室/股室", "职务", "手机号码", "电子邮箱", "备注")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
            "于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
            "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓燕", "海燕", "文"]

# The shipped 教育局 directory's people as the office lists them (two-character names
# aligned with a full-width space, as offices do).
JIAOYUJU = [
    ("黄志远", "局领导", "局长、党委书记", "13800000001", "huang.zhiyuan@jyj.example.org"),
    ("宋丽华", "局领导", "副局长", "13800000002", "song.lihua@jyj.example.org"),
    ("曹　明", "局领导", "副局长", "13800000003", "cao.ming@jyj.example.org"),
    ("叶　青", "局领导", "纪检组长", "13800000004", "ye.qing@jyj.example.org"),
    ("刘　芳", "办公室", "股室负责人", "13800000005", "liu.fang@jyj.example.org"),
    ("潘　云", "办公室", "科员", "13800000006", "pan.yun@jyj.example.org"),
    ("唐　军", "教育股", "股室负责人", "13800000007", "tang.jun@jyj.example.org"),
    ("杜　娟", "教育股", "科员", "13800000008", "du.juan@jyj.example.org"),
    ("韩　冰", "人事股", "股室负责人", "13800000009", "han.bing@jyj.example.org"),
    ("蒋　超", "人事股", "科员", "13800000010", "jiang.chao@jyj.example.org"),
    ("邓　华", "教育督导室", "股室负责人", "13800000011", "deng.hua@jyj.example.org"),
    ("谢　婷", "教育督导室", "科员", "13800000012", "xie.ting@jyj.example.org"),
]
SECTIONS = ("办公室", "教育股", "人事股", "教育督导室")


def generated(count: int, start: int = 0) -> list[tuple[str, str, str, str, str]]:
    """``count`` made-up staff (names repeat: 张伟 several times), deterministic."""
    names = (s + g for g, s in itertools.product(GIVEN, SURNAMES))
    out = []
    for i, name in enumerate(itertools.islice(names, start, start + count)):
        n = start + i
        out.append((name, SECTIONS[n % len(SECTIONS)], "科员", f"139{n:08d}",
                    f"staff{n:04d}@jyj.example.org"))
    return out


def three_hundred() -> list[tuple[str, str, str, str, str]]:
    """The 教育局's 300-person 通讯录: its 12 staff (one gone: 谢婷; 杜娟 moved to 人事股)
    and 289 new people, three of them 张伟."""
    own = [r for r in JIAOYUJU if r[0] != "谢　婷"]
    own = [("杜　娟", "人事股", *r[2:]) if r[0] == "杜　娟" else r for r in own]
    extra = generated(286)
    zhang = [("张伟", SECTIONS[i], "科员", f"1370000000{i}", f"zhang.wei{i}@jyj.example.org")
             for i in range(3)]
    return own + zhang + extra


def write_xlsx(path: Path, people: Iterable[Sequence[str]], header: Sequence[str] = HEADER,
               title: str | None = "县教育局机关通讯录") -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "通讯录"
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(list(header))
    for i, row in enumerate(people, start=1):
        if i % 50 == 0:
            sheet.append([])   # blank rows between pages of a printed list
        name, section, role, phone, email = row
        phone_cell: object = int(phone) if phone.isdigit() else phone  # Excel keeps numbers
        sheet.append([i, name, section, role, phone_cell, email, ""])
    book.save(path)
    return path


def csv_bytes(people: Iterable[Sequence[str]], header: Sequence[str] = HEADER,
              encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(header)]
    for i, (name, section, role, phone, email) in enumerate(people, start=1):
        lines.append(",".join([str(i), name, section, role, phone, email, ""]))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
