"""Issue 9, items 9 and 10 in Chromium: a 常德 2022 2-6 unit registers its volunteer team from the work bench;
a volunteer registers from the join link on a phone-sized page (390×844) and the leader admits them; the
leader's activity starting in a few hours is refused (须至少提前一天发布, R-P10), one two days ahead is
published; the volunteer signs up on its page and the leader approves; the funder opens 统计报表 and sees the
call's figures with SVG charts. Screenshots tests/artifacts/volunteers-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shenbao.projects.models import Volunteer, VolunteerSignup
from shenbao.projects.services import record_project
from tests.journey_support import unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]

PASSWORD = "Shenbao#2026"
PHONE = {"width": 390, "height": 844}


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def _local(delta: dt.timedelta) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


def test_team_join_publish_sign_up_and_the_funders_report(page, phone, load_call, make_org, make_user, artifacts):
    call = load_call("changde2022")
    org, clerk, _head = unit(make_org, make_user, name="常德市计算机学会", category="city_society", parent=None,
                             prefix="cd")
    staff = make_user("cd_staff", org=call.issuer, roles=("funder_staff",))
    project = record_project(applicant=org, title="计算机科普志愿服务", year=call.year, call=call,
                             project_type=call.types.get(code="2-6"), amount=15000, awarded_on=dt.date.today())

    # the clerk registers the team, leading it
    _login(page, clerk.username)
    page.get_by_role("link", name="志愿服务").click()
    page.click("#team-new")
    page.fill("#f-name", "常德市计算机学会科技志愿服务队")
    page.fill("#f-phone", "13600006666")
    page.select_option("#f-project", str(project.pk))
    page.click("#team-save")
    page.wait_for_url(re.compile(r"/projects/volunteers/teams/\d+/$"))
    expect(page.locator("#roster-minimum")).to_contain_text("不少于 10 人")
    join_url = page.locator("#join-url").input_value()

    # a volunteer registers on a phone
    phone.goto(join_url)
    phone.fill("#j-name", "周志愿")
    phone.fill("#j-phone", "13812345678")
    phone.fill("#j-work", "常德职业技术学院")
    phone.click("#join-submit")
    phone.wait_for_url(re.compile(r"/projects/volunteers/me/"))
    expect(phone.locator("#volunteer-status")).to_contain_text("等待队伍负责人审核")
    phone.screenshot(path=str(artifacts / "volunteers-joined-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # the leader admits them
    page.reload()
    page.locator("#pending").get_by_role("button", name="同意加入").click()
    expect(page.locator("#roster")).to_contain_text("周志愿")
    expect(page.locator("#roster")).to_contain_text("13812345678")  # the leader reads the phone

    # R-P10: an activity starting in three hours is refused, one two days ahead published
    page.click("#activity-new")
    page.fill("#f-title", "社区科普进万家")
    page.fill("#f-place", "武陵区城东社区")
    page.fill("#f-starts", _local(dt.timedelta(hours=3)))
    page.fill("#f-ends", _local(dt.timedelta(hours=5)))
    page.fill("#f-positions", "5")
    page.click("#activity-save")
    expect(page.locator("#form-error")).to_contain_text("须至少提前一天发布")
    page.fill("#f-starts", _local(dt.timedelta(days=2)))
    page.fill("#f-ends", _local(dt.timedelta(days=2, hours=3)))
    page.click("#activity-save")
    page.wait_for_url(re.compile(r"/projects/volunteers/activities/\d+/$"))

    # the volunteer signs up on its page, the leader approves
    phone.reload()
    phone.get_by_role("button", name="立即报名").click()
    expect(phone.locator(".vol-activity")).to_contain_text("已报名")
    page.reload()
    page.locator("#signups").get_by_role("button", name="审核通过").click()
    expect(page.locator("#signups")).to_contain_text("已通过")
    vol = Volunteer.objects.get(phone="13812345678")
    assert vol.status == "approved" and VolunteerSignup.objects.get(volunteer=vol).status == "approved"

    # the funder's reports
    page.context.clear_cookies()
    _login(page, staff.username)
    page.get_by_role("link", name="统计报表").click()
    page.get_by_role("link", name=call.title).click()
    expect(page.locator('.figure[data-key="volunteer_teams"] .value')).to_contain_text("1")
    expect(page.locator('.figure[data-key="awarded"] .value')).to_contain_text("15,000")
    assert page.locator("#charts svg").count() >= 4
    assert page.locator("#charts svg rect.bar").count() >= 1
    page.screenshot(path=str(artifacts / "volunteers-report.png"), full_page=True)
