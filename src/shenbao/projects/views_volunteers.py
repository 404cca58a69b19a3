"""Pages of the volunteer service (R-P10), under /projects/volunteers/: the teams a user may read, a team's
registration and page (join link and QR, the volunteers waiting for the leader, the roster with service
hours and its XLSX), publishing an activity (at least a day ahead) and its page (sign-ups to approve, hours
to record); and the public pages a volunteer opens on a phone without logging in: the team's join page and
the volunteer's own page (status, the team's open activities, sign-ups and hours)."""

from __future__ import annotations

import datetime as dt

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shenbao.applications.views import attachment, refused
from shenbao.core import audit, ratelimit
from shenbao.core.decisions import NotAllowed
from shenbao.core.http import client_ip
from shenbao.core.privacy import mask_text
from shenbao.orgs.models import Organisation, User
from shenbao.projects import permissions, volunteers, workflow
from shenbao.projects.models import Project, Volunteer, VolunteerActivity, VolunteerSignup, VolunteerTeam

DEFAULT_JOIN_RATE = (60, 600)


def _team(request, pk: int) -> VolunteerTeam:
    team = get_object_or_404(VolunteerTeam.objects.select_related("organisation__category", "project__call",
                                                                  "project__project_type", "leader"), pk=pk)
    decision = permissions.can_view_team(request.user, team)
    if not decision:
        audit.refused(decision.reason, team)
        raise Http404(_("没有这个队伍"))
    return team


def _activity(request, pk: int) -> VolunteerActivity:
    act = get_object_or_404(VolunteerActivity.objects.select_related("team__organisation", "team__leader",
                                                                     "team__project"), pk=pk)
    decision = permissions.can_view_team(request.user, act.team)
    if not decision:
        audit.refused(decision.reason, act.team)
        raise Http404(_("没有这个活动"))
    return act


