"""The interface speaks Chinese first and switches to English (top bar → /i18n/setlang/): headings, buttons,
messages and reasons change language; the calls' own data (titles, type names from the YAML) and the
categories stay as written. Also: the English catalogue is complete and its compiled .mo is current."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from shenbao.applications import eligibility
from shenbao.forms import validation
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def people(call, make_org, make_user):
    return unit(make_org, make_user, name="柳州市双语学会", category="city_society", parent=call.issuer, prefix="en")


def english(client):
    """What the top bar's English button does."""
    r = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert r.status_code == 302 and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def assert_all_in(page: str, *needles: str) -> None:
    missing = [n for n in needles if n not in page]
    assert not missing, missing


def assert_none_in(page: str, *needles: str) -> None:
    present = [n for n in needles if n in page]
    assert not present, present


# --- the portal: Chinese by default, English after the switch, and back ------------------------------------


def test_chinese_is_the_default(client, call):
    page = text(client.get("/"))
    assert '<html lang="zh-CN">' in page
    assert_all_in(page, "项目申报通知", "正在申报", "全部通知", "查看通知", 'value="en">English</button>')
    assert_none_in(page, "Project calls", "Open now", "View the call")


def test_chinese_first_whatever_the_browser_asks(client, call):
    # an English browser still gets Chinese until the user presses the switch
    page = text(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="zh-CN">' in page
    assert_all_in(page, "项目申报通知", "查看通知")
    assert_none_in(page, "Project calls", "View the call")


def test_portal_in_english_keeps_the_calls_as_written(client, call, load_call):
    # R-C1: the call's title and document number are the notice's own words, in every language
    changde = load_call("changde2022")
    page = text(english(client).get("/"))
    assert '<html lang="en">' in page
    assert_all_in(page, "Project calls", "Open now", "All calls", "Funders", "View the call", "Deadline",
                  'value="zh-hans">中文</button>', call.title, call.document_number, changde.title,
                  call.issuer.name)
    assert_none_in(page, "项目申报通知", "正在申报", "全部通知", "查看通知", "截止时间", "申报通知</a>")
    # and back to Chinese
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    back = text(client.get("/"))
    assert_all_in(back, "项目申报通知", call.title)
    assert "Project calls" not in back


# --- the call page ---------------------------------------------------------------------------------------


def test_call_page_in_english(client, load_call):
    call = load_call("liuzhou2026")  # as published: deadline 2026-03-31 17:00 Beijing time
    url = reverse("calls:call_detail", args=[call.code])
    chinese = text(client.get(url))
    # R-E7: the deadline is shown in Beijing time, with the weekday, in the page's language
    assert "2026年3月31日（星期二）17:00" in chinese
    page = text(english(client).get(url))
    assert "Tuesday 31 March 2026, 17:00" in page
    assert_all_in(page, "Project types", "Requirements", "Submission", "Contacts", "Quota", "Funding",
                  "Download PDF", "Download Word", "Document number", "Closed")
    assert_none_in(page, "项目类型一览", "申报要求", "材料报送", "联系方式", "计划立项数量", "下载 PDF",
                   "2026年3月31日（星期二）17:00")
    # the call's data stays as the YAML wrote it: title, type names, quotas and money texts
    assert call.title in page
    for t in call.types.all():
        assert t.name in page and t.quota_text in page and t.funding_text in page


# --- login and registration ------------------------------------------------------------------------------


def test_login_page_in_english(client):
    page = text(english(client).get(reverse("orgs:login")))
    assert_all_in(page, "Log in", "User name", "Password", "Unit not registered yet?", "Register as an applicant unit")
    assert_none_in(page, "用户名", "密码", "单位尚未注册", "项目申报用户注册")


def test_registration_page_in_english(client, catalogue):
    english(client)
    page = text(client.get(reverse("orgs:register")))
    assert_all_in(page, "Register as an applicant unit", "Unit name", "Unified social credit code",
                  "Applicant category", "Home association", "Clerk's account", "— choose —")
    assert_none_in(page, "单位名称", "统一社会信用代码", "申报单位类别", "经办人账户", "提交注册", "请选择")
    assert "市级学会" in page  # the categories are the catalogue's data, not interface text
    # a wrong credit code: the validator's message in English too
    r = client.post(reverse("orgs:register"), {"credit_code": "123", "name": "某某学会"})
    page = text(r)
    assert_all_in(page, "The unified social credit code must have 18 characters (now 3)",
                  "Please correct the fields marked in red")
    assert "统一社会信用代码须为18位" not in page


# --- the applicant's pages ---------------------------------------------------------------------------------


def test_offers_page_in_english_with_reasons(client, call, people):
    # R-E1: a unit of another category is told why, in the page's language; the type names stay
    _org, clerk, _head = people
    client.force_login(clerk)
    page = text(english(client).get(reverse("applications:offers")))
    assert_all_in(page, "Available projects", "You may apply", "You may not apply", "Start application",
                  "My applications", "Deadline: ")
    assert_none_in(page, "可申报项目", "可以申报", "不能申报", "开始申报", "本类型限", "类别为")
    section = page[page.index('data-type="2026-5"'):]
    assert re.search(r'data-code="category">Only .+ may apply for this project type; the category of your unit is '
                     r"市级学会", section)
    for t in call.types.all():
        assert t.name in page


def test_application_page_in_english(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(clerk)
    english(client)
    url = reverse("applications:detail", args=[app.pk])
    page = text(client.get(url))
    assert_all_in(page, "Next step", "Complete the form, then submit", "Fill in the application form", ">Submit<",
                  "Discard draft", "History", "Draft created", "Application deadline: ", 'data-status="draft">Draft<')
    assert_none_in(page, "下一步", "填写完整后提交", "填写申报表", "放弃草稿", "办理记录", "创建草稿", ">草稿<")
    assert app.project_type.name in page and call.title in page
    r = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version}, follow=True)
    page = text(r)
    assert_all_in(page, 'data-status="submitted">Submitted<', "Print the application form, sign and stamp it",
                  "Download for printing (PDF)", "Stamped scan", "Withdraw to revise")
    assert_none_in(page, "下一步", "下载打印版", "盖章扫描件", "撤回修改", ">已提交<")


