"""纪要与议定事项 through the Flask test client, on SQLite and PostgreSQL: the recorder writes
(hostile text stays text), only invitees read minutes, another organization gets 404s, only
the organizer section records, the owner section reports progress (history kept), the
overdue list is for the organizer section and the leaders, uploaded files are size-limited
private downloads, and a confidential meeting's decision shows to its invitees only."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from flask import Flask

from calsync.occurrence import TZ
from tests.support.webapp import confidential_policies, login, make_app

ZHUREN = "zhurenbangong@guanliban.calsync"
ZHOULIHUI = "zhoulihui@guanliban.calsync"
ZR_RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()
ZL_RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ).isoformat()
USERS = ("qian_keyuan", "wu_kezhang", "lin_keyuan", "zhou_mishukezhang", "wang_fuzhuren",
         "zhang_zhuren", "liu_zhuren")


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    app = make_app(db_url, tmp_path / "instance", users=USERS, CALSYNC_MINUTES_MAX_BYTES=4096)
    yield app
    app.extensions["calsync"].close()


@pytest.fixture
def secret_app(db_url: str, tmp_path: Path):
    app = make_app(db_url, tmp_path / "instance", confidential_policies(tmp_path), users=USERS)
    yield app
    app.extensions["calsync"].close()


def _page(uid: str, rid: str, tail: str = "") -> str:
    return f"/minutes/{uid}/{rid}{tail}"


def _items(app: Flask):
    return app.extensions["calsync"].store.minutes.action_items("guanliban")


def _decide(c, title: str, section: str = "zonghe", due: str = "2026-03-20",
            uid: str = ZHOULIHUI, rid: str = ZL_RID):
    return c.post(_page(uid, rid, "/decisions"),
                  data={"title": title, "section": section, "due": due})


def test_recorder_writes_minutes_and_decisions(app: Flask) -> None:
    zhou, qian = login(app, "zhou_mishukezhang"), login(app, "qian_keyuan")
    meeting = qian.get(f"/meetings/{ZHOULIHUI}/{ZL_RID}").get_data(as_text=True)
    assert 'id="minutes-link"' in meeting                     # invited: linked from the meeting
    text = "# 会议要点\n<script>alert(1)</script>\n**明确本周重点**\n\n- 窗口考评\n- 人员培训"
    r = zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": text, "version": "0"},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    page = qian.get(_page(ZHOULIHUI, ZL_RID)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<strong>明确本周重点</strong>" in page and "<li>窗口考评</li>" in page
    assert "<h3>会议要点</h3>" in page
    assert 'id="minutes-form"' not in page                    # a 科员 reads, does not write
    assert qian.post(_page(ZHOULIHUI, ZL_RID), data={"text": "x", "version": "1"},
                     content_type="multipart/form-data").status_code == 403
    assert _decide(qian, "不应添加").status_code == 403
    # a stale version is refused, not overwritten
    r = zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "旧版本上的修改", "version": "0"},
                  content_type="multipart/form-data", follow_redirects=True)
    assert "另一位记录人刚刚修改了纪要" in r.get_data(as_text=True)
    assert _decide(zhou, "修订窗口服务考评办法").status_code == 302
    r = _decide(zhou, "没有科室", section="nowhere")
    (item,) = _items(app)
    assert (item.title, item.section, item.due, item.status) == (
        "修订窗口服务考评办法", "zonghe", dt.date(2026, 3, 20), "open")
    assert not item.confidential and item.meeting == "周例会"
    audit = app.extensions["calsync"].store.audit.audit_log(target=f"minutes:{ZHOULIHUI}@{ZL_RID}")
    assert {e.action for e in audit} == {"minutes.save", "decision-item.add"}


def test_progress_by_owner_section_with_history(app: Flask) -> None:
    zhou, wu, lin = (login(app, n) for n in ("zhou_mishukezhang", "wu_kezhang", "lin_keyuan"))
    _decide(zhou, "修订窗口服务考评办法")
    (item,) = _items(app)
    url = f"/minutes/decision/{item.id}/progress"
    assert lin.post(url, data={"status": "done", "note": "x", "version": 1}).status_code == 403
    assert wu.post(url, data={"status": "progress", "note": "已起草", "version": 1}) \
        .status_code == 302
    # a stale form does not overwrite
    r = wu.post(url, data={"status": "done", "note": "重复提交", "version": 1},
                follow_redirects=True)
    assert "其他人刚刚更新了该议定事项" in r.get_data(as_text=True)
    assert wu.post(url, data={"status": "done", "note": "已印发", "version": 2}) \
        .status_code == 302
    (item,) = _items(app)
    assert item.status == "done" and item.completed_at is not None
    notes = app.extensions["calsync"].store.minutes.action_notes([item.id])[item.id]
    assert [(n.status, n.note, n.by) for n in notes] == [
        ("progress", "已起草", "wu_kezhang"), ("done", "已印发", "wu_kezhang")]
    page = zhou.get(_page(ZHOULIHUI, ZL_RID)).get_data(as_text=True)
    assert "已起草（办理中）" in page and "已印发（已办结）" in page


def test_overdue_list_for_organizer_and_leaders(app: Flask) -> None:
    zhou = login(app, "zhou_mishukezhang")
    _decide(zhou, "上周应完成的事项", due="2026-02-26")       # today is 2026-03-01
    _decide(zhou, "交易科的事项", section="jiaoyi", due="2026-02-27")
    _decide(zhou, "下周完成的事项", due="2026-03-10")
    for name in ("zhou_mishukezhang", "zhang_zhuren", "wang_fuzhuren"):
        page = login(app, name).get("/minutes/decisions").get_data(as_text=True)
        overdue = page.split('id="overdue"')[1].split('id="others"')[0]
        assert "上周应完成的事项" in overdue and "交易科的事项" in overdue
        assert "下周完成的事项" not in overdue, name
    # a section's staff see their own section's decisions only
    page = login(app, "qian_keyuan").get("/minutes/decisions").get_data(as_text=True)
    assert "上周应完成的事项" in page and "交易科的事项" not in page


def test_another_organization_gets_404(app: Flask) -> None:
    zhou, liu = login(app, "zhou_mishukezhang"), login(app, "liu_zhuren")   # 教育局 办公室
    zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "纪要", "version": "0",
                                              "file": (io.BytesIO(b"%PDF-1"), "纪要.pdf")},
              content_type="multipart/form-data")
    _decide(zhou, "管理办的事项")
    (item,) = _items(app)
    assert liu.get(_page(ZHOULIHUI, ZL_RID)).status_code == 404
    assert liu.get(_page(ZHOULIHUI, ZL_RID, "/file")).status_code == 404
    assert liu.post(_page(ZHOULIHUI, ZL_RID), data={"text": "x", "version": "1"},
                    content_type="multipart/form-data").status_code == 404
    assert _decide(liu, "越权").status_code == 404
    assert liu.post(f"/minutes/decision/{item.id}/progress",
                    data={"status": "done", "note": "x", "version": 1}).status_code == 404
    assert "管理办的事项" not in liu.get("/minutes/decisions").get_data(as_text=True)


def test_minutes_file_upload_and_download(app: Flask) -> None:
    zhou, qian = login(app, "zhou_mishukezhang"), login(app, "qian_keyuan")
    too_big = (io.BytesIO(b"x" * 5000), "纪要.pdf")
    r = zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "", "version": "0", "file": too_big},
                  content_type="multipart/form-data", follow_redirects=True)
    assert "纪要文件超过" in r.get_data(as_text=True)
    html = (io.BytesIO(b"<script>x</script>"), "纪要.html")
    r = zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "", "version": "0", "file": html},
                  content_type="multipart/form-data", follow_redirects=True)
    assert "纪要文件须为以下类型之一" in r.get_data(as_text=True)
    pdf = (io.BytesIO(b"%PDF-1.4 minutes"), "../../周例会纪要.pdf")
    assert zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "", "version": "0", "file": pdf},
                     content_type="multipart/form-data").status_code == 302
    r = qian.get(_page(ZHOULIHUI, ZL_RID, "/file"))
    assert r.status_code == 200 and r.data == b"%PDF-1.4 minutes"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "%E5%91%A8%E4%BE%8B%E4%BC%9A%E7%BA%AA%E8%A6%81.pdf" in r.headers[
        "Content-Disposition"]                               # 周例会纪要.pdf, no path
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    folder = Path(app.config["CALSYNC_INSTANCE"]) / "minutes-files"
    (stored,) = folder.iterdir()
    assert stored.stat().st_mode & 0o077 == 0
    # a new file replaces the old one on disk too
    pdf2 = (io.BytesIO(b"%PDF-1.4 v2"), "纪要v2.pdf")
    assert zhou.post(_page(ZHOULIHUI, ZL_RID), data={"text": "", "version": "1", "file": pdf2},
                     content_type="multipart/form-data").status_code == 302
    assert [p.read_bytes() for p in folder.iterdir()] == [b"%PDF-1.4 v2"]


def test_confidential_minutes_and_decisions_for_invitees_only(secret_app: Flask) -> None:
    app = secret_app
    zhou, wang, qian, wu = (login(app, n) for n in ("zhou_mishukezhang", "wang_fuzhuren",
                                                     "qian_keyuan", "wu_kezhang"))
    assert zhou.post(_page(ZHUREN, ZR_RID), data={"text": "研究人事调整", "version": "0"},
                     content_type="multipart/form-data").status_code == 302
    assert _decide(zhou, "拟定人事调整方案", uid=ZHUREN, rid=ZR_RID).status_code == 302
    (item,) = _items(app)
    assert item.confidential
    assert "研究人事调整" in wang.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    assert qian.get(_page(ZHUREN, ZR_RID)).status_code == 404   # same org, not invited
    assert 'id="minutes-link"' not in qian.get(f"/meetings/{ZHUREN}/{ZR_RID}") \
        .get_data(as_text=True)
    # the owner section's staff are not invited: they neither see nor update it
    for c in (qian, wu):
        assert "拟定人事调整方案" not in c.get("/minutes/decisions").get_data(as_text=True)
        assert c.post(f"/minutes/decision/{item.id}/progress",
                      data={"status": "done", "note": "x", "version": 1}).status_code == 404
    assert "拟定人事调整方案" in wang.get("/minutes/decisions").get_data(as_text=True)