def _datetime(value: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def join_url(request, team: VolunteerTeam) -> str:
    return request.build_absolute_uri(reverse("projects:volunteer_join", args=[team.join_token]))


def _unit_orgs(user) -> list[Organisation]:
    ids = user.roles.filter(role__in=permissions.UNIT_ROLES).values_list("organisation_id", flat=True)
    return list(Organisation.objects.filter(pk__in=list(ids)).order_by("name"))


@login_required
def teams(request):
    """志愿服务: the teams the user may read, and the units where it may register one."""
    return render(request, "projects/volunteers/teams.html", {
        "teams": list(volunteers.teams_for(request.user)), "units": _unit_orgs(request.user)})


@login_required
def team_new(request):
    """注册科技志愿者队伍: name, leader (a user of the unit), leader's phone, the project it serves."""
    units = _unit_orgs(request.user)
    if not units:
        return refused(request, _("只有申报单位的经办人或负责人可以登记志愿者服务队伍"))
    org = next((o for o in units if str(o.pk) == (request.POST.get("organisation") or request.GET.get("org"))),
               units[0])
    leaders = list(User.objects.filter(organisation=org, is_active=True).order_by("username"))
    projects = list(Project.objects.filter(applicant=org).order_by("-year", "-id"))
    values = {"leader": str(request.user.pk), "leader_phone": getattr(request.user, "phone", "") or ""}
    error, field, status = "", "", 200
    if request.method == "POST":
        p = request.POST
        values = {k: p.get(k, "") for k in ("name", "leader", "leader_phone", "project", "description")}
        leader = next((u for u in leaders if str(u.pk) == values["leader"]), None)
        project = next((x for x in projects if str(x.pk) == values["project"]), None)
        try:
            team = volunteers.register_team(user=request.user, organisation=org, name=values["name"], leader=leader,
                                            leader_phone=values["leader_phone"], project=project,
                                            description=values["description"])
        except volunteers.Refused as exc:
            error, field, status = exc.message, exc.field, 400
        except NotAllowed as exc:
            return refused(request, exc.reason)
        else:
            messages.success(request, _("队伍已登记，请把报名链接发给志愿者"))
            return redirect("projects:volunteer_team", team.pk)
    return render(request, "projects/volunteers/team_form.html", {
        "org": org, "units": units, "leaders": leaders, "projects": projects, "values": values,
        "error": error, "field": field}, status=status)


@login_required
def team(request, pk: int):
    t = _team(request, pk)
    lead = permissions.can_lead_team(request.user, t)
    members = volunteers.roster(t, request.user)
    pending = volunteers.roster(t, request.user, statuses=(Volunteer.Status.PENDING,))
    minimum = volunteers.roster_minimum(t)
    return render(request, "projects/volunteers/team.html", {
        "team": t, "lead": lead, "members": members, "pending": pending, "minimum": minimum,
        "short": minimum is not None and len(members) < minimum,
        "leader_phone": t.leader_phone if permissions.can_see_volunteer_phones(request.user, t)
        else mask_text(t.leader_phone),
        "join_url": join_url(request, t), "activities": list(t.activities.order_by("-starts_at", "-id")),
        "days_ahead": volunteers.days_ahead(t),
    })


@login_required
def team_qr(request, pk: int):
    t = _team(request, pk)
    buf = segno.make(join_url(request, t), error="m")
    out = HttpResponse(content_type="image/png")
    buf.save(out, kind="png", scale=6, border=2)
    return out


@login_required
def roster_xlsx(request, pk: int):
    t = _team(request, pk)
    audit.record(actor=request.user, action="volunteer_team.roster_export", obj=t, ip=client_ip(request))
    return attachment(volunteers.roster_xlsx(t, request.user), f"{t.name}名册.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
@require_POST
def volunteer_decide(request, pk: int):
    vol = get_object_or_404(Volunteer.objects.select_related("team__leader"), pk=pk)
    _team(request, vol.team_id)
    try:
        volunteers.decide_volunteer(user=request.user, volunteer=vol, action=request.POST.get("action", ""),
                                    note=request.POST.get("note", ""))
    except volunteers.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        audit.refused(exc.reason, vol)
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("已办理：%(name)s") % {"name": vol.name})
    return redirect(reverse("projects:volunteer_team", args=[vol.team_id]) + "#pending")


@login_required
def activity_new(request, pk: int):
    """活动发布 by the leader; a start less than the required days ahead is refused with the reason."""
    t = _team(request, pk)
    decision = permissions.can_lead_team(request.user, t)
    if not decision:
        return refused(request, decision)
    earliest = timezone.localtime(volunteers.earliest_start(t))
    values, error, field, status = {}, "", "", 200
    if request.method == "POST":
        p = request.POST
        values = {k: p.get(k, "") for k in ("title", "place", "starts_at", "ends_at", "positions", "description")}
        try:
            positions = int(values["positions"])
        except ValueError:
            positions = -1
        try:
            act = volunteers.publish_activity(
                user=request.user, team=t, title=values["title"], place=values["place"],
                starts_at=_datetime(values["starts_at"]), ends_at=_datetime(values["ends_at"]), positions=positions,
                description=values["description"])
        except volunteers.Refused as exc:
            error, field, status = exc.message, exc.field, 400
        except NotAllowed as exc:
            return refused(request, exc.reason)
        else:
            messages.success(request, _("活动已发布，本队伍志愿者可以报名"))
            return redirect("projects:volunteer_activity", act.pk)
    return render(request, "projects/volunteers/activity_form.html", {
        "team": t, "values": values, "error": error, "field": field, "earliest": earliest,
        "days_ahead": volunteers.days_ahead(t), "rule": volunteers.days_ahead_message(volunteers.days_ahead(t))},
        status=status)


@login_required
def activity(request, pk: int):
    act = _activity(request, pk)
    lead = permissions.can_lead_team(request.user, act.team)
    full = permissions.can_see_volunteer_phones(request.user, act.team)
    signups = list(act.signups.select_related("volunteer").order_by("created_at", "id"))
    for s in signups:
        s.shown_phone = s.volunteer.phone if full else mask_text(s.volunteer.phone)
    return render(request, "projects/volunteers/activity.html", {
        "activity": act, "team": act.team, "lead": lead, "signups": signups,
        "approved": sum(1 for s in signups if s.status == VolunteerSignup.Status.APPROVED),
        "started": timezone.now() >= act.starts_at,
        "can_cancel": workflow.VOLUNTEER_ACTIVITY.can(request.user, act, "cancel")})


@login_required
@require_POST
def activity_cancel(request, pk: int):
    act = _activity(request, pk)
    try:
        volunteers.cancel_activity(user=request.user, activity=act, note=request.POST.get("note", ""))
    except volunteers.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        audit.refused(exc.reason, act)
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("活动已取消"))
    return redirect("projects:volunteer_activity", act.pk)


