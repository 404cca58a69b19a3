"""Funder staff run the automatic expert assignment from the assignment page and watch its progress bar
while a real `shenbao worker` runs the job, then read the result (objective and bound, each application's
experts) and try to add a conflicted expert by hand: refused with the cause (issue 8 item 4)."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from shenbao.core.models import Job
from shenbao.review.models import Assignment, AssignmentRun
from tests import tasks_support
from tests.test_review_assignment import scene  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def test_staff_run_assignment_with_progress_then_a_conflicted_add_is_refused(
        page, scene, db_queue, tmp_path, artifacts):  # noqa: F811
    call, staff, _orgs, apps, experts = scene
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "Shenbao#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    page.goto(page.base + f"/review/assignment/call/{call.code}/")
    page.locator("#run-assignment").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    assert page.locator(".job-state").inner_text().startswith("排队中")

    worker = subprocess.Popen(tasks_support.worker_command(), env=tasks_support.worker_env(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page.locator(".job-state", has_text="已完成").wait_for(timeout=120000)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert page.locator("progress").get_attribute("value") == "100"
    assert "总匹配度" in page.locator(".job-message").inner_text()
    page.screenshot(path=str(artifacts / "assignment-job.png"), full_page=True)
    run = AssignmentRun.objects.get()
    assert Job.objects.get().state == "done" and run.state == "done"

    page.get_by_role("link", name="查看分配结果").click()
    page.wait_for_url(re.compile(r"/review/assignment/call/"))
    assert f"{run.objective:.4f}" in page.locator("#run-objective").inner_text()
    assert page.locator("#assignment-table tbody tr").count() == len(apps)
    page.screenshot(path=str(artifacts / "assignment-result.png"), full_page=True)

    page.locator(f'tr[data-application="{apps[0].pk}"] a').click()
    page.wait_for_url(re.compile(r"/review/assignment/application/\d+/$"))
    assert "专家所在单位与申报单位相同" in page.locator(f'#expert-options tr[data-expert="{experts[0].pk}"]').inner_text()
    page.locator("#add-form select[name=expert]").select_option(str(experts[0].pk))
    page.locator("#add-form button").click()
    page.locator(".msg.error", has_text="须回避").wait_for()
    assert not Assignment.objects.filter(application=apps[0], expert=experts[0]).exists()
