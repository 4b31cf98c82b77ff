"""Flask-WTF forms (every form carries the CSRF token); messages in Chinese."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from calsync.meetings.leave import CATEGORIES

MESSAGES = {
    "Not a valid choice.": "请从列表中选择。",
    "Not a valid choice": "请从列表中选择。",
    "'%(value)s' is not a valid choice for this field.": "“%(value)s”不是可选项，请从列表中选择。",
    "Not a valid datetime value.": "请填写有效的日期和时间。",
    "Not a valid integer value.": "请填写整数。",
    "This field is required.": "此项为必填项。",
    "Invalid Choice: could not coerce.": "请从列表中选择。",
    "Choices cannot be None.": "没有可选项。",
}


class _Chinese:
    def gettext(self, text: str) -> str:
        return MESSAGES.get(text, text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return MESSAGES.get(singular if n == 1 else plural, singular if n == 1 else plural)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Chinese()


DT = "%Y-%m-%dT%H:%M"
LONG = Length(max=500, message="不超过500字。")
REQUIRED = "此项为必填项。"


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=100)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=200)])
    submit = SubmitField("登录")


class PlainForm(Form):
    """Only the CSRF token (logout, publish, keep ...)."""


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class LeaveForm(Form):
    occurrence = SelectField("会议", validators=[InputRequired("请选择会议。")])
    person = SelectField("请假人", validators=[Optional()])
    category = SelectField("类别", choices=options((c, c) for c in CATEGORIES),
                           validators=[InputRequired("请选择请假类别。")])
    reason = TextAreaField("事由", validators=[DataRequired("请填写请假事由。"),
                                              Length(max=500, message="事由不超过500字。")])
    substitute = SelectField("代会人（可选）", validators=[Optional()])
    submit = SubmitField("提交请假")


class VersionForm(Form):
    # The decision version the page was built on (optimistic locking): never a visible box.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class SeriesDecisionForm(Form):
    series = HiddenField(validators=[DataRequired()])
    action = SelectField("决定", validators=[InputRequired()],
                         choices=options([("offset", "错开时间"), ("delegate", "委派代会")]))
    offset = IntegerField("推迟分钟数（负数为提前）",
                          validators=[Optional(), NumberRange(-720, 720)])
    person = HiddenField()
    substitute = SelectField("代会人员", validators=[Optional()], validate_choice=False)
    since = DateField("生效日期", validators=[InputRequired()])
    note = StringField("说明", validators=[Optional(), LONG])
    week = HiddenField()


class ConfirmForm(VersionForm):
    note = StringField("决定或批准情况", validators=[Optional(), LONG])


class DecideForm(VersionForm):
    step = HiddenField()
    approve = HiddenField()
    note = StringField("意见", validators=[Optional(), LONG])


class RequestForm(Form):
    section = SelectField("申请股室", validators=[InputRequired("请选择申请股室。")])
    category = SelectField("会议类别", validators=[InputRequired("请选择会议类别。")])
    title = StringField("会议名称", validators=[DataRequired("请填写会议名称。"),
                                               Length(max=120, message="不超过120字。")])
    audience = SelectMultipleField("参会人员", validators=[DataRequired("请选择参会人员。")])
    start = DateTimeLocalField("开始时间", format=DT,
                               validators=[InputRequired("请填写开始时间。")])
    end = DateTimeLocalField("结束时间", format=DT, validators=[InputRequired("请填写结束时间。")])
    room = SelectField("会场", validators=[Optional()])
    important = BooleanField("重要会议（由局长审批）")
    submit = SubmitField("提交申请")


class CancelForm(VersionForm):
    series = HiddenField(validators=[DataRequired()])
    rid = HiddenField(validators=[DataRequired()])
    note = StringField("取消说明", validators=[Optional(), LONG])


class MoveForm(VersionForm):
    series = HiddenField(validators=[DataRequired()])
    rid = HiddenField(validators=[DataRequired()])
    slot = HiddenField()
    start = DateTimeLocalField("自定义时间", format=DT, validators=[Optional()])
    note = StringField("说明", validators=[Optional(), LONG])


class MergeForm(Form):
    version_a = IntegerField(validators=[InputRequired()])
    version_b = IntegerField(validators=[InputRequired()])
    time = SelectField("合并后的时间", validators=[InputRequired()])
    start = DateTimeLocalField("自定义时间", format=DT, validators=[Optional()])
    note = StringField("说明", validators=[Optional(), LONG])


class KeepForm(Form):
    fingerprint = HiddenField(validators=[DataRequired()])
    note = StringField("说明", validators=[Optional(), LONG])