@login_required
@require_POST
def signup_decide(request, pk: int):
    s = get_object_or_404(VolunteerSignup.objects.select_related("activity__team__leader", "volunteer"), pk=pk)
    _activity(request, s.activity_id)
    try:
        volunteers.decide_signup(user=request.user, signup=s, action=request.POST.get("action", ""),
                                 note=request.POST.get("note", ""))
    except volunteers.Refused as exc:
        messages.error(request, exc.message)
    except NotAllowed as exc:
        audit.refused(exc.reason, s)
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("已审核：%(name)s") % {"name": s.volunteer.name})
    return redirect(reverse("projects:volunteer_activity", args=[s.activity_id]) + "#signups")


@login_required
@require_POST
def signup_hours(request, pk: int):
    s = get_object_or_404(VolunteerSignup.objects.select_related("activity__team__leader", "volunteer"), pk=pk)
    _activity(request, s.activity_id)
    try:
        volunteers.record_hours(user=request.user, signup=s, hours=request.POST.get("hours", ""))
    except volunteers.Refused as exc:
        messages.error(request, f"{s.volunteer.name}：{exc.message}")
    except NotAllowed as exc:
        audit.refused(exc.reason, s)
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("已记录服务时长：%(name)s") % {"name": s.volunteer.name})
    return redirect(reverse("projects:volunteer_activity", args=[s.activity_id]) + "#signups")


# --- public pages (no login): join a team, the volunteer's own page ---------------------------------------


def _limited(request, scope: str) -> str:
    rate, window = getattr(settings, "SHENBAO_VOLUNTEER_RATE", DEFAULT_JOIN_RATE)
    if not ratelimit.hit(scope, client_ip(request), limit=rate, window=window):
        return _("操作过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": max(1, window // 60)}
    return ""


def join(request, token: str):
    """注册科技志愿者并加入队伍: name, phone, workplace, speciality; then the volunteer's own page."""
    t = get_object_or_404(VolunteerTeam.objects.select_related("organisation"), join_token=token)
    mine = request.session.get(f"volunteer_{t.pk}")
    if mine and request.method == "GET" and Volunteer.objects.filter(token=mine, team=t).exists():
        return redirect("projects:volunteer_me", mine)
    values, error, status = {}, "", 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "phone", "workplace", "speciality")}
        error = _limited(request, "volunteer_join")
        if error:
            status = 429
        else:
            try:
                vol = volunteers.join_team(team=t, ip=client_ip(request), **values)
            except volunteers.Refused as exc:
                error, status = exc.message, 400
            else:
                request.session[f"volunteer_{t.pk}"] = vol.token
                return redirect("projects:volunteer_me", vol.token)
    return render(request, "projects/volunteers/join.html", {"team": t, "values": values, "error": error},
                  status=status)


def me(request, token: str):
    """The volunteer's own page (its link is its key): status in the team, the team's open activities to sign
    up for, its sign-ups and service hours."""
    vol = get_object_or_404(Volunteer.objects.select_related("team__organisation"), token=token)
    error, status = "", 200
    if request.method == "POST":
        error = _limited(request, "volunteer_signup")
        act = VolunteerActivity.objects.filter(pk=request.POST.get("activity") or 0, team=vol.team).first()
        if not error and act is None:
            error = _("没有这个活动")
        if error:
            status = 400
        else:
            try:
                volunteers.sign_up(volunteer=vol, activity=act, ip=client_ip(request))
            except volunteers.Refused as exc:
                error, status = exc.message, 400
            else:
                messages.success(request, _("已报名，等待活动负责人审核"))
                return redirect("projects:volunteer_me", token)
    signups = list(vol.signups.select_related("activity").order_by("-activity__starts_at"))
    signed = {s.activity_id for s in signups}
    total = sum((s.hours or 0) for s in signups if s.status == VolunteerSignup.Status.APPROVED)
    return render(request, "projects/volunteers/me.html", {
        "volunteer": vol, "phone": mask_text(vol.phone), "open": list(volunteers.open_activities(vol)),
        "signed": signed, "signups": signups, "total": total, "error": error}, status=status)
