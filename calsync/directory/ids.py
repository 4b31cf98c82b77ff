"""Person ids from the pinyin of a name (pypinyin): 张伟 → zhangwei, then zhangwei2 …"""

from __future__ import annotations

import re
from collections.abc import Callable

from pypinyin import Style, lazy_pinyin

# Surnames read differently from the character's everyday reading (曾 zeng, not ceng).
SURNAMES = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha",
            "朴": "piao", "覃": "qin", "盖": "ge", "缪": "miao", "繁": "po", "句": "gou",
            "乐": "yue", "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "澹台": "tantai",
            "令狐": "linghu", "翟": "zhai", "秘": "bi", "员": "yun", "折": "she"}
_ID = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def _keep(text: str) -> str:
    return text


def pinyin_id(name: str) -> str:
    """The id a name gives, before collisions: lower-case ASCII letters and digits."""
    head = ""
    for surname in sorted(SURNAMES, key=len, reverse=True):
        if name.startswith(surname):
            head, name = SURNAMES[surname], name[len(surname):]
            break
    errors: Callable[[str], str] = _keep
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors=errors, v_to_u=False)
    text = (head + "".join(syllables)).lower()
    text = re.sub(r"[^a-z0-9]", "", text)[:60]
    if not text:
        return "person"
    return text if text[0].isalpha() else f"p{text}"


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, else ``base2``, ``base3`` …: the first not in ``taken``."""
    if base not in taken and _ID.match(base):
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"
