"""Issue 9, item 9: volunteer service (R-P10; 常德 2022 type 2-6 and its 附件4) — a unit's team with its leader,
volunteers who register on the public join page and are admitted by the leader, activities published at
least one day ahead, sign-ups the leader approves within the positions, service hours per volunteer; phones
masked for those who do not need them; the same through the API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shenbao.core.audit import history
from shenbao.core.decisions import NotAllowed
from shenbao.projects import volunteers
from shenbao.projects.models import Volunteer, VolunteerActivity, VolunteerSignup
from shenbao.projects.services import record_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

PHONES = ["13800001111", "13900002222", "13700003333"]


@pytest.fixture
def setup(load_call, make_org, make_user):
    """常德 2022, type 2-6 (科普宣传与志愿服务): a city society with its project; its clerk leads the team, its head
    and another clerk do not; the funder's staff."""
    call = load_call("changde2022")
    org = make_org("常德市测试学会", "city_society")
    leader = make_user("vleader", org=org, roles=("applicant_clerk",), display_name="李队长")
    head = make_user("vhead", org=org, roles=("unit_head",))
    clerk2 = make_user("vclerk2", org=org, roles=("applicant_clerk",))
    staff = make_user("cdstaff", org=call.issuer, roles=("funder_staff",))
    ptype = call.types.get(code="2-6")
    project = record_project(applicant=org, title="科普志愿服务项目", year=call.year, call=call, project_type=ptype,
                             amount=15000, awarded_on=dt.date.today())
    team = volunteers.register_team(user=head, organisation=org, name="常德市测试学会科技志愿服务队", leader=leader,
                                    leader_phone="13600006666", project=project)
    return {"call": call, "org": org, "leader": leader, "head": head, "clerk2": clerk2, "staff": staff,
            "project": project, "team": team}


def _join(team, name, phone):
    return volunteers.join_team(team=team, name=name, phone=phone, workplace="常德市第一中学")


def _admitted(s, n=2):
    out = []
    for i in range(n):
        v = _join(s["team"], f"志愿者{i + 1}", PHONES[i])
        out.append(volunteers.decide_volunteer(user=s["leader"], volunteer=v, action="approve"))
    return out


def _publish(s, *, hours_ahead=48, positions=5, title="社区科普志愿服务"):
    start = timezone.now() + dt.timedelta(hours=hours_ahead)
    return volunteers.publish_activity(user=s["leader"], team=s["team"], title=title, place="武陵区社区服务中心",
                                       starts_at=start, ends_at=start + dt.timedelta(hours=3), positions=positions)


def test_team_reads_the_calls_rules(setup, make_org, make_user):
    """The roster minimum and the days ahead come from the call's tasks that bind the unit's category."""
    s = setup
    assert volunteers.roster_minimum(s["team"]) == 10  # 市级学会组建一支10人以上…队伍
    assert volunteers.days_ahead(s["team"]) == 1  # minimums: {publish_days_ahead: 1}
    uni = make_org("常德测试学院科协", "university_association")
    boss = make_user("unihead", org=uni, roles=("unit_head",))
    p2 = record_project(applicant=uni, title="高校志愿服务", year=s["call"].year, call=s["call"],
                        project_type=s["call"].types.get(code="2-6"))
    t2 = volunteers.register_team(user=boss, organisation=uni, name="高校队", leader=boss, leader_phone="13500005555",
                                  project=p2)
    assert volunteers.roster_minimum(t2) == 50  # 高校科协组建一支50人以上
    # registering again is harmless; another unit's clerk cannot register for this unit; the leader is of the unit
    again = volunteers.register_team(user=s["head"], organisation=s["org"], name=s["team"].name,
                                     leader=s["leader"], leader_phone="13600006666", project=s["project"])
    assert again.pk == s["team"].pk
    with pytest.raises(NotAllowed):
        volunteers.register_team(user=boss, organisation=s["org"], name="别队", leader=boss, leader_phone="13500005555")
    with pytest.raises(volunteers.Refused) as exc:
        volunteers.register_team(user=s["head"], organisation=s["org"], name="别队", leader=boss,
                                 leader_phone="13500005555")
    assert "本单位的用户" in exc.value.message
    with pytest.raises(volunteers.Refused) as exc:
        volunteers.register_team(user=s["head"], organisation=s["org"], name="别队", leader=s["leader"],
                                 leader_phone="12345")
    assert exc.value.field == "phone"


