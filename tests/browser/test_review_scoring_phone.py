"""Issue 8 item 5 on a phone (390×844): an expert logs in, accepts the pledge, declares a conflict, opens an
assigned application from 评审任务, reads it, is refused a too-short comment (what was typed kept), submits the score; the page fits the
width (no sideways scrolling, inputs and buttons within reach). Screenshot tests/artifacts/scoring-phone.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shenbao.orgs.models import Role, RoleAssignment
from shenbao.review.models import Assignment, Expert, ScoreSheet
from tests.test_review_scoring import COMMENT_30, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing", "media")]

PASSWORD = "Shenbao#2026"
PHONE = {"width": 390, "height": 844}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"


def test_expert_scores_on_a_phone(phone, load_call, make_org, make_user, artifacts):
    call = load_call("liuzhou2026")
    app = submitted(call, make_org("柳州市手机评分学会", "city_society", parent=call.issuer))
    user = make_user("ph_expert", password=PASSWORD, display_name="周评审")
    RoleAssignment.objects.create(user=user, role=Role.EXPERT, organisation=call.issuer)
    make_org("柳州市回避学会", "city_society", parent=call.issuer)
    expert = Expert.objects.create(funder=call.issuer, user=user, name="周评审", organisation_name="广西科技大学")
    a = Assignment.objects.create(application=app, expert=expert)

    page = phone
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", "ph_expert")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("link", name="评审任务", exact=True).click()
    # the experts' gate first: the pledge, then the conflicts declaration
    page.wait_for_url(re.compile(r"/review/mine/pledge/$"))
    page.check("input[name=agree]")
    page.locator("#pledge-accept").click()
    page.wait_for_url(re.compile(r"/review/mine/declare/$"))
    page.fill("#declare-unit", "柳州市回避学会")
    page.fill("#declare-reason", "本人担任该学会理事")
    page.locator("#declare-add").click()
    expect(page.locator("body")).to_contain_text("柳州市回避学会")
    page.locator("#declare-done").click()
    page.wait_for_url(re.compile(r"/review/mine/$"))
    expert.refresh_from_db()
    assert expert.pledge_accepted_at and expert.conflicts_declared_at
    assert expert.conflict_overrides.filter(kind="declared", organisation__name="柳州市回避学会").exists()
    card = page.locator(f'[data-assignment="{a.pk}"]')
    expect(card).to_contain_text("未开始")
    _fits(page)
    card.get_by_role("link", name="阅读申报书").click()
    expect(page.locator("#expert-form")).to_contain_text("组织专家深入企业")
    page.locator("#to-score").click()
    page.wait_for_url(re.compile(rf"/review/scoring/{a.pk}/$"))

    score = page.locator("#c-overall")
    box = score.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 40
    score.fill("86.5")
    expect(page.locator("#score-total")).to_have_text("86.50")
    page.fill("#comment", "方案可行，建议立项。")
    expect(page.locator("#hanzi-count")).to_contain_text("已写 8 个汉字，至少 30 个")
    page.locator("#submit-btn").click()
    expect(page.locator("#e-comment")).to_contain_text("评审意见须不少于 30 个汉字，目前只有 8 个汉字")
    expect(page.locator("#c-overall")).to_have_value("86.5")  # what was typed is kept
    assert ScoreSheet.objects.filter(assignment=a, state="submitted").count() == 0
    _fits(page)

    page.fill("#comment", COMMENT_30)
    submit = page.locator("#submit-btn").bounding_box()
    assert submit["x"] + submit["width"] <= PHONE["width"] and submit["height"] >= 40
    page.locator("#submit-btn").click()
    expect(page.locator("#sheet-state")).to_have_text("已提交")
    expect(page.locator(".messages")).to_contain_text("评分已提交：总分 86.5")
    _fits(page)
    page.screenshot(path=str(artifacts / "scoring-phone.png"), full_page=True)
    sheet = ScoreSheet.objects.get(assignment=a)
    assert sheet.state == "submitted" and str(sheet.total) == "86.50" and sheet.comment == COMMENT_30
    page.goto(page.base + "/review/mine/")
    expect(page.locator(f'[data-assignment="{a.pk}"]')).to_contain_text("已提交")