def test_the_same_application_page_stays_chinese_by_default(client, call, people):
    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(clerk)
    page = text(client.get(reverse("applications:detail", args=[app.pk])))
    assert_all_in(page, "下一步", "填写完整后提交", "办理记录", "创建草稿", 'data-status="draft">草稿<', "申报截止：")
    assert_none_in(page, "Next step", "Draft created")


# --- messages built in Python: Chinese msgids, English when switched ---------------------------------------


def test_validation_and_eligibility_messages_follow_the_language(call, people):
    with pytest.raises(validation.FieldError) as zh:
        validation.parse_money("一万", "wan")
    assert str(zh.value) == "请填写金额数字（单位：万元），如 1.5"
    with translation.override("en"), pytest.raises(validation.FieldError) as en:
        validation.parse_money("一万", "wan")
    assert str(en.value) == "Enter the amount as a number (unit: ×10,000 yuan), e.g. 1.5"

    # R-E1: a city society may not apply for the enterprise associations' type (2026-5)
    org, _clerk, _head = people
    verdict = eligibility.check(org=org, call=call, project_type="2026-5")
    assert verdict.codes == ["category"] and "类别为市级学会" in verdict.message
    with translation.override("en"):
        verdict = eligibility.check(org=org, call=call, project_type="2026-5")
    assert verdict.codes == ["category"]
    assert "may apply for this project type; the category of your unit is 市级学会" in verdict.message
    assert not re.search(r"本类型限|类别为", verdict.message)


# --- refusals: permission reasons and service messages follow the language too -------------------------------


def test_a_page_refusal_gives_its_reason_in_english(client, call, people):
    # a clerk opens the funder's call management: the Decision's reason, in the page's language
    _org, clerk, _head = people
    client.force_login(clerk)
    url = reverse("calls:manage")
    r = client.get(url)
    assert r.status_code == 403 and "只有主办方业务人员可以管理申报通知" in r.content.decode()
    r = english(client).get(url)
    page = r.content.decode()
    assert r.status_code == 403 and "Only funder staff may manage calls" in page
    assert "只有主办方业务人员可以管理申报通知" not in page


