"""The CalDAV door: what each person receives from the embedded Radicale by every request a
client makes (discovery, PROPFIND, GET, calendar-query, sync-collection), and what each
collection holds on any server (Radicale and Xandikos).

The set-up: the shipped policies with 主任办公会 confidential, an approved 党组会议 with
王立新 invited, and 钱丽 substituting for 王立新 at one 主任办公会."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import caldav
import icalendar
import pytest
import requests

from calsync.app.service import build, publish_orgs
from calsync.caldav_server.process import EmbeddedCalDAV
from calsync.meetings.accounts import hash_password, sync_directory
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet, load_policies
from calsync.store import Store, open_store
from tests.support.servers import ServerHandle, free_port
from tests.support.web_fixtures import empty_home
from tests.support.webapp import confidential_policies

START, END = dt.date(2026, 2, 23), dt.date(2026, 3, 22)
DANGZU_TITLE = "研究干部任免事项"
ZHURENBANGONG = "zhurenbangong@guanliban.calsync"
RID_0304 = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
PASSWORD = "caldav-pw-1"
PEOPLE = ("qian_keyuan", "he_keyuan", "wang_fuzhuren", "zhou_mishukezhang", "pan_keyuan",
          "liu_zhuren")


def _secrets(store: Store) -> None:
    req = store.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                     title=DANGZU_TITLE, audience=["wang_fuzhuren"],
                                     start="2026-03-10T14:00:00+08:00",
                                     end="2026-03-10T16:00:00+08:00",
                                     room="diyi", important=False, approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    note = store.leave.add_leave("guanliban", ZHURENBANGONG, RID_0304, "wang_fuzhuren",
                                 category="公出", reason="市里开会", substitute_id="qian_keyuan",
                                 late=False, needs_director=False, chair_id="zhang_zhuren",
                                 director_id=None, actor="test")
    store.leave.decide_leave(note.id, "chair", True, actor="zhang_zhuren",
                             expected_version=note.version)


@dataclass
class Env:
    policies: PolicySet
    store: Store
    dav: EmbeddedCalDAV
    occurrences: list[Occurrence]
    first_requests: int
    noop_requests: int
    noop_collections: int

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.dav.port}/"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("access-caldav")
    policies = load_policies(confidential_policies(base))
    instance = base / "instance"
    store = open_store(None, instance)
    sync_directory(store, policies, actor="test")
    for person in PEOPLE:
        store.users.set_password(person, hash_password(PASSWORD), actor="test")
    _secrets(store)
    orgs = sorted(policies.organizations)
    dav = EmbeddedCalDAV(instance, "127.0.0.1", free_port(),
                         store.engine.url.render_as_string(hide_password=False), orgs)
    dav.start()
    try:
        staff = {o.id: [p.id for p in o.staff] for o in policies.organizations.values()}
        counts = []
        for _ in range(2):  # the initial publish, then a no-op
            _, result = publish_orgs(policies, store, dav.target(), orgs, START, END)
            result.raise_first_error()
            dav.grant(result.specs, orgs, staff)
            counts.append((result.requests, len(result.collections)))
        occs = build(policies, store, START, END, orgs).generation.occurrences()
        yield Env(policies, store, dav, occs, counts[0][0], counts[1][0], counts[1][1])
    finally:
        dav.stop()
        store.close()


def _texts(occ: Occurrence) -> list[str]:
    return [occ.summary, *occ.full_description().split("\n"), occ.location,
            *(a.name for a in occ.attendees)]


def _invited(env: Env, person: str, occ: Occurrence) -> bool:
    org = env.policies.organizations[occ.organization]
    me = next((o.people[person] for o in env.policies.organizations.values()
               if person in o.people), None)
    assert me is not None
    if me.section == org.organizer and person in org.people:
        return True
    return any(a.person_id == person for a in occ.attendees)


def _secret_texts(env: Env, person: str) -> set[str]:
    """What of the confidential occurrences ``person`` is not invited to appears nowhere in
    what they may see (public occurrences' texts are excluded: they are not secret)."""
    public = "\n".join(t for o in env.occurrences if o.klass != "CONFIDENTIAL"
                       for t in _texts(o))
    public += "\n".join(t for o in env.occurrences if _invited(env, person, o)
                        for t in _texts(o))
    hidden = [o for o in env.occurrences
              if o.klass == "CONFIDENTIAL" and not _invited(env, person, o)]
    return {t for o in hidden for t in _texts(o) if t and t not in public}


def _unfold(data: str) -> str:
    text = data.replace("\r\n ", "").replace("\r\n\t", "")
    return text.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")


def _propfind(url: str, person: str, body: str, depth: str = "0") -> requests.Response:
    return requests.request("PROPFIND", url, data=body.encode(), auth=(person, PASSWORD),
                            headers={"Depth": depth, "Content-Type": "application/xml"},
                            timeout=30)


def _href(xml: str, prop: str) -> str:
    m = re.search(rf"<[^>]*{prop}[^>]*>\s*<[^>]*href[^>]*>([^<]+)<", xml)
    assert m, xml
    return m.group(1)


def _discover(env: Env, person: str) -> dict[str, str]:
    """As a client given only the server address: /.well-known/caldav → principal →
    calendar-home-set → calendars. Returns href → display name."""
    r = requests.request("PROPFIND", env.root + ".well-known/caldav", auth=(person, PASSWORD),
                         headers={"Depth": "0"}, allow_redirects=False, timeout=30)
    assert r.status_code in (301, 302, 303, 307, 308), r.status_code
    start = urljoin(env.root, r.headers["Location"])
    r = _propfind(start, person, '<propfind xmlns="DAV:"><prop><current-user-principal/>'
                                 '</prop></propfind>')
    principal = urljoin(env.root, _href(r.text, "current-user-principal"))
    assert urlsplit(principal).path == f"/{person}/"
    r = _propfind(principal, person, '<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:'
                                     'ns:caldav"><prop><C:calendar-home-set/></prop>'
                                     '</propfind>')
    home = urljoin(env.root, _href(r.text, "calendar-home-set"))
    r = _propfind(home, person, '<propfind xmlns="DAV:"><prop><displayname/><resourcetype/>'
                                '</prop></propfind>', depth="1")
    assert r.status_code == 207, r.text
    out = {}
    for block in re.findall(r"<(?:\w+:)?response>(.*?)</(?:\w+:)?response>", r.text, re.S):
        href = re.search(r"<(?:\w+:)?href>([^<]+)<", block).group(1)  # type: ignore[union-attr]
        if "calendar" not in block or href.rstrip("/") == urlsplit(home).path.rstrip("/"):
            continue
        name = re.search(r"<(?:\w+:)?displayname>([^<]*)<", block)
        out[href] = name.group(1) if name else ""
    return out


def test_phones_discover_their_calendars_from_the_server_address(env: Env) -> None:
    found = {p: _discover(env, p) for p in PEOPLE}
    names = {p: sorted(v.values()) for p, v in found.items()}
    assert names["he_keyuan"] == ["管理办会议日历"]
    assert names["pan_keyuan"] == names["liu_zhuren"] == [
        env.policies.organizations["jiaoyuju"].calendar_name]
    # invited to confidential meetings: their own collection besides the organization's
    # one collection per set of readers: what the grants say each may read, nothing more
    specs = _specs(env)
    for person in PEOPLE:
        org = next(o for o in env.policies.organizations.values() if person in o.people)
        expected = sorted([org.calendar_name] + [
            s.display_name for s in specs if s.readers is not None and person in s.readers])
        assert names[person] == expected, person
    secret = [n for n in names["wang_fuzhuren"] if n.startswith("管理办保密会议")]
    assert secret and "主任办公会" in "".join(secret) and "党组会议" in "".join(secret)
    assert names["zhou_mishukezhang"] == names["wang_fuzhuren"]
    # 钱丽 substitutes at one 主任办公会: a collection of its own, not the series'
    assert names["qian_keyuan"] == ["管理办会议日历", "管理办保密会议（主任办公会）"]
    # python-caldav's own discovery, from the server address alone
    client = caldav.DAVClient(url=env.root, username="he_keyuan", password=PASSWORD)
    cals = client.principal().calendars()
    assert [c.get_display_name() for c in cals] == ["管理办会议日历"]
    assert any("周例会" in e.data for e in cals[0].events())


def _specs(env: Env) -> list:
    from calsync.app.service import collections

    built = build(env.policies, env.store, START, END, sorted(env.policies.organizations))
    return collections(env.policies, built, sorted(env.policies.organizations), "org")


def test_vdirsyncer_discovers_them(env: Env, tmp_path: Path) -> None:
    exe = shutil.which("vdirsyncer") or str(Path(sys.executable).parent / "vdirsyncer")
    config = tmp_path / "config"
    config.write_text(f"""[general]
status_path = "{tmp_path / 'status'}"

[pair cal]
a = "local"
b = "remote"
collections = ["from b"]

[storage local]
type = "filesystem"
path = "{tmp_path / 'local'}"
fileext = ".ics"

[storage remote]
type = "caldav"
url = "{env.root}"
username = "wang_fuzhuren"
password = "{PASSWORD}"
""", encoding="utf-8")
    done = subprocess.run([exe, "-c", str(config), "discover", "cal"], input=b"y\n" * 10,
                          capture_output=True, timeout=120)
    out = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, out
    found = set(re.findall(r'- "([^"]+)"', out))
    wanted = {s.slug for s in _specs(env)
              if (s.readers is None and "guanliban" in s.organizations)
              or (s.readers is not None and "wang_fuzhuren" in s.readers)}
    assert found == wanted and "guanliban" in found, out
    assert any(f.startswith("guanliban-c-") for f in found)


def _every_request(env: Env, person: str) -> str:
    """Everything ``person`` gets from every collection they can find or guess."""
    got = []
    slugs = {urlsplit(h).path.rstrip("/").rsplit("/", 1)[-1] for p in PEOPLE
             for h in _discover(env, p)}
    client = caldav.DAVClient(url=env.root, username=person, password=PASSWORD)
    for slug in sorted(slugs):
        for prefix in (f"{person}/", "calsync/"):
            url = f"{env.root}{prefix}{slug}/"
            r = _propfind(url, person, '<propfind xmlns="DAV:"><allprop/></propfind>', "1")
            got.append(r.text)
            if r.status_code != 207:
                assert r.status_code in (403, 404), (person, url, r.status_code)
                continue
            cal = client.calendar(url=url)
            for ev in cal.search(event=True, start=dt.datetime(2026, 1, 1),
                                 end=dt.datetime(2027, 1, 1), expand=False):
                got.append(ev.data)
            for ev in cal.objects_by_sync_token(load_objects=True):
                got.append(ev.data)
            for href in re.findall(r"<(?:\w+:)?href>([^<]+\.ics)<", r.text):
                got.append(requests.get(urljoin(env.root, href), auth=(person, PASSWORD),
                                        timeout=30).text)
    return _unfold("\n".join(got))


@pytest.mark.parametrize("person", PEOPLE)
def test_no_confidential_text_reaches_an_uninvited_person(env: Env, person: str) -> None:
    secrets = _secret_texts(env, person)
    if person in ("he_keyuan", "pan_keyuan"):
        assert DANGZU_TITLE + "（党组会议）" in secrets
    text = _every_request(env, person)
    leaked = {s for s in secrets if s in text}
    assert not leaked, (person, leaked)
    if person in ("he_keyuan", "qian_keyuan"):
        assert "SUMMARY:忙碌" in text                 # the time is shown, as 忙碌
    if person == "wang_fuzhuren":
        assert DANGZU_TITLE in text


def test_a_substitute_gets_the_one_meeting_not_the_series(env: Env) -> None:
    import recurring_ical_events

    client = caldav.DAVClient(url=env.root, username="qian_keyuan", password=PASSWORD)
    starts = []
    for cal in client.principal().calendars():
        for ev in cal.events():
            ics = icalendar.Calendar.from_ical(ev.data)
            starts += [str(e["DTSTART"].dt.isoformat()) for e in
                       recurring_ical_events.of(ics).between(START, END)
                       if str(e["SUMMARY"]) == "主任办公会"]
    assert starts == [RID_0304.isoformat()]


def test_the_service_account_alone_writes_and_homes_are_read_only(env: Env) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
    for url in (f"{env.root}calsync/guanliban/x.ics", f"{env.root}he_keyuan/guanliban/x.ics",
                f"{env.root}he_keyuan/mine/x.ics"):
        r = requests.put(url, data=ics, auth=("he_keyuan", PASSWORD), timeout=30)
        assert r.status_code in (401, 403), (url, r.status_code)
    r = requests.request("MKCALENDAR", f"{env.root}he_keyuan/new/", auth=("he_keyuan", PASSWORD),
                         timeout=30)
    assert r.status_code in (401, 403)
    # another organization's staff: not even the collection's existence
    r = _propfind(f"{env.root}calsync/guanliban/", "pan_keyuan",
                  '<propfind xmlns="DAV:"><allprop/></propfind>')
    assert r.status_code in (403, 404)


def test_request_budget(env: Env) -> None:
    """An initial publish is one PUT per resource plus a listing, a MKCALENDAR and a
    confirming sync REPORT per collection; a no-op is one request per collection."""
    specs = _specs(env)
    assert env.noop_requests == env.noop_collections == len(specs)
    assert len(specs) > 2   # the two organizations' and the confidential ones
    resources = sum(len(s.resources) for s in specs)
    assert env.first_requests == resources + 3 * len(specs)


@pytest.mark.parametrize("layout", ["org", "per-person"])
def test_every_collection_holds_only_what_its_readers_may_see(
        caldav_server: ServerHandle, db_url: str, tmp_path: Path, layout: str) -> None:
    """On any server (Radicale, Xandikos): each collection's bytes contain no confidential
    text of an occurrence some reader of it is not invited to."""
    from calsync.sync.client import Target

    policies = load_policies(confidential_policies(tmp_path))
    with open_store(db_url, tmp_path / "inst") as store:
        _secrets(store)
        home = empty_home(caldav_server)
        target = Target(url=home, username=caldav_server.username,
                        password=caldav_server.password, server_kind=caldav_server.kind)
        _, result = publish_orgs(policies, store, target, ["guanliban"], START, END,
                                 layout=layout)
        result.raise_first_error()
        occs = build(policies, store, START, END, ["guanliban"]).generation.occurrences()
        env = Env(policies, store, None, occs, 0, 0, 0)  # type: ignore[arg-type]
        org = policies.organizations["guanliban"]
        for spec in result.specs:
            readers = (spec.readers if spec.readers is not None
                       else frozenset(p.id for p in org.staff))
            url = home.rstrip("/") + "/" + spec.slug + "/"
            client = caldav.DAVClient(url=url, username=caldav_server.username,
                                      password=caldav_server.password)
            text = _unfold("\n".join(o.data for o in client.calendar(url=url).events()))
            for person in readers:
                leaked = {s for s in _secret_texts(env, person) if s in text}
                assert not leaked, (spec.slug, person, leaked)
        slugs = [s.slug for s in result.specs]
        if layout == "org":
            assert slugs[0] == "guanliban" and len(slugs) >= 3
            assert all(s.startswith("guanliban-c-") for s in slugs[1:])
        else:
            assert len(slugs) == len(org.staff)