def test_published_less_than_a_day_ahead_is_refused(setup, client):
    """# R-P10 (附件4: 活动开始前（至少提前1天）发布): a start within 24 hours is refused with the reason, nothing
    is published; a start a day and a bit ahead is accepted; only the leader publishes."""
    s = setup
    with pytest.raises(volunteers.Refused) as exc:
        _publish(s, hours_ahead=23)
    assert "须至少提前一天发布" in exc.value.message and exc.value.field == "starts_at"
    assert not VolunteerActivity.objects.exists()
    with pytest.raises(NotAllowed):
        volunteers.publish_activity(user=s["head"], team=s["team"], title="x", place="y",
                                    starts_at=timezone.now() + dt.timedelta(days=3),
                                    ends_at=timezone.now() + dt.timedelta(days=3, hours=1), positions=3)
    start = timezone.now() + dt.timedelta(hours=25)
    kw = {"user": s["leader"], "team": s["team"], "title": "科普讲解", "place": "常德市科技馆", "starts_at": start,
          "ends_at": start + dt.timedelta(hours=2), "positions": 3}
    act = volunteers.publish_activity(**kw)
    assert act.status == "published"
    assert volunteers.publish_activity(**kw).pk == act.pk  # the same form twice: one activity
    assert [e.action for e in history(act)] == ["volunteer_activity.publish"]

    # the page: the same refusal, shown, nothing added
    client.force_login(s["leader"])
    url = reverse("projects:volunteer_activity_new", args=[s["team"].pk])
    soon = timezone.localtime() + dt.timedelta(hours=5)
    r = client.post(url, {"title": "明天的活动", "place": "武陵区", "positions": "4",
                          "starts_at": soon.strftime("%Y-%m-%dT%H:%M"),
                          "ends_at": (soon + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 400 and "须至少提前一天发布" in r.content.decode()
    assert not VolunteerActivity.objects.filter(title="明天的活动").exists()
    later = timezone.localtime() + dt.timedelta(days=2)
    r = client.post(url, {"title": "后天的活动", "place": "武陵区", "positions": "4",
                          "starts_at": later.strftime("%Y-%m-%dT%H:%M"),
                          "ends_at": (later + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    assert VolunteerActivity.objects.filter(title="后天的活动").exists()

    # the API: 400 with the reason
    r = client.post(f"/api/v1/projects/volunteers/teams/{s['team'].pk}/activities", content_type="application/json",
                    data={"title": "API活动", "place": "鼎城区", "positions": 2,
                          "starts_at": (timezone.now() + dt.timedelta(hours=2)).isoformat(),
                          "ends_at": (timezone.now() + dt.timedelta(hours=4)).isoformat()})
    assert r.status_code == 400 and "须至少提前一天发布" in r.json()["detail"]


def test_leader_approves_who_joins(setup, client):
    """# R-P10: volunteers register on the team's public page and join once the leader approves; a sign-up
    before that is refused; the unit's head (not the leader) cannot approve."""
    s = setup
    r = client.post(reverse("projects:volunteer_join", args=[s["team"].join_token]),
                    {"name": "王志愿", "phone": PHONES[0], "workplace": "常德市第一中学", "speciality": "物理"})
    assert r.status_code == 302
    vol = Volunteer.objects.get(team=s["team"], phone=PHONES[0])
    assert vol.status == "pending" and r["Location"] == reverse("projects:volunteer_me", args=[vol.token])
    # the same phone again: refused with a reason, no second row, no token given away
    other = client.__class__()
    r = other.post(reverse("projects:volunteer_join", args=[s["team"].join_token]), {"name": "冒名", "phone": PHONES[0]})
    assert r.status_code == 400 and "已在本队伍登记" in r.content.decode() and vol.token not in r.content.decode()
    assert Volunteer.objects.filter(team=s["team"]).count() == 1
    r = other.post(reverse("projects:volunteer_join", args=[s["team"].join_token]), {"name": "号码错", "phone": "123"})
    assert r.status_code == 400 and "11位手机号码" in r.content.decode()

    act = _publish(s)
    with pytest.raises(volunteers.Refused) as exc:
        volunteers.sign_up(volunteer=vol, activity=act)
    assert "同意您加入队伍后" in exc.value.message

    with pytest.raises(NotAllowed) as denied:
        volunteers.decide_volunteer(user=s["head"], volunteer=vol, action="approve")
    assert "只有队伍负责人" in denied.value.reason
    client.force_login(s["clerk2"])
    client.post(reverse("projects:volunteer_decide", args=[vol.pk]), {"action": "approve"})
    vol.refresh_from_db()
    assert vol.status == "pending"

    with pytest.raises(volunteers.Refused):
        volunteers.decide_volunteer(user=s["leader"], volunteer=vol, action="reject")  # a reason is required
    client.force_login(s["leader"])
    r = client.post(reverse("projects:volunteer_decide", args=[vol.pk]), {"action": "approve"})
    vol.refresh_from_db()
    assert vol.status == "approved" and vol.decided_by == s["leader"]
    assert "volunteer.approve" in [e.action for e in history(vol)]
    client.post(reverse("projects:volunteer_decide", args=[vol.pk]), {"action": "approve"})  # twice: harmless
    vol.refresh_from_db()
    assert vol.status == "approved"


def test_sign_up_approval_and_hours(setup, client):
    """# R-P10: an admitted volunteer signs up on its own page; the leader approves within the positions; the
    service hours are recorded after the start, no more than the activity lasted, and add up per volunteer."""
    s = setup
    v1, v2 = _admitted(s, 2)
    act = _publish(s, positions=1)

    r = client.post(reverse("projects:volunteer_me", args=[v1.token]), {"activity": act.pk})
    assert r.status_code == 302
    r = client.post(reverse("projects:volunteer_me", args=[v1.token]), {"activity": act.pk})  # double submit
    assert VolunteerSignup.objects.filter(activity=act, volunteer=v1).count() == 1
    su1 = VolunteerSignup.objects.get(activity=act, volunteer=v1)
    su2 = volunteers.sign_up(volunteer=v2, activity=act)
    assert su1.status == su2.status == "pending"

    with pytest.raises(NotAllowed):
        volunteers.decide_signup(user=s["head"], signup=su1, action="approve")
    su1 = volunteers.decide_signup(user=s["leader"], signup=su1, action="approve")
    assert su1.status == "approved"
    with pytest.raises(volunteers.Refused) as exc:  # one position
        volunteers.decide_signup(user=s["leader"], signup=su2, action="approve")
    assert "招募人数已满" in exc.value.message
    volunteers.decide_signup(user=s["leader"], signup=su2, action="reject", note="名额已满")

    with pytest.raises(volunteers.Refused) as exc:
        volunteers.record_hours(user=s["leader"], signup=su1, hours="2")
    assert "活动开始后" in exc.value.message
    # the activity took place
    start = timezone.now() - dt.timedelta(hours=4)
    VolunteerActivity.objects.filter(pk=act.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    with pytest.raises(volunteers.Refused) as exc:
        volunteers.record_hours(user=s["leader"], signup=su1, hours="3.5")
    assert "不能超过活动时长" in exc.value.message
    with pytest.raises(volunteers.Refused):
        volunteers.record_hours(user=s["leader"], signup=su1, hours="abc")
    with pytest.raises(volunteers.Refused):  # a refused sign-up earns no hours
        volunteers.record_hours(user=s["leader"], signup=su2, hours="1")
    client.force_login(s["leader"])
    r = client.post(reverse("projects:volunteer_signup_hours", args=[su1.pk]), {"hours": "2.5"})
    su1.refresh_from_db()
    assert su1.hours == Decimal("2.5")

    # a second activity adds to the total of v1
    act2 = _publish(s, title="科普进校园", positions=3)
    su3 = volunteers.sign_up(volunteer=v1, activity=act2)
    volunteers.decide_signup(user=s["leader"], signup=su3, action="approve")
    VolunteerActivity.objects.filter(pk=act2.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    volunteers.record_hours(user=s["leader"], signup=su3, hours="1.5")
    totals = volunteers.hours_by_volunteer(s["team"])
    assert totals == {v1.pk: Decimal("4.0")}
    roster = {m.volunteer.pk: m for m in volunteers.roster(s["team"], s["leader"])}
    assert roster[v1.pk].hours == Decimal("4.0") and roster[v1.pk].activities == 2
    assert roster[v2.pk].hours == 0
    r = client.get(reverse("projects:volunteer_me", args=[v1.token]))
    assert "累计服务时长 4.0 小时" in r.content.decode()


def test_phones_masked_for_those_who_do_not_need_them(setup, client):
    """The leader calls volunteers back and reads their phones; the unit's head and the funder read them masked,
    on the page, in the roster XLSX and the API; another unit sees nothing."""
    s = setup
    _admitted(s, 2)
    team_url = reverse("projects:volunteer_team", args=[s["team"].pk])
    client.force_login(s["leader"])
    assert PHONES[0] in client.get(team_url).content.decode()
    for who in ("head", "staff"):
        client.force_login(s[who])
        page = client.get(team_url).content.decode()
        assert PHONES[0] not in page and "138****1111" in page, who
        wb = load_workbook(io.BytesIO(client.get(reverse("projects:volunteer_roster_xlsx",
                                                         args=[s["team"].pk])).content))
        cells = [str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]
        assert "138****1111" in cells and PHONES[0] not in cells
        members = client.get(f"/api/v1/projects/volunteers/teams/{s['team'].pk}/members").json()
        assert {m["phone"] for m in members} == {"138****1111", "139****2222"}
    client.force_login(s["leader"])
    members = client.get(f"/api/v1/projects/volunteers/teams/{s['team'].pk}/members").json()
    assert {m["phone"] for m in members} == set(PHONES[:2])
    wb = load_workbook(io.BytesIO(client.get(reverse("projects:volunteer_roster_xlsx", args=[s["team"].pk])).content))
    assert PHONES[0] in [str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]


def test_api_leader_decisions_and_strangers(setup, client, make_org, make_user):
    s = setup
    vol = _join(s["team"], "赵志愿", PHONES[2])
    client.force_login(s["head"])
    r = client.post(f"/api/v1/projects/volunteers/members/{vol.pk}/decide", content_type="application/json",
                    data={"action": "approve"})
    assert r.status_code == 403 and "只有队伍负责人" in r.json()["detail"]
    client.force_login(s["leader"])
    r = client.post(f"/api/v1/projects/volunteers/members/{vol.pk}/decide", content_type="application/json",
                    data={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    act = _publish(s)
    su = volunteers.sign_up(volunteer=Volunteer.objects.get(pk=vol.pk), activity=act)
    r = client.post(f"/api/v1/projects/volunteers/signups/{su.pk}/decide", content_type="application/json",
                    data={"action": "reject"})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = client.post(f"/api/v1/projects/volunteers/signups/{su.pk}/decide", content_type="application/json",
                    data={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    team = client.get(f"/api/v1/projects/volunteers/teams/{s['team'].pk}").json()
    assert team["members"] == 1 and team["minimum"] == 10 and team["days_ahead"] == 1

    stranger_org = make_org("别的学会", "city_society")
    stranger = make_user("stranger", org=stranger_org, roles=("applicant_clerk",))
    client.force_login(stranger)
    assert client.get(reverse("projects:volunteer_team", args=[s["team"].pk])).status_code == 404
    assert client.get(f"/api/v1/projects/volunteers/teams/{s['team'].pk}").status_code == 403
    assert client.get("/api/v1/projects/volunteers/teams").json() == []


def test_pages_from_the_work_bench(setup, client, make_org, make_user):
    """The unit's work bench links to 志愿服务; a team registered from the page; its pages render for the
    leader with the join link, the pending volunteers and the activity's sign-ups; the funder reads them."""
    s = setup
    client.force_login(s["head"])
    home = client.get(reverse("orgs:home")).content.decode()
    assert reverse("projects:volunteers") in home
    r = client.get(reverse("projects:volunteer_team_new"))
    assert r.status_code == 200 and s["leader"].username in r.content.decode()
    r = client.post(reverse("projects:volunteer_team_new"), {
        "organisation": s["org"].pk, "name": "第二支队伍", "leader": s["leader"].pk, "leader_phone": "1360000",
        "project": s["project"].pk})
    assert r.status_code == 400 and "11位手机号码" in r.content.decode()
    r = client.post(reverse("projects:volunteer_team_new"), {
        "organisation": s["org"].pk, "name": "第二支队伍", "leader": s["leader"].pk, "leader_phone": "13600006666",
        "project": s["project"].pk})
    assert r.status_code == 302
    team2 = s["org"].volunteer_teams.get(name="第二支队伍")
    assert team2.leader == s["leader"] and team2.project == s["project"]
    listing = client.get(reverse("projects:volunteers")).content.decode()
    assert "第二支队伍" in listing and s["team"].name in listing
    # the head is not the leader: no publishing
    assert client.get(reverse("projects:volunteer_activity_new", args=[s["team"].pk])).status_code == 403

    _join(s["team"], "待审核者", PHONES[2])
    v1, = _admitted(s, 1)
    act = _publish(s)
    volunteers.sign_up(volunteer=v1, activity=act)
    client.force_login(s["leader"])
    page = client.get(reverse("projects:volunteer_team", args=[s["team"].pk])).content.decode()
    assert s["team"].join_token in page and "待审核者" in page and "项目任务要求不少于 10 人" in page
    assert client.get(reverse("projects:volunteer_team_qr", args=[s["team"].pk]))["Content-Type"] == "image/png"
    page = client.get(reverse("projects:volunteer_activity", args=[act.pk])).content.decode()
    assert v1.name in page and PHONES[0] in page and "审核通过" in page
    client.force_login(s["staff"])
    page = client.get(reverse("projects:volunteer_activity", args=[act.pk])).content.decode()
    assert v1.name in page and PHONES[0] not in page and "审核通过" not in page
    # the volunteer's own page lists the open activity as signed up
    page = client.get(reverse("projects:volunteer_me", args=[v1.token])).content.decode()
    assert act.title in page and "已报名" in page and "138****1111" in page
