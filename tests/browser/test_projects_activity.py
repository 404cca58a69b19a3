"""Issue 9, item 4 in Chromium: the unit registers an event of its 广西 2026-1 project from the work bench (the
filings of R-P6 reminded), the QR code on the event page is decoded (zxing-cpp) to the sign-in URL, three
participants sign in on a phone-sized page (390×844) without logging in (a duplicate phone refused), the
sheet counts them, and photos are uploaded with their kind; then (item 7) the acceptance page explains the
minimums from that evidence, the unit uploads the other materials and submits, and the funder's staff passes it.
Screenshots tests/artifacts/activity-*.png."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from shenbao.projects.models import Event, EventPhoto, SignIn
from shenbao.projects.services import record_project
from tests.journey_support import unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_hashing", "media")]

PASSWORD = "Shenbao#2026"
PHONE = {"width": 390, "height": 844}


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def _photo(path, color):
    Image.new("RGB", (320, 240), color).save(path, "JPEG")
    return str(path)


def test_register_event_sign_in_by_qr_on_a_phone_and_upload_photos(page, phone, load_call, make_org, make_user,
                                                                     artifacts, tmp_path):
    import zxingcpp

    call = load_call("guangxi2026")
    org, _clerk, _head = unit(make_org, make_user, name="广西人工智能学会", category="province_society",
                              parent=None, prefix="ai")
    ptype = call.types.get(code="2026-1")
    project = record_project(applicant=org, title="“八桂科技讲坛”人工智能学术交流", year=2026, call=call,
                             project_type=ptype, track=ptype.tracks.get(code="lecture"))

    # the clerk: work bench → 我的项目 → the project → 登记活动
    _login(page, "ai_clerk")
    page.get_by_role("link", name="我的项目").click()
    page.get_by_role("link", name=project.title).click()
    page.click("#event-new")
    expect(page.locator("#event-rules")).to_contain_text("八桂科技讲坛")
    page.fill("#f-title", "“八桂科技讲坛”人工智能赋能制造业学术报告会")
    option = page.locator("#f-task option", has_text="八桂科技讲坛").first.get_attribute("value")
    page.select_option("#f-task", option)
    today = page.evaluate("new Date().toLocaleDateString('sv-SE', {timeZone: 'Asia/Shanghai'})")
    page.fill("#f-starts", today)
    page.fill("#f-place", "南宁市广西科技馆报告厅")
    page.fill("#f-expected", "80")
    page.locator("input[name=speaker_name]").first.fill("张教授")
    page.locator("input[name=speaker_org]").first.fill("广西大学")
    page.locator("input[name=speaker_topic]").first.fill("大模型与智能制造")
    page.click("#event-save")
    page.wait_for_url(re.compile(r"/projects/events/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("活动已登记")
    # R-P6: the filings before the event are reminded; the title meets the naming rule (R-C4)
    expect(page.locator("#event-warnings")).to_contain_text("自治区民政厅备案")
    expect(page.locator("#naming-check")).to_contain_text("符合")
    event = Event.objects.get(project=project)

    # the QR code on the page leads to the sign-in page
    shot = artifacts / "activity-qr.png"
    page.locator("#signin-qr svg").screenshot(path=str(shot))
    urls = [r.text for r in zxingcpp.read_barcodes(Image.open(shot))]
    assert len(urls) == 1 and urls[0] == page.inner_text("#signin-link")
    assert urls[0].endswith(f"/projects/signin/{event.signin_token}/")
    page.screenshot(path=str(artifacts / "activity-event.png"), full_page=True)

    # three participants on a phone, not logged in
    for name, org_name, number in [("李明", "广西大学", "13807711230"), ("王芳", "广西医科大学", "13907712345"),
                                   ("Nguyen", "柳州工学院", "13607710000")]:
        phone.goto(urls[0])
        expect(phone.locator("#signin-event")).to_have_text(event.title)
        phone.fill("#s-name", name)
        phone.fill("#s-org", org_name)
        phone.fill("#s-phone", number)
        button = phone.locator("#signin-submit").bounding_box()
        assert button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"]
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.click("#signin-submit")
        expect(phone.locator("#signin-ok")).to_contain_text(f"{name}，您已签到")
    phone.screenshot(path=str(artifacts / "activity-signin-done-390.png"))
    # the same phone again is refused with a message
    phone.goto(urls[0])
    phone.fill("#s-name", "李明")
    phone.fill("#s-org", "广西大学")
    phone.fill("#s-phone", "138 0771 1230")
    phone.click("#signin-submit")
    expect(phone.locator("#signin-error")).to_contain_text("该手机号码已签到")
    phone.screenshot(path=str(artifacts / "activity-signin-duplicate-390.png"))
    assert SignIn.objects.filter(event=event).count() == 3

    # the sheet on the event page; photos with their kind
    page.reload()
    expect(page.locator("#signin-count")).to_contain_text("已签到 3 人")
    expect(page.locator("#signin-table tbody tr")).to_have_count(3)
    page.select_option("#photo-kind", "全景")
    page.set_input_files("#photo-input", [_photo(tmp_path / "hall-1.jpg", (180, 40, 40)),
                                          _photo(tmp_path / "hall-2.jpg", (40, 160, 40))])
    page.click("#photo-upload")
    expect(page.locator(".messages")).to_contain_text("已上传 2 张相片")
    page.select_option("#photo-kind", "专家报告近景")
    page.set_input_files("#photo-input", [_photo(tmp_path / "speaker.jpg", (40, 40, 180))])
    page.click("#photo-upload")
    expect(page.locator("#photo-grid li")).to_have_count(3)
    expect(page.locator("#photo-rules [data-kind='全景']")).to_contain_text("全景 2/2")
    # every photo is served (the page shows each image)
    page.locator("#photo-grid").scroll_into_view_if_needed()
    loaded = "Array.from(document.querySelectorAll('#photo-grid img')).every(i => i.complete && i.naturalWidth > 0)"
    for _ in range(50):
        if page.evaluate(loaded):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(loaded)
    assert sorted(EventPhoto.objects.filter(event=event).values_list("kind", flat=True)) == ["专家报告近景", "全景", "全景"]
    page.screenshot(path=str(artifacts / "activity-photos.png"), full_page=True)

    # Issue 9 item 7: the acceptance from this project's page. The evidence collected above is attached by
    # itself: the task's participants (≥ 50, R-P7) are explained from the sign-in sheet (3 signed in); the unit
    # uploads the materials the records do not supply, submits; the funder's staff passes it (R-P7).
    page.goto(page.base + f"/projects/{project.pk}/")
    page.click("#go-acceptance")
    page.wait_for_url(re.compile(r"/projects/\d+/acceptance/$"))
    expect(page.locator("#due-date")).to_have_text("2026-11-30")
    expect(page.locator("#minimums [data-rule='participants']").first).to_contain_text("最多一场 3人")
    expect(page.locator("#minimums [data-rule='naming']").first).to_contain_text("符合")
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    for code in ("final_accounts", "evidence", "news"):
        page.select_option("#material-code", code)
        page.set_input_files("#material-file", str(pdf))
        page.click("#material-upload")
        expect(page.locator(".messages")).to_contain_text("材料已上传")
        expect(page.locator(f"#checklist [data-material='{code}']")).to_contain_text("齐全")
    page.fill("#summary", "举办“八桂科技讲坛”学术报告会1场，签到3人（试点）。")
    page.click("#save")
    expect(page.locator(".messages")).to_contain_text("已保存")
    with page.expect_download() as download:
        page.click("#form-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    page.click("#submit-acceptance")
    expect(page.locator(".messages")).to_contain_text("验收材料已提交")
    expect(page.locator("#acceptance-state")).to_have_text("已提交待验收")
    page.screenshot(path=str(artifacts / "activity-acceptance-submitted.png"), full_page=True)

    staff = make_user("gx_acc_staff", org=call.issuer, roles=("funder_staff",))
    page.context.clear_cookies()
    _login(page, staff.username)
    page.get_by_role("link", name="项目验收与抽查").click()
    page.locator("#waiting").get_by_role("link", name=project.title).click()
    page.check("#result-pass")
    page.fill("#decide-note", "材料齐全，同意通过验收")
    page.click("#decide-submit")
    expect(page.locator(".messages")).to_contain_text("验收结论已记录")
    expect(page.locator("#acceptance-state")).to_have_text("验收通过")
    expect(page.locator("#project-status")).to_have_text("已验收结题")
    page.screenshot(path=str(artifacts / "activity-acceptance-passed.png"), full_page=True)
    project.refresh_from_db()
    assert project.status == "completed" and project.acceptance.status == "passed"