def test_an_api_refusal_detail_follows_the_language_cookie(client, call, people):
    # the unit head may see the application but only its clerk submits it (the same check as the page)
    org, clerk, head = people
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(head)
    url = f"/api/v1/applications/{app.pk}/submit"
    r = client.post(url, {}, content_type="application/json")
    assert r.status_code == 403 and r.json()["detail"] == f"只有{org.name}的申报经办人可以修改此申报"
    english(client)
    r = client.post(url, {}, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["detail"] == f"Only the applicant clerk of {org.name} may change this application"


def test_a_scan_refusal_is_in_english_but_audited_in_chinese(call, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shenbao.applications import services
    from shenbao.core.models import AuditEvent

    _org, clerk, _head = people
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app, expected_version=app.version)
    not_a_scan = SimpleUploadedFile("scan.pdf", b"GIF89a not a scan", content_type="application/pdf")
    with translation.override("en"), pytest.raises(services.ScanRefused) as en:
        services.upload_scan(user=clerk, application=app, upload=not_a_scan)
    assert en.value.message == ("Only PDF, JPG or PNG scans are accepted (judged by the file's content, "
                                "not its extension)")
    assert en.value.code == "type"
    # the audit log keeps the Chinese text whatever the clerk's language
    event = AuditEvent.objects.filter(action="application.scan_refused").latest("pk")
    assert event.note == "只接受 PDF、JPG 或 PNG 格式的扫描件（按文件内容识别，不看扩展名）"
    not_a_scan.seek(0)
    with pytest.raises(services.ScanRefused) as zh:
        services.upload_scan(user=clerk, application=app, upload=not_a_scan)
    assert zh.value.message == event.note


# --- the catalogue ---------------------------------------------------------------------------------------------


def _po_entries(path: Path) -> list[dict]:
    """msgctxt / msgid / msgid_plural / msgstr[n] and flags of each entry of a .po file (header excluded)."""
    entries, current, key = [], None, None
    for line in [*path.read_text("utf-8").splitlines(), ""]:
        if not line.strip():
            if current and current.get("msgid"):
                entries.append(current)
            current, key = None, None
            continue
        current = current or {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            current["flags"] += line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                current["msgstr"][key] += value
            else:
                current[key] += value
        else:
            word, _space, rest = line.partition(" ")
            m = re.fullmatch(r"msgstr(?:\[(\d+)\])?", word)
            key = int(m.group(1) or 0) if m else word
            if isinstance(key, int):
                current["msgstr"][key] = ast.literal_eval(rest)
            else:
                current[key] = ast.literal_eval(rest)
    return entries


PLACEHOLDERS = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w*\}")


def test_english_catalogue_is_complete_and_compiled():
    entries = _po_entries(CATALOGUE / "django.po")
    assert len(entries) > 500
    compiled = gettext.GNUTranslations((CATALOGUE / "django.mo").open("rb"))
    for e in entries:
        name = e["msgid"]
        assert "fuzzy" not in e["flags"], name
        assert all(s.strip() for s in e["msgstr"].values()), f"untranslated: {name}"
        want = sorted(PLACEHOLDERS.findall(name))
        for s in e["msgstr"].values():
            assert sorted(PLACEHOLDERS.findall(s)) == want, name
        # the .mo says the same as the .po (recompile with `shenbao compilemessages` after editing)
        if "msgid_plural" in e:
            got = [compiled.npgettext(e["msgctxt"], name, e["msgid_plural"], n) if "msgctxt" in e
                   else compiled.ngettext(name, e["msgid_plural"], n) for n in (1, 2)]
            assert got == [e["msgstr"][0], e["msgstr"][1]], name
        else:
            got = compiled.pgettext(e["msgctxt"], name) if "msgctxt" in e else compiled.gettext(name)
            assert got == e["msgstr"][0], name


# --- in a browser -------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_english_portal_in_a_browser(page, load_call, artifacts):
    call = reopen(load_call("liuzhou2026"))
    load_call("guangxi2026")
    page.goto(page.base + "/")
    assert page.locator("h1").inner_text() == "项目申报通知"
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Project calls"
    assert page.locator("html").get_attribute("lang") == "en"
    card = page.locator(f'article[data-code="{call.code}"]')
    assert card.locator("h3").inner_text() == call.title
    assert "View the call" in card.inner_text() and "Closes in" in card.inner_text()
    page.screenshot(path=str(artifacts / "i18n-portal-en.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "i18n-portal-en-phone.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="中文").click()
    assert page.locator("h1").inner_text() == "项目申报通知"
