"""Funder staff publish the 公示 from its page, the public sees it on the call page, staff publish the award
list after the period (the notification job's progress page), and the clerk sees the decision in 我的申报 and
on the application page (issue 8 items 8 and 3 of this area)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from shenbao.review import notice as svc
from shenbao.review.models import PublicNotice
from tests.test_review_notice import _calendar_knows_this_and_next_year, confirm, scene  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def login(page, user):
    page.context.clear_cookies()
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "Shenbao#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def test_staff_publish_the_notice_and_the_award_list_and_the_clerk_sees_it(page, scene, artifacts):  # noqa: F811
    call, staff, _other, apps, _d = scene
    confirm(call, staff)
    login(page, staff)
    page.goto(page.base + f"/review/calls/{call.code}/notice/")
    page.get_by_role("button", name="发布公示").click()
    page.wait_for_url(re.compile(rf"/review/calls/{call.code}/notice/$"))
    notice = PublicNotice.objects.get()
    assert notice.starts_on == timezone.localdate()
    assert page.locator(".notice-period").first.inner_text() == svc.period_text(notice)
    assert page.locator("#award-refusal").inner_text().startswith("公示期至")
    page.screenshot(path=str(artifacts / "notice-staff.png"), full_page=True)

    page.goto(page.base + f"/calls/{call.code}/")
    assert "公示中" in page.locator("#public-notice").inner_text()
    page.locator("#public-notice a").click()
    page.wait_for_url(re.compile(rf"/review/notices/{notice.pk}/$"))
    assert page.locator(".notice-entries tbody tr").count() == 3

    # the period is over (as if the days had passed)
    PublicNotice.objects.filter(pk=notice.pk).update(starts_on=timezone.localdate() - dt.timedelta(days=9),
                                                     ends_on=timezone.localdate() - dt.timedelta(days=1))
    page.goto(page.base + f"/review/calls/{call.code}/notice/")
    page.get_by_role("button", name="发布立项名单并通知申报单位").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    page.locator(".job-state", has_text="已完成").wait_for(timeout=60000)
    page.screenshot(path=str(artifacts / "notice-award-job.png"), full_page=True)

    login(page, apps[0].applicant.users.first())
    page.goto(page.base + "/apply/")
    row = page.locator(f'tr[data-app="{apps[0].pk}"]')
    assert "已立项" in row.inner_text() and "20000" in row.inner_text()
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/apply/{apps[0].pk}/$"))
    assert "已立项" in page.locator("#decision").inner_text()
    page.screenshot(path=str(artifacts / "notice-clerk.png"), full_page=True)
