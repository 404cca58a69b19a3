"""Funder staff start the draft reminders from the call management page and watch the job's progress bar
update by itself (htmx polling, no inline script) while a real `shenbao worker` runs it."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from shenbao.core.models import Job
from tests import tasks_support
from tests.test_reminders import scene  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def test_reminder_job_progress_bar_follows_the_worker(page, scene, db_queue, tmp_path, artifacts):  # noqa: F811
    call, staff, _clerk = scene
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "Shenbao#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    page.goto(page.base + "/manage/calls/")
    page.locator(f'tr[data-code="{call.code}"]').get_by_role("button", name="提醒未提交的单位").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    job = Job.objects.get()
    assert page.locator(".job-state").inner_text().startswith("排队中")
    assert page.locator("progress").get_attribute("value") == "0"

    worker = subprocess.Popen(tasks_support.worker_command(), env=tasks_support.worker_env(
        tmp_path, SHENBAO_EMAIL_BACKEND="file"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # no reload: the partial polls every second and replaces itself
        page.locator(".job-state", has_text="已完成").wait_for(timeout=90000)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert page.locator("progress").get_attribute("value") == "100"
    assert "已提醒 2 个单位" in page.locator(".job-message").inner_text()
    assert page.locator("[hx-trigger]").count() == 0  # polling stopped
    page.screenshot(path=str(artifacts / "job-progress.png"), full_page=True)
    job.refresh_from_db()
    assert job.state == "done" and len(list((tmp_path / "mail").iterdir())) == 2
