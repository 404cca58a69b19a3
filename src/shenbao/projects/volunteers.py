"""Volunteer service (科技志愿服务, R-P10; 常德 2022 附件4 “科技志愿服务信息平台操作流程”): a unit registers its team
with a leader; volunteers register on the team's join page and join once the leader approves; the leader
publishes activities at least one day before they start (the call's `publish_days_ahead` minimum when the
team's project has one); volunteers of the team sign up on their own page, the leader approves the sign-ups
and afterwards records each volunteer's service hours. Services take keyword arguments, run in a
transaction and audit every change; reads are plain functions.

    register_team / publish_activity / cancel_activity
    join_team (public) / decide_volunteer (leader)
    sign_up (public, by the volunteer's link) / decide_signup / record_hours (leader)
    roster(team, viewer) / hours_by_volunteer(team) / roster_minimum(team) / days_ahead(team)
    roster_xlsx(team, viewer)
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shenbao.core import audit
from shenbao.core.decisions import require
from shenbao.core.privacy import mask_text
from shenbao.projects import permissions, workflow
from shenbao.projects.models import Project, Volunteer, VolunteerActivity, VolunteerSignup, VolunteerTeam

DEFAULT_DAYS_AHEAD = 1  # 附件4: 活动开始前（至少提前1天）
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class Refused(Exception):
    """A change refused with a reason the user reads (Chinese); nothing was changed."""

    def __init__(self, message: str, field: str = ""):
        self.message, self.field = message, field
        super().__init__(message)


def _now() -> dt.datetime:
    return timezone.now()


def _phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value or "")
    if not _MOBILE.match(phone):
        raise Refused(_("请填写11位手机号码"), "phone")
    return phone


def _text(value: str, label: str, field: str, max_len: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Refused(_("请填写%(label)s") % {"label": label}, field)
    if len(text) > max_len:
        raise Refused(_("%(label)s不能超过%(n)s个字") % {"label": label, "n": max_len}, field)
    return text


# --- the call's rules for the team's project ------------------------------------------------------------


def _tasks(project: Project | None) -> list:
    if project is None:
        return []
    from shenbao.projects.activities import tasks  # the project's tasks, read the same way as its events

    return tasks(project)


def _binding(task, organisation) -> bool:
    return not task.categories or organisation.category.code in task.categories


def days_ahead(team: VolunteerTeam) -> int:
    """How many days before its start an activity must be published: the largest `publish_days_ahead` of the
    project's tasks binding the unit, else one day (附件4)."""
    values = [int(t.minimums["publish_days_ahead"]) for t in _tasks(team.project)
              if "publish_days_ahead" in t.minimums and _binding(t, team.organisation)]
    return max(values, default=DEFAULT_DAYS_AHEAD)


def roster_minimum(team: VolunteerTeam) -> int | None:
    """The least number of volunteers the unit's team must count (常德 2022 2-6: 市级学会10人、高校科协50人), from
    the project's tasks that bind the unit's category; None when no task asks for one."""
    values = [int(t.minimums["volunteers"]) for t in _tasks(team.project)
              if "volunteers" in t.minimums and _binding(t, team.organisation)]
    return max(values) if values else None


def days_ahead_message(days: int) -> str:
    if days == 1:
        return _("须至少提前一天发布")
    return _("须至少提前%(n)s天发布") % {"n": days}


# --- teams ----------------------------------------------------------------------------------------------


@transaction.atomic
def register_team(*, user, organisation, name: str, leader, leader_phone: str, project: Project | None = None,
                  description: str = "") -> VolunteerTeam:
    """注册科技志愿者队伍: the unit's team with its leader (a user of the unit)."""
    require(permissions.can_register_team(user, organisation))
    name = _text(name, _("队伍名称"), "name", 100)
    if leader is None or leader.organisation_id != organisation.pk:
        raise Refused(_("队伍负责人须是本单位的用户"), "leader")
    phone = _phone(leader_phone)
    if project is not None and project.applicant_id != organisation.pk:
        raise Refused(_("只能关联本单位承担的项目"), "project")
    existing = VolunteerTeam.objects.filter(organisation=organisation, name=name).first()
    if existing is not None:
        if existing.leader_id == leader.pk and existing.project_id == getattr(project, "pk", None):
            return existing  # the same form sent twice
        raise Refused(_("本单位已有名为“%(name)s”的队伍") % {"name": name}, "name")
    team = VolunteerTeam.objects.create(
        organisation=organisation, project=project, name=name, leader=leader, leader_phone=phone,
        description=(description or "").strip(), join_token=secrets.token_urlsafe(24), created_by=user)
    audit.record(actor=user, action="volunteer_team.register", obj=team,
                 after={"name": name, "organisation": organisation.name, "leader": leader.username,
                        "project": project.pk if project else None})
    return team


