"""会议申请 (篇二 二.3): a section asks the office for a meeting; the list and its state."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_required

from calsync import access
from calsync.meetings.request_rights import own_sections, requestable
from calsync.meetings.requests import RequestForm as CoreForm
from calsync.meetings.requests import approver_for, categories, validate
from calsync.occurrence import TZ

from .core import authorize, core, now, person_name, user
from .forms import RequestForm, options

bp = Blueprint("requests", __name__, url_prefix="/requests")

FIELDS = {"section_id": "section", "category": "category", "title": "title",
          "audience": "audience", "start": "start", "end": "end", "room": "room"}


def _choices(form: RequestForm) -> None:
    # Only one's own section and the categories one may ask for are offered; validate()
    # refuses anything else server-side (篇二 二.3, 三.1).
    u = user()
    org = u.org
    mine = own_sections(org, u.person)
    form.section.choices = options((s.id, s.name) for s in org.sections.values()
                                   if s.id in mine)
    form.category.choices = options([("", "请选择"),
                                     *((mt.id, mt.name) for mt in requestable(org, u.person))])
    form.section.label.text = f"申请{org.words.section}"
    form.important.label.text = f"重要会议（由{org.words.director_title}审批）"
    form.audience.choices = options((p.id, p.name) for p in org.people.values())
    form.room.choices = options([("", "按会议类别默认"),
                                 *((r.id, r.name) for r in org.rooms.values())])


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    u = user()
    org = u.org
    form = RequestForm()
    _choices(form)
    if not form.is_submitted() and own_sections(org, u.person):
        form.section.data = own_sections(org, u.person)[0]
    # Choices are checked by validate() below with a message, not by WTForms' bare refusal.
    form.section.validate_choice = form.category.validate_choice = False
    if form.is_submitted():
        authorize("request", org.id)
    if form.validate_on_submit():
        assert form.start.data is not None and form.end.data is not None
        wanted = CoreForm(section_id=form.section.data, category=form.category.data,
                          title=form.title.data or "", audience=tuple(form.audience.data or ()),
                          start=form.start.data.replace(tzinfo=TZ),
                          end=form.end.data.replace(tzinfo=TZ),
                          room=form.room.data or None, important=bool(form.important.data))
        errors = validate(org, wanted, now(), u.person)
        for key, message in errors.items():
            getattr(form, FIELDS.get(key, "title")).errors.append(message)
        if not errors:
            approver = approver_for(org, wanted.section_id, wanted.important, wanted.category)
            req = core().store.requests.add_request(
                org.id, section_id=wanted.section_id, category=wanted.category,
                title=wanted.title.strip(), audience=wanted.audience,
                start=wanted.start.isoformat(), end=wanted.end.isoformat(), room=wanted.room,
                important=wanted.important, approver_id=approver, actor=u.username)
            flash(f"已提交会议申请第{req.id}号，等待{person_name(org, approver)}审批。", "ok")
            return redirect(url_for("requests.index"))
    rows = [r for r in reversed(core().store.requests.meeting_requests(org.id))
            if access.sees_request(u.viewer, r)]
    return render_template("requests.html", form=form, rows=rows,
                           name=lambda pid: person_name(org, pid),
                           kinds=dict(categories(org)), sections=org.sections,
                           lead=org.requests.min_lead_days, words=org.words)
