"""The applicant's whole journey in headless Chromium, once for one type of each of the five notices:
register the unit on the registration page (approved by its home association), the 可申报项目 list, the form filled with an error then corrected,
own approval where the call asks for it (R-E8), submit, download the PDF, upload that PDF itself as the
stamped "scan", verified by its QR code. Screenshots go to tests/artifacts/journey-*.png."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.orgs.models import Organisation, Role
from tests.conftest import credit_code
from tests.journey_support import values_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Journey#2026"
PHONE = {"width": 390, "height": 844}
ALL = ("liuzhou2026", "guangxi2026", "guangxi2023", "hunan2024", "changde2022")

# call, type, track, applicant category, attributes, form values a generic filler cannot guess
CASES = [
    {"call": "liuzhou2026", "type": "2026-2", "track": None, "category": "city_society"},
    {"call": "guangxi2026", "type": "2026-1", "track": "lecture", "category": "province_society",
     # R-E2: held 3A in the past (2019–2022), 2A now: 广西 2026-1 accepts it
     "attrs": [{"key": "society_grade", "value": 3, "valid_from": dt.date(2019, 1, 1), "valid_to": dt.date(2022, 12, 31)},
               {"key": "society_grade", "value": 2, "valid_from": dt.date(2023, 1, 1)}]},
    {"call": "guangxi2023", "type": "2023-2", "track": None, "category": "society_party_branch"},
    {"call": "hunan2024", "type": "1-1", "track": "high_end_event", "category": "province_society",
     "meeting": ("理事会", "第五届理事会第三次会议")},
    {"call": "changde2022", "type": "1", "track": None, "category": "city_society",
     "attrs": [{"key": "has_party_branch", "value": True}, {"key": "has_activity_venue", "value": True}],
     "overrides": {"budget_total": 15000, "own_funds": 10000, "city_funds": 5000},
     "meeting": ("单位会议", "第二届理事会第四次")},
]


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def calls(load_call):
    """The five notices, reopened: their deadlines lie in the past, so they are moved a month ahead."""
    out = {}
    for name in ALL:
        call = load_call(name)
        Call.objects.filter(pk=call.pk).update(deadline=timezone.now() + dt.timedelta(days=30), opens_at=None)
        out[name] = Call.objects.get(pk=call.pk)
    return out


def _login(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))


def _logout(page):
    page.locator("header").get_by_role("button", name="退出").click()


def _register(page, issuer: Organisation, category: str, tag: str, attrs: list[dict] | None = None):
    """项目申报用户注册 on the page, approved by the home association; then the funder records the unit's
    dated attributes (grade, party branch …) as it does on the unit page."""
    from shenbao.orgs import services
    from shenbao.orgs.models import Category, OrgAttribute, User

    name = f"{issuer.short_name or issuer.name}{tag}测试单位"
    page.goto(page.base + "/accounts/register/")
    page.fill("#id_name", name)
    page.fill("#id_credit_code", credit_code(7100))
    page.select_option("#id_category", label=Category.objects.get(code=category).name)
    page.select_option("#id_home_association", label=issuer.name)
    page.fill("#id_address", "柳州市城中区文昌路1号")
    page.fill("#id_postcode", "545001")
    page.fill("#id_contact_name", "韦明")
    page.fill("#id_contact_phone", "0772-2800001")
    page.fill("#id_display_name", "韦明")
    page.fill("#id_phone", "13800000005")
    page.fill("#id_username", f"{tag}_clerk")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_url(re.compile(r"/accounts/register/done/$"))
    org = Organisation.objects.get(name=name)
    reviewer = User.objects.create_user(username=f"{tag}_home", password=PASSWORD, organisation=issuer,
                                        must_change_password=False)
    reviewer.roles.create(role=Role.HOME_REVIEWER, organisation=issuer)
    services.approve_registration(actor=reviewer, org=org)
    for a in attrs or []:
        OrgAttribute.objects.create(organisation=org, **a)
    head = User.objects.create_user(username=f"{tag}_head", password=PASSWORD, organisation=org,
                                    must_change_password=False)
    head.roles.create(role=Role.UNIT_HEAD, organisation=org)
    return org


def _flat(form, values: dict) -> list[tuple[str, str]]:
    """(input name, text to type) for the scalar, person, period, choice and opinion fields of a form."""
    kinds = {f.key: f for f in form.all_fields()}
    out: list[tuple[str, str]] = []
    for key, v in values.items():
        f = kinds.get(key)
        if f is None or f.kind in ("attachment", "note"):
            continue
        if f.kind == "table":
            cols = {c.key: c for c in f.columns}
            for i, row in enumerate(v):
                for col, cv in row.items():
                    text = str(cv)
                    if cols[col].kind == "money" and cols[col].unit == "wan":
                        text = format(Decimal(cv) / 10000, "f").rstrip("0").rstrip(".")
                    out.append((f"f-{key}-{i}-{col}", text))
            continue
        if isinstance(v, dict):
            out.extend((f"f-{key}-{part}", str(pv)) for part, pv in v.items())
        elif isinstance(v, list):
            out.extend((f"f-{key}", str(x)) for x in v)
        elif f.kind == "money" and f.unit == "wan":
            out.append((f"f-{key}", format(Decimal(v) / 10000, "f").rstrip("0").rstrip(".")))
        else:
            out.append((f"f-{key}", str(v)))
    return out


def _fill(page, pairs: list[tuple[str, str]]) -> None:
    for name, text in pairs:
        loc = page.locator(f'[name="{name}"]')
        row = re.match(r"^f-([a-z0-9_]+)-(\d+)-[a-z0-9_]+$", name)
        if loc.count() == 0 and row:  # a table row not on the page yet: add one
            page.locator(f'[data-key="{row.group(1)}"] [data-sb-add-row]').click()
        if loc.count() == 0:
            continue  # a block the applicant does not fill
        kind = loc.first.evaluate("e => e.tagName + ':' + (e.type || '')")
        if kind.startswith("SELECT"):
            loc.first.select_option(text)
        elif kind.endswith(":radio") or kind.endswith(":checkbox"):
            page.locator(f'[name="{name}"][value="{text}"]').check()
        else:
            loc.first.fill(text)


def _approve_own(page, app: Application, meeting: tuple[str, str], head_username: str, artifacts, tag: str):
    """R-E8: the clerk records the meeting, the head accepts the commitment from their own login."""
    page.goto(page.base + f"/apply/{app.pk}/approval/")
    page.select_option("#meeting_kind", meeting[0])
    page.fill("#meeting_name", meeting[1])
    page.fill("#meeting_date", (timezone.localdate() - dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="登记审议会议").click()
    assert "请单位负责人确认承诺" in page.inner_text(".messages")
    browser = page.context.browser
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    head = ctx.new_page()
    head.set_default_timeout(15000)
    head.base = page.base
    try:
        _login(head, head_username)
        head.goto(head.base + f"/apply/{app.pk}/approval/")
        assert meeting[1] in head.inner_text("#commitment")
        head.locator("#accept-btn").click()
        assert f"单位负责人 {head_username}" in head.inner_text("#accepted")
        head.screenshot(path=str(artifacts / f"journey-{tag}-approval.png"), full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("case", CASES, ids=[c["call"] for c in CASES])
def test_journey(page, case, calls, artifacts):
    call = calls[case["call"]]
    tag = case["call"]
    page.on("dialog", lambda d: d.accept())
    org = _register(page, call.issuer, case["category"], tag, case.get("attrs"))
    clerk_name = f"{tag}_clerk"
    ptype = call.types.get(code=case["type"])

    # 可申报项目: the type is open to the unit, others say why not
    _login(page, clerk_name)
    page.goto(page.base + "/apply/offers/")
    offer = page.locator(f'[data-call="{call.code}"] [data-type="{ptype.code}"]')
    assert "可以申报" in offer.inner_text()
    assert page.locator(".offer.no .reasons li").count() > 0  # the types it may not apply for, with reasons
    page.screenshot(path=str(artifacts / f"journey-{tag}-offers.png"), full_page=True)
    if case["track"]:
        offer.locator("select[name=track]").select_option(case["track"])
    offer.get_by_role("button", name="开始申报").click()
    page.wait_for_url(re.compile(r"/apply/\d+/edit/$"))
    app = Application.objects.get(applicant=org, project_type=ptype)

    if case.get("meeting"):
        _approve_own(page, app, case["meeting"], f"{tag}_head", artifacts, tag)
        page.goto(page.base + f"/apply/{app.pk}/edit/")

    # fill with an error (an impossible phone number), save: the message stands beside the field
    form = call.document.form_for(ptype.document)
    values = values_for(app, overrides=case.get("overrides"))
    lead = values["project_lead"]
    phone_part = next(p for p in ("phone", "mobile", "office_phone") if p in lead)
    pairs = _flat(form, values)
    bad = [(n, "12345" if n == f"f-project_lead-{phone_part}" else t) for n, t in pairs]
    _fill(page, bad)
    page.locator("#save-btn").click()
    page.wait_for_load_state()
    error = page.locator(f"#err-project_lead-{phone_part}")
    assert error.is_visible() and ("电话" in error.inner_text() or "号码" in error.inner_text())
    assert page.input_value(f'[name="f-project_lead-{phone_part}"]') == "12345"  # what was typed is kept
    assert page.input_value('[name="f-project_name"]') == values["project_name"]
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"journey-{tag}-error.png"), full_page=False)

    # corrected, then saved and submitted in one click
    page.fill(f'[name="f-project_lead-{phone_part}"]', lead[phone_part])
    with page.expect_navigation():
        page.locator("#submit-btn").click()
    app.refresh_from_db()
    assert app.status == "submitted", page.inner_text("main")[:3000]
    assert page.url.endswith(f"/apply/{app.pk}/")
    snap = app.current_snapshot
    assert page.inner_text("#fingerprint") == snap.fingerprint
    page.screenshot(path=str(artifacts / f"journey-{tag}-submitted.png"), full_page=True)

    # download the PDF, upload the PDF itself as the "scan": its QR matches the snapshot
    with page.expect_download() as info:
        page.locator("#print-pdf").click()
    pdf_path = artifacts / f"journey-{tag}.pdf"
    info.value.save_as(str(pdf_path))
    assert pdf_path.read_bytes().startswith(b"%PDF")
    page.set_input_files("#scan-file", str(pdf_path))
    page.locator("#scan-form button").click()
    page.wait_for_url(re.compile(rf"/apply/{app.pk}/"))
    assert "版本一致" in page.inner_text(".messages")
    # the QR proves the version; the stamp waits for the funder (issue 7 item 4): not 已核验 yet
    assert page.inner_text("#scan-status") == "版本一致，盖章待主办方确认"
    assert app.scans.get().verified and app.scans.get().state == "matched"
    page.locator("#scans").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"journey-{tag}-verified.png"), full_page=True)

    # the dashboard shows the next step (the funder confirms the stamp)
    page.goto(page.base + "/apply/")
    assert "版本一致，盖章待主办方确认" in page.locator(f'tr[data-app="{app.pk}"]').inner_text()


def test_the_form_fits_a_phone(_chromium, live_server, calls, make_org, make_user, artifacts):
    """The longest of the five forms (常德 学会党建项目申报书) on a 390 px phone: no sideways scrolling."""
    from shenbao.applications import services

    call = calls["changde2022"]
    org = make_org("常德市手机学会", "city_society", parent=call.issuer)
    clerk = make_user("phone_clerk", org=org, roles=(Role.APPLICANT_CLERK,), password=PASSWORD)
    app = services.create_draft(user=clerk, project_type=call.types.get(code="1"))
    context = _chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                    locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base = live_server.url
    try:
        _login(page, "phone_clerk")
        for path in (f"/apply/{app.pk}/edit/", f"/apply/{app.pk}/", "/apply/offers/", "/apply/"):
            page.goto(page.base + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        page.goto(page.base + f"/apply/{app.pk}/edit/")
        page.screenshot(path=str(artifacts / "journey-phone-edit.png"), full_page=False)
        page.goto(page.base + "/apply/offers/")
        page.screenshot(path=str(artifacts / "journey-phone-offers.png"), full_page=False)
    finally:
        context.close()