def teams_for(user):
    """The teams the user may read: led by them, of their units, or on projects their funder funds."""
    unit_orgs = list(user.roles.filter(role__in=permissions.UNIT_ROLES).values_list("organisation_id", flat=True))
    funder_orgs = list(user.roles.filter(role__in=permissions.FUNDER_ROLES).values_list("organisation_id", flat=True))
    return (VolunteerTeam.objects.filter(Q(leader=user) | Q(organisation_id__in=unit_orgs)
                                         | Q(project__funder_id__in=funder_orgs))
            .select_related("organisation", "project", "leader")
            .annotate(n_members=Count("volunteers", filter=Q(volunteers__status=Volunteer.Status.APPROVED),
                                      distinct=True),
                      n_pending=Count("volunteers", filter=Q(volunteers__status=Volunteer.Status.PENDING),
                                      distinct=True))
            .distinct().order_by("organisation__name", "id"))


# --- volunteers -----------------------------------------------------------------------------------------


def join_team(*, team: VolunteerTeam, name: str, phone: str, workplace: str = "", speciality: str = "",
              ip: str | None = None) -> Volunteer:
    """注册科技志愿者并加入队伍 (public page): waits for the leader's approval. A phone already in the team is
    refused (its owner has a personal link), so nobody learns another's link by typing a phone."""
    if team.status != VolunteerTeam.Status.ACTIVE:
        raise Refused(_("该队伍已撤销，不再接受报名"))
    name = _text(name, _("姓名"), "name", 50)
    phone = _phone(phone)
    workplace = _text(workplace, _("工作单位"), "workplace", 100, required=False)
    speciality = _text(speciality, _("专业特长"), "speciality", 200, required=False)
    try:
        with transaction.atomic():
            vol = Volunteer.objects.create(team=team, name=name, phone=phone, workplace=workplace,
                                           speciality=speciality, token=secrets.token_urlsafe(24))
            audit.record(actor=None, action="volunteer.join", obj=vol, ip=ip,
                         after={"team": team.name, "name": name, "phone": mask_text(phone)})
    except IntegrityError:
        raise Refused(_("该手机号码已在本队伍登记，请使用登记时获得的个人页面链接"), "phone") from None
    return vol


@transaction.atomic
def decide_volunteer(*, user, volunteer: Volunteer, action: str, note: str = "") -> Volunteer:
    """The leader approves (approve), refuses (reject) or removes (remove) a volunteer."""
    note = (note or "").strip()[:300]
    if action in ("reject", "remove") and not note:
        raise Refused(_("请填写原因"), "note")
    locked = workflow.VOLUNTEER.perform(user=user, obj=volunteer, action=action, note=note)
    locked.decided_by, locked.decided_at, locked.note = user, _now(), note
    locked.save(update_fields=["decided_by", "decided_at", "note"])
    return locked


@dataclass
class Member:
    volunteer: Volunteer
    phone: str  # full or masked for the viewer
    hours: Decimal
    activities: int


def roster(team: VolunteerTeam, viewer, statuses=(Volunteer.Status.APPROVED,)) -> list[Member]:
    """名册: the team's volunteers with their service hours; phones masked unless the viewer is the leader."""
    full = bool(permissions.can_see_volunteer_phones(viewer, team))
    rows = (team.volunteers.filter(status__in=statuses)
            .annotate(total=Sum("signups__hours", filter=Q(signups__status=VolunteerSignup.Status.APPROVED)),
                      served=Count("signups", filter=Q(signups__status=VolunteerSignup.Status.APPROVED,
                                                        signups__hours__isnull=False)))
            .order_by("created_at", "id"))
    return [Member(v, v.phone if full else mask_text(v.phone), v.total or Decimal("0"), v.served) for v in rows]


