"""Volunteer service API (/api/v1/projects/volunteers/…, R-P10): teams, their rosters (phones masked unless the
reader is the leader), the leader's decisions on volunteers and sign-ups, publishing activities (a start
less than a day ahead is 400 with the reason) and service hours. The same permission functions and services
as the pages: a refusal is 403 with the reason in Chinese, bad input 400 with the reason (and the field).
Volunteers themselves join and sign up on their public pages (no account)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Schema
from ninja.responses import Status

from shenbao.core.decisions import require
from shenbao.orgs.models import Organisation, User
from shenbao.projects import permissions, volunteers
from shenbao.projects.api import router
from shenbao.projects.api_activities import FieldErrorOut
from shenbao.projects.models import Project, Volunteer, VolunteerActivity, VolunteerSignup, VolunteerTeam


class TeamIn(Schema):
    organisation: int
    name: str
    leader: int
    leader_phone: str
    project: int | None = None
    description: str = ""


class TeamOut(Schema):
    id: int
    name: str
    organisation: str
    project: int | None
    leader: str
    status: str
    members: int
    pending: int
    minimum: int | None
    days_ahead: int


class MemberOut(Schema):
    id: int
    name: str
    phone: str
    workplace: str
    status: str
    hours: Decimal
    activities: int


class DecideIn(Schema):
    action: str
    note: str = ""


class ActivityIn(Schema):
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    positions: int
    description: str = ""


class ActivityOut(Schema):
    id: int
    team: int
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    positions: int
    status: str
    approved: int


class SignupOut(Schema):
    id: int
    volunteer: int
    name: str
    phone: str
    status: str
    hours: Decimal | None


class HoursIn(Schema):
    hours: str


def _team(request, pk: int) -> VolunteerTeam:
    team = get_object_or_404(VolunteerTeam.objects.select_related("organisation__category", "project", "leader"),
                             pk=pk)
    require(permissions.can_view_team(request.user, team))
    return team


def _team_out(team: VolunteerTeam) -> dict:
    return {"id": team.pk, "name": team.name, "organisation": team.organisation.name, "project": team.project_id,
            "leader": str(team.leader), "status": team.status,
            "members": team.volunteers.filter(status=Volunteer.Status.APPROVED).count(),
            "pending": team.volunteers.filter(status=Volunteer.Status.PENDING).count(),
            "minimum": volunteers.roster_minimum(team), "days_ahead": volunteers.days_ahead(team)}


def _activity_out(a: VolunteerActivity) -> dict:
    return {"id": a.pk, "team": a.team_id, "title": a.title, "place": a.place, "starts_at": a.starts_at,
            "ends_at": a.ends_at, "positions": a.positions, "status": a.status,
            "approved": volunteers.approved_count(a)}


@router.get("/volunteers/teams", response=list[TeamOut], summary="可查看的志愿者服务队伍")
def list_teams(request):
    return [_team_out(t) for t in volunteers.teams_for(request.user)]


@router.post("/volunteers/teams", response={201: TeamOut, 400: FieldErrorOut}, summary="注册志愿者服务队伍")
def create_team(request, payload: TeamIn):
    org = get_object_or_404(Organisation, pk=payload.organisation)
    leader = User.objects.filter(pk=payload.leader).first()
    project = Project.objects.filter(pk=payload.project).first() if payload.project else None
    try:
        team = volunteers.register_team(user=request.user, organisation=org, name=payload.name, leader=leader,
                                        leader_phone=payload.leader_phone, project=project,
                                        description=payload.description)
    except volunteers.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(201, _team_out(team))


@router.get("/volunteers/teams/{int:pk}", response=TeamOut, summary="队伍情况")
def get_team(request, pk: int):
    return _team_out(_team(request, pk))


@router.get("/volunteers/teams/{int:pk}/members", response=list[MemberOut],
            summary="队伍名册（含待审核；手机号码仅队伍负责人可见全号）")
def team_members(request, pk: int):
    team = _team(request, pk)
    members = volunteers.roster(team, request.user, statuses=(Volunteer.Status.PENDING, Volunteer.Status.APPROVED))
    return [{"id": m.volunteer.pk, "name": m.volunteer.name, "phone": m.phone, "workplace": m.volunteer.workplace,
             "status": m.volunteer.status, "hours": m.hours, "activities": m.activities} for m in members]


@router.post("/volunteers/members/{int:pk}/decide", response={200: MemberOut, 400: FieldErrorOut},
             summary="审核志愿者加入（approve / reject / remove）")
def decide_member(request, pk: int, payload: DecideIn):
    vol = get_object_or_404(Volunteer.objects.select_related("team__leader"), pk=pk)
    _team(request, vol.team_id)
    try:
        vol = volunteers.decide_volunteer(user=request.user, volunteer=vol, action=payload.action, note=payload.note)
    except volunteers.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    member = next(m for m in volunteers.roster(vol.team, request.user, statuses=(vol.status,))
                   if m.volunteer.pk == vol.pk)
    return {"id": vol.pk, "name": vol.name, "phone": member.phone, "workplace": vol.workplace, "status": vol.status,
            "hours": member.hours, "activities": member.activities}


@router.get("/volunteers/teams/{int:pk}/activities", response=list[ActivityOut], summary="队伍的志愿服务活动")
def team_activities(request, pk: int):
    team = _team(request, pk)
    return [_activity_out(a) for a in team.activities.order_by("starts_at", "id")]


@router.post("/volunteers/teams/{int:pk}/activities", response={201: ActivityOut, 400: FieldErrorOut},
             summary="发布志愿服务活动（须至少提前一天发布）")
def publish(request, pk: int, payload: ActivityIn):
    team = _team(request, pk)
    try:
        act = volunteers.publish_activity(user=request.user, team=team, title=payload.title, place=payload.place,
                                          starts_at=payload.starts_at, ends_at=payload.ends_at,
                                          positions=payload.positions, description=payload.description)
    except volunteers.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return Status(201, _activity_out(act))


def _signup_out(s: VolunteerSignup, full: bool) -> dict:
    from shenbao.core.privacy import mask_text

    return {"id": s.pk, "volunteer": s.volunteer_id, "name": s.volunteer.name,
            "phone": s.volunteer.phone if full else mask_text(s.volunteer.phone), "status": s.status, "hours": s.hours}


@router.get("/volunteers/activities/{int:pk}/signups", response=list[SignupOut], summary="活动报名")
def activity_signups(request, pk: int):
    act = get_object_or_404(VolunteerActivity.objects.select_related("team"), pk=pk)
    team = _team(request, act.team_id)
    full = bool(permissions.can_see_volunteer_phones(request.user, team))
    return [_signup_out(s, full) for s in act.signups.select_related("volunteer").order_by("created_at", "id")]


def _signup(request, pk: int) -> VolunteerSignup:
    s = get_object_or_404(VolunteerSignup.objects.select_related("activity__team__leader", "volunteer"), pk=pk)
    _team(request, s.activity.team_id)
    return s


@router.post("/volunteers/signups/{int:pk}/decide", response={200: SignupOut, 400: FieldErrorOut},
             summary="审核活动报名（approve / reject）")
def decide_signup(request, pk: int, payload: DecideIn):
    s = _signup(request, pk)
    try:
        s = volunteers.decide_signup(user=request.user, signup=s, action=payload.action, note=payload.note)
    except volunteers.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    s = VolunteerSignup.objects.select_related("volunteer", "activity__team").get(pk=s.pk)
    return _signup_out(s, bool(permissions.can_see_volunteer_phones(request.user, s.activity.team)))


@router.post("/volunteers/signups/{int:pk}/hours", response={200: SignupOut, 400: FieldErrorOut},
             summary="记录服务时长（小时）")
def signup_hours(request, pk: int, payload: HoursIn):
    s = _signup(request, pk)
    try:
        s = volunteers.record_hours(user=request.user, signup=s, hours=payload.hours)
    except volunteers.Refused as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return _signup_out(s, bool(permissions.can_see_volunteer_phones(request.user, s.activity.team)))
