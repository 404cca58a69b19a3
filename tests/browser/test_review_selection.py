"""Selection in the browser (issue 8 items 6–7): funder staff open the ranking from the work bench, make
the proposal (a tie at the cut-off is marked), are refused a move beyond the quota with the reason, move
one out and the tied one in with reasons, and confirm the result (R-V1)."""

from __future__ import annotations

import re

import pytest

from shenbao.orgs.models import Role
from shenbao.review.models import Decision
from tests.journey_support import PASSWORD
from tests.test_review_selection import _app, _score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_propose_adjust_and_confirm(page, load_call, make_user, artifacts):
    call = load_call("liuzhou2026")
    staff = make_user("sel_browser", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    apps = [_app(call, "2026-1", asked=20000) for _ in range(4)]
    for app, s in zip(apps, (90, 85, 85), strict=False):
        _score(app, [s] * 3)

    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    page.get_by_role("link", name="评审排名与立项建议").click()
    page.get_by_role("link", name=call.title).click()
    page.locator("[data-type='2026-1'] a").click()
    page.locator("#propose").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))  # a background job with its progress bar
    page.get_by_role("link", name="查看立项建议").click()
    page.wait_for_url(re.compile(r"/types/2026-1/$"))
    assert page.locator("tr[data-tie='1']").count() == 2
    unscored = page.locator(f"tr[data-app='{apps[3].pk}']")
    assert "评分不足" in unscored.inner_text() and unscored.get_by_role("button", name="调入").count() == 0
    page.screenshot(path=str(artifacts / "selection-proposal.png"), full_page=True)

    out = page.locator("tr[data-tie='1'][data-state='not_selected']")
    out_id = int(out.get_attribute("data-app"))
    out.locator("input[name=reason]").fill("专家组建议")
    out.get_by_role("button", name="调入").click()
    page.wait_for_load_state()
    assert "不能再增加" in page.inner_text("main")
    row = page.locator(f"tr[data-app='{apps[0].pk}']")
    row.locator("input[name=reason]").fill("存在重复申报")
    row.get_by_role("button", name="调出").click()
    page.wait_for_load_state()
    row = page.locator(f"tr[data-app='{out_id}']")
    row.locator("input[name=reason]").fill("专家组建议")
    row.get_by_role("button", name="调入").click()
    page.wait_for_load_state()
    assert Decision.objects.get(application_id=out_id).state == "proposed"
    assert Decision.objects.get(application=apps[0]).state == "not_selected"
    page.screenshot(path=str(artifacts / "selection-adjusted.png"), full_page=True)

    page.get_by_role("link", name=re.compile(call.title[:10])).first.click()
    page.locator("#confirm-funder").click()
    page.wait_for_load_state()
    assert "评审结果已确认，可以公示" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "selection-confirmed.png"), full_page=True)