def roster_xlsx(team: VolunteerTeam, viewer) -> bytes:
    """科技科普志愿者服务队伍名册（明确负责人）: the acceptance material of 常德 2022 2-6, as XLSX."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    full = bool(permissions.can_see_volunteer_phones(viewer, team))
    leader_name = str(team.leader)
    ws.append([f"{team.organisation.name} {team.name} 名册"])
    ws.append(["队伍负责人", leader_name, "联系电话", team.leader_phone if full else mask_text(team.leader_phone)])
    ws.append(["序号", "姓名", "工作单位", "专业特长", "手机号码", "加入时间", "服务时长（小时）", "参加活动（次）"])
    for i, m in enumerate(roster(team, viewer), start=1):
        joined = timezone.localtime(m.volunteer.decided_at).strftime("%Y-%m-%d") if m.volunteer.decided_at else ""
        ws.append([i, m.volunteer.name, m.volunteer.workplace, m.volunteer.speciality, m.phone, joined,
                   float(m.hours), m.activities])
    for col, width in zip("ABCDEFGH", (6, 12, 24, 20, 16, 12, 16, 14), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- activities -----------------------------------------------------------------------------------------


def earliest_start(team: VolunteerTeam, now: dt.datetime | None = None) -> dt.datetime:
    return (now or _now()) + dt.timedelta(days=days_ahead(team))


@transaction.atomic
def publish_activity(*, user, team: VolunteerTeam, title: str, place: str, starts_at: dt.datetime,
                     ends_at: dt.datetime, positions: int, description: str = "") -> VolunteerActivity:
    """活动发布: by the leader, at least `days_ahead(team)` days (one by default) before the start."""
    require(permissions.can_lead_team(user, team))
    title = _text(title, _("活动名称"), "title", 200)
    place = _text(place, _("活动地点"), "place", 200)
    if starts_at is None:
        raise Refused(_("请填写开始时间"), "starts_at")
    if ends_at is None:
        raise Refused(_("请填写结束时间"), "ends_at")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if timezone.is_naive(ends_at):
        ends_at = timezone.make_aware(ends_at)
    if ends_at <= starts_at:
        raise Refused(_("结束时间须晚于开始时间"), "ends_at")
    earliest = earliest_start(team)
    if starts_at < earliest:
        raise Refused(_("%(rule)s：活动开始时间须不早于 %(at)s") % {
            "rule": days_ahead_message(days_ahead(team)),
            "at": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M")}, "starts_at")
    if not isinstance(positions, int) or positions < 1 or positions > 10000:
        raise Refused(_("招募人数须为1至10000的整数"), "positions")
    same = team.activities.filter(title=title, starts_at=starts_at, status=VolunteerActivity.Status.PUBLISHED).first()
    if same is not None:
        return same  # the same form sent twice
    act = VolunteerActivity.objects.create(team=team, title=title, place=place, starts_at=starts_at, ends_at=ends_at,
                                           positions=positions, description=(description or "").strip(),
                                           published_by=user)
    audit.record(actor=user, action="volunteer_activity.publish", obj=act,
                 after={"team": team.name, "title": title, "starts_at": starts_at.isoformat(), "positions": positions})
    return act


def cancel_activity(*, user, activity: VolunteerActivity, note: str) -> VolunteerActivity:
    if not (note or "").strip():
        raise Refused(_("请填写取消原因"), "note")
    return workflow.VOLUNTEER_ACTIVITY.perform(user=user, obj=activity, action="cancel", note=note.strip()[:300])


def approved_count(activity: VolunteerActivity) -> int:
    return activity.signups.filter(status=VolunteerSignup.Status.APPROVED).count()


def signup_open(activity: VolunteerActivity, now: dt.datetime | None = None) -> tuple[bool, str]:
    if activity.status != VolunteerActivity.Status.PUBLISHED:
        return False, _("活动已取消")
    if (now or _now()) >= activity.starts_at:
        return False, _("活动已开始，报名已截止")
    return True, ""


def open_activities(volunteer: Volunteer):
    """The team's published activities not yet started, for the volunteer's page."""
    return volunteer.team.activities.filter(status=VolunteerActivity.Status.PUBLISHED,
                                            starts_at__gt=_now()).order_by("starts_at", "id")


@transaction.atomic
def sign_up(*, volunteer: Volunteer, activity: VolunteerActivity, ip: str | None = None) -> VolunteerSignup:
    """活动报名 by a volunteer of the team (approved by the leader); waits for the leader's approval. Twice:
    the same sign-up."""
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status != Volunteer.Status.APPROVED:
        raise Refused(_("队伍负责人同意您加入队伍后才能报名活动（当前：%(s)s）") % {"s": volunteer.get_status_display()})
    if activity.team_id != volunteer.team_id:
        raise Refused(_("只能报名本队伍发布的活动"))
    ok, reason = signup_open(activity)
    if not ok:
        raise Refused(reason)
    existing = VolunteerSignup.objects.filter(activity=activity, volunteer=volunteer).first()
    if existing is not None:
        return existing
    if approved_count(activity) >= activity.positions:
        raise Refused(_("招募人数已满"))
    signup = VolunteerSignup.objects.create(activity=activity, volunteer=volunteer)
    audit.record(actor=None, action="volunteer_signup.create", obj=signup, ip=ip,
                 after={"activity": activity.title, "volunteer": volunteer.name})
    return signup


@transaction.atomic
def decide_signup(*, user, signup: VolunteerSignup, action: str, note: str = "") -> VolunteerSignup:
    """报名审核 by the leader: approve (within the positions) or reject (with a reason)."""
    note = (note or "").strip()[:300]
    if action == "reject" and not note:
        raise Refused(_("请填写不通过的原因"), "note")
    if action == "approve":
        activity = VolunteerActivity.objects.select_for_update().get(pk=signup.activity_id)
        if approved_count(activity) >= activity.positions and signup.status == VolunteerSignup.Status.PENDING:
            raise Refused(_("招募人数已满（%(n)s人）") % {"n": activity.positions})
    locked = workflow.VOLUNTEER_SIGNUP.perform(user=user, obj=signup, action=action, note=note)
    locked.decided_by, locked.decided_at, locked.note = user, _now(), note
    locked.save(update_fields=["decided_by", "decided_at", "note"])
    return locked


def parse_hours(value) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Refused(_("服务时长须为数字（小时，可含一位小数）"), "hours") from None
    if not hours.is_finite() or hours <= 0:
        raise Refused(_("服务时长须大于0"), "hours")
    return hours.quantize(Decimal("0.1"))


@transaction.atomic
def record_hours(*, user, signup: VolunteerSignup, hours) -> VolunteerSignup:
    """服务时长 of an approved volunteer, once the activity has started; no more than the activity lasted."""
    signup = VolunteerSignup.objects.select_for_update().select_related("activity__team", "volunteer").get(pk=signup.pk)
    activity = signup.activity
    require(permissions.can_lead_team(user, activity.team))
    if signup.status != VolunteerSignup.Status.APPROVED:
        raise Refused(_("只能为审核通过的报名记录服务时长"))
    if activity.status != VolunteerActivity.Status.PUBLISHED:
        raise Refused(_("活动已取消"))
    if _now() < activity.starts_at:
        raise Refused(_("活动开始后才能记录服务时长"))
    value = parse_hours(hours)
    span = Decimal((activity.ends_at - activity.starts_at).total_seconds()) / Decimal(3600)
    limit = span.quantize(Decimal("0.1"), rounding=ROUND_CEILING)
    if value > limit:
        raise Refused(_("服务时长不能超过活动时长（%(h)s小时）") % {"h": limit}, "hours")
    before = {"hours": str(signup.hours) if signup.hours is not None else None}
    signup.hours, signup.hours_by, signup.hours_at = value, user, _now()
    signup.save(update_fields=["hours", "hours_by", "hours_at"])
    audit.record(actor=user, action="volunteer_signup.hours", obj=signup, before=before,
                 after={"hours": str(value), "volunteer": signup.volunteer.name})
    return signup


def hours_by_volunteer(team: VolunteerTeam) -> dict[int, Decimal]:
    """Volunteer id → total service hours recorded (approved sign-ups)."""
    rows = (VolunteerSignup.objects.filter(activity__team=team, status=VolunteerSignup.Status.APPROVED,
                                           hours__isnull=False)
            .values("volunteer_id").annotate(total=Sum("hours")))
    return {r["volunteer_id"]: r["total"] for r in rows}
