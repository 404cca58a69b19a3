"""Issue 9, items 4 and 5: a project's events on the real calls — the naming rule and the countries of an
international event (R-C4), the filings before the event (R-P6), the public sign-in page and its sheet,
photos within the call's limits (R-P7), news with link and screenshot (R-P9), deliverables with their own
dates where late means not completed (R-C8) and their daily reminders; the same through the API."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from shenbao.core.audit import history
from shenbao.core.decisions import NotAllowed
from shenbao.projects import activities
from shenbao.projects.models import Event, EventPhoto, Filing, NewsItem, SignIn
from shenbao.projects.services import record_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing", "media")]

TODAY = dt.date.today


def _png(name="p.png", size=(64, 48), color=(200, 30, 30), noise=False) -> SimpleUploadedFile:
    img = Image.effect_noise(size, 90).convert("RGB") if noise else Image.new("RGB", size, color)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def _jpg(name="p.jpg", color=(10, 120, 200)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def _pdf(name="x.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")


@pytest.fixture
def unit_of(make_org, make_user):
    """A unit of `category` with a clerk (e-mail set) and a head, and the funder's staff for the call."""
    made = {}

    def _make(call, *, category="province_society", name="广西测试学会", prefix="u"):
        org = make_org(name, category)
        clerk = make_user(f"{prefix}_clerk", org=org, roles=("applicant_clerk",), email=f"{prefix}@example.cn")
        head = make_user(f"{prefix}_head", org=org, roles=("unit_head",))
        if call.pk not in made:
            made[call.pk] = make_user(f"staff{call.pk}", org=call.issuer, roles=("funder_staff",))
        return org, clerk, head, made[call.pk]

    return _make


def _project(call, org, type_code, track_code=None, title="测试项目"):
    ptype = call.types.get(code=type_code)
    track = ptype.tracks.get(code=track_code) if track_code else None
    return record_project(applicant=org, title=title, year=call.year, call=call, project_type=ptype, track=track,
                          awarded_on=TODAY())


def _task_with(project, name: str) -> int:
    return next(i for i, t in enumerate(activities.tasks(project)) if name in t.naming)


def _event(user, project, *, title="活动", day=None, international=False, countries=(), task=-1):
    day = day or TODAY()
    ev, warnings = activities.register_event(
        user=user, project=project, title=title, starts_on=day, ends_on=day, place="南宁市科技馆",
        expected_participants=60, speakers=[{"name": "张教授", "organisation": "广西大学", "topic": "人工智能"}],
        international=international, countries=list(countries), task=task)
    return ev, warnings


# --- R-C4: naming -------------------------------------------------------------------------------------------


def test_naming_rule_of_guangxi_2026_1(load_call, unit_of):
    # R-C4: an event of 广西 2026-1 without “八桂科技讲坛” in its title fails the naming check
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    task = _task_with(project, "八桂科技讲坛")
    ev, warnings = _event(clerk, project, title="人工智能与产业发展学术报告会", task=task)
    assert any("八桂科技讲坛" in w and "不能通过项目验收" in w for w in warnings), warnings
    assert activities.naming_problems(project, ev.title, task)
    assert "project.event_registered" in [e.action for e in history(ev)]
    # renamed after the warning, the naming rule is met (audited)
    ev, warnings = activities.rename_event(user=clerk, event=ev, title="“八桂科技讲坛”" + ev.title, task=task)
    assert not any("八桂科技讲坛" in w for w in warnings) and "project.event_renamed" in [e.action for e in history(ev)]
    # the same event registered twice (a double submit) is one event
    with pytest.raises(activities.EventInvalid, match="已登记"):
        _event(clerk, project, title=ev.title, task=task)
    assert Event.objects.filter(project=project).count() == 1
    # the same event named as the notice demands passes
    ok, warnings = _event(clerk, project, title="“八桂科技讲坛”人工智能与产业发展学术报告会", task=task,
                          day=TODAY() + dt.timedelta(days=1))
    assert not any("八桂科技讲坛" in w for w in warnings), warnings
    assert activities.naming_problems(project, ok.title, task) == []
    # no task named: a title with neither 八桂科技讲坛 nor 专家助企赋能 counts for none of the named tasks
    assert activities.naming_problems(project, "学术报告会")
    assert activities.naming_problems(project, "专家助企赋能走进柳钢") == []
    # the other task of the track asks its own name
    other = _task_with(project, "专家助企赋能")
    assert activities.naming_problems(project, "“八桂科技讲坛”报告会", other)


def test_naming_rule_read_from_the_call_not_hard_coded(load_call, unit_of):
    # R-C4: 广西 2023-1's 八桂科技讲坛 is signage at the venue, not a naming rule; its naming task is 党旗领航
    call = load_call("guangxi2023")
    org, _clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2023-1")
    assert activities.naming_problems(project, "八桂科技讲坛学术讲座", -1)  # carries no naming rule's name
    task = _task_with(project, "党旗领航—千名学会专家走基层")
    assert activities.naming_problems(project, "党旗领航—千名学会专家走基层（百色站）", task) == []


# --- R-C4: countries of an international event ---------------------------------------------------------------


def test_international_event_from_two_countries_fails(load_call, unit_of):
    # R-C4: participants from ≥3 countries and regions, China counting as one, HK/Macao/Taiwan not separately
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2026-3", "international")
    need, source = activities.min_countries(project)
    assert need == 3 and "3个或3个以上国家" in source  # from the track's task minimum countries_incl_china
    _ev, warnings = _event(clerk, project, title="中国—东盟科技合作论坛", international=True, countries=["越南"])
    assert any("3个或以上国家和地区" in w and "现为2个" in w for w in warnings), warnings
    # Hong Kong is China: still two
    assert activities.country_problems(project, international=True, countries=["越南", "香港"])
    assert activities.country_problems(project, international=True, countries=["Vietnam", "Hong Kong", "中国"])
    # three countries pass
    _ev, warnings = _event(clerk, project, title="中国—东盟科技合作论坛（第二届）", international=True,
                           countries=["越南", "泰国"])
    assert not any("现为" in w for w in warnings), warnings
    # a national event is not asked
    assert activities.country_problems(project, international=False, countries=[]) == []


# --- R-P6: filings -----------------------------------------------------------------------------------------


def test_filings_reminded_and_recorded(load_call, unit_of, django_capture_on_commit_callbacks):
    # R-P6: 广西 2026: forums filed with 自治区科协 and 自治区民政厅; international meetings approved by 外事办
    call = load_call("guangxi2026")
    org, clerk, _h, staff = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    day = TODAY() + dt.timedelta(days=5)
    ev, warnings = _event(clerk, project, title="“八桂科技讲坛”学术报告会", day=day)
    assert any("自治区民政厅备案" in w for w in warnings), warnings
    assert any("自治区科协备案" in w for w in warnings)
    assert not any("外事办" in w for w in warnings)  # not international
    _intl, warnings = _event(clerk, project, title="“八桂科技讲坛”国际论坛", day=day, international=True,
                            countries=["越南", "泰国"])
    assert any("自治区外事办报批" in w for w in warnings), warnings

    due = activities.filings_for(project, ev)
    assert {(f.authority, f.done) for f in due} == {("自治区科协", None), ("自治区民政厅", None)}
    f = next(f for f in due if f.authority == "自治区民政厅")
    with pytest.raises(NotAllowed):  # the funder's staff do not file for the unit
        activities.record_filing(user=staff, project=project, event=ev, key=f.key, authority=f.authority,
                                 filed_on=TODAY(), reference="桂民备〔2026〕12号")
    with pytest.raises(activities.Refused):  # a date to come
        activities.record_filing(user=clerk, project=project, event=ev, key=f.key, authority=f.authority,
                                 filed_on=TODAY() + dt.timedelta(days=1))
    row = activities.record_filing(user=clerk, project=project, event=ev, key=f.key, authority=f.authority,
                                   filed_on=TODAY(), reference="桂民备〔2026〕12号")
    assert row.reference == "桂民备〔2026〕12号"
    with pytest.raises(activities.Refused, match="已登记"):  # twice: refused, one record
        activities.record_filing(user=clerk, project=project, event=ev, key=f.key, authority=f.authority,
                                 filed_on=TODAY())
    assert Filing.objects.filter(event=ev).count() == 1
    warnings = activities.event_warnings(ev)
    assert not any("民政厅" in w for w in warnings) and any("自治区科协备案" in w for w in warnings)
    # the daily reminder names the filing still owed for the event of the coming week (R-P6)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = activities.send_deliverable_reminders.call(day=TODAY().isoformat())
    assert sent == 1
    body = mail.outbox[0].body
    assert "自治区科协备案" in body and "自治区外事办报批" in body and "民政厅" not in body.split("国际论坛")[0]
    assert mail.outbox[0].to == ["u@example.cn"]


def test_project_scope_filing_of_guangxi_2023_1(load_call, unit_of):
    # R-P6: 学会科技服务团成立情况及服务计划 is filed once for the project, not for each event
    call = load_call("guangxi2023")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2023-1")
    _ev, warnings = _event(clerk, project, title="党旗领航—千名学会专家走基层")
    assert not any("科技服务团" in w for w in warnings)
    due = activities.filings_for(project, None)
    assert [(f.applies_to, f.authority) for f in due] == [("学会科技服务团成立情况及服务计划", "自治区科协学会部（联络部）")]
    activities.record_filing(user=clerk, project=project, event=None, key=due[0].key, authority=due[0].authority,
                             filed_on=TODAY(), reference="")
    assert activities.filings_for(project, None)[0].done is not None


# --- the public sign-in page -------------------------------------------------------------------------------


def test_signin_page_duplicates_and_closing(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    ev, _w = _event(clerk, project, title="“八桂科技讲坛”报告会")
    url = reverse("projects:signin", args=[ev.signin_token])
    assert len(ev.signin_token) >= 32 and str(ev.pk) not in url.replace(ev.signin_token, "")
    page = client.get(url)  # no login
    assert page.status_code == 200 and "“八桂科技讲坛”报告会" in page.content.decode()
    r = client.post(url, {"name": "李明", "organisation": "广西大学", "phone": "138 0771 1234"})
    assert r.status_code == 302
    assert SignIn.objects.get(event=ev).phone == "13807711234"
    # the same phone again, written differently: refused with a message, nothing added
    r = client.post(url, {"name": "李明明", "organisation": "广西大学", "phone": "+86 13807711234"})
    assert r.status_code == 400 and "该手机号码已签到" in r.content.decode()
    assert SignIn.objects.filter(event=ev).count() == 1
    r = client.post(url, {"name": "王芳", "organisation": "", "phone": "13907712345"})
    assert r.status_code == 400 and "请填写工作单位" in r.content.decode()
    r = client.post(url, {"name": "王芳", "organisation": "广西医科大学", "phone": "12345"})
    assert r.status_code == 400 and "11位手机号码" in r.content.decode()
    assert SignIn.objects.filter(event=ev).count() == 1
    # an unknown token is not found
    assert client.get(reverse("projects:signin", args=["x" * 32])).status_code == 404
    # closed after the event day, not open before it
    day_after = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(activities.SignInRefused, match="已结束"):
        activities.sign_in(event=ev, name="赵强", organisation="广西科协", phone="13607710000", now=day_after)
    Event.objects.filter(pk=ev.pk).update(starts_on=TODAY() - dt.timedelta(days=3), ends_on=TODAY() - dt.timedelta(days=1))
    r = client.post(url, {"name": "赵强", "organisation": "广西科协", "phone": "13607710000"})
    assert r.status_code == 400 and "签到已关闭" in r.content.decode()
    assert "签到已关闭" in client.get(url).content.decode()
    Event.objects.filter(pk=ev.pk).update(starts_on=TODAY() + dt.timedelta(days=1), ends_on=TODAY() + dt.timedelta(days=1))
    assert "签到将于" in client.get(url).content.decode()
    assert SignIn.objects.filter(event=ev).count() == 1


def test_signin_is_rate_limited(client, load_call, unit_of, settings):
    settings.SHENBAO_SIGNIN_RATE = (3, 600)
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    ev, _w = _event(clerk, _project(call, org, "2026-1", "lecture"), title="“八桂科技讲坛”报告会")
    url = reverse("projects:signin", args=[ev.signin_token])
    codes = [client.post(url, {"name": f"参会者{i}", "organisation": "某单位", "phone": f"1380771000{i}"}).status_code
             for i in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert SignIn.objects.filter(event=ev).count() == 3


def test_international_signin_asks_country_and_counts_countries(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    ev, _w = _event(clerk, _project(call, org, "2026-3", "international"), title="中国—东盟论坛",
                    international=True, countries=["越南", "泰国"])
    with pytest.raises(activities.SignInRefused, match="国家"):
        activities.sign_in(event=ev, name="Nguyen Van A", organisation="Hanoi University", phone="+84912345678")
    for name, phone, country in [("Nguyen Van A", "+84912345678", "越南"), ("Somchai", "+66812345678", "泰国"),
                                 ("陈大文", "+85291234567", "香港"), ("李明", "13807711234", "中国")]:
        activities.sign_in(event=ev, name=name, organisation="某大学", phone=phone, country=country)
    counts = activities.signin_counts(ev)
    assert counts == {"participants": 4, "countries_incl_china": 3, "countries": 2}


def test_signin_sheet_export_masks_phones_for_those_who_do_not_need_them(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, head, staff = unit_of(call)
    ev, _w = _event(clerk, _project(call, org, "2026-1", "lecture"), title="“八桂科技讲坛”报告会")
    for i, name in enumerate(["李明", "王芳", "赵强"]):
        activities.sign_in(event=ev, name=name, organisation="广西大学", phone=f"1380771123{i}")

    def sheet(user):
        client.force_login(user)
        r = client.get(reverse("projects:signins_xlsx", args=[ev.pk]))
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(b"".join(r.streaming_content) if r.streaming else r.content)).active
        return [row for row in ws.iter_rows(min_row=4, values_only=True)]

    rows = sheet(clerk)  # the organiser calls participants back
    assert [r[1] for r in rows] == ["李明", "王芳", "赵强"] and rows[0][3] == "13807711230"
    for user in (staff, head):
        rows = sheet(user)
        assert [r[3] for r in rows] == ["138****1230", "138****1231", "138****1232"]
        assert not any(re.search(r"1380771123\d", str(c)) for r in rows for c in r)
    # the page and the API mask alike
    client.force_login(staff)
    body = client.get(reverse("projects:event", args=[ev.pk])).content.decode()
    assert "138****1230" in body and "13807711230" not in body
    api = client.get(f"/api/v1/projects/events/{ev.pk}/signins").json()
    assert [r["phone"] for r in api] == ["138****1230", "138****1231", "138****1232"]
    # a unit that is not the project's sees nothing
    other = unit_of(call, name="另一个学会", prefix="o")[1]
    client.force_login(other)
    assert client.get(reverse("projects:signins_xlsx", args=[ev.pk])).status_code == 404
    assert client.get(f"/api/v1/projects/events/{ev.pk}/signins").status_code == 403


# --- R-P7: photos ------------------------------------------------------------------------------------------


def test_photo_kinds_types_and_count_per_event(load_call, unit_of, settings):
    # R-P7: 广西 2023-2 — 每项活动相片3-5张 (per event), kinds 全景/领导发言近景/专家报告近景
    call = load_call("guangxi2023")
    org, clerk, _h, _s = unit_of(call, category="society_party_branch")
    project = _project(call, org, "2023-2")
    rules = activities.photo_rules(project)
    assert rules.max_count == 5 and rules.min_count == 3 and rules.per_event
    kinds = [k for k, _m in rules.kinds]
    assert kinds == ["会场（调研、活动现场）全景", "领导发言近景", "专家报告近景"]
    a, _w = _event(clerk, project, title="党徽闪耀——红色课堂进学会")
    b, _w = _event(clerk, project, title="党旗领航——学会专家走基层")
    with pytest.raises(activities.Refused, match="相片类别须为"):
        activities.upload_photo(user=clerk, event=a, kind="合影", upload=_png())
    with pytest.raises(activities.Refused, match="JPG、PNG"):  # a PDF named .png is refused by its content
        activities.upload_photo(user=clerk, event=a, kind=kinds[0], upload=_pdf("fake.png"))
    settings.SHENBAO_PHOTO_MAX_MB = 1
    with pytest.raises(activities.Refused, match="不能超过 1 MB"):
        activities.upload_photo(user=clerk, event=a, kind=kinds[0], upload=_png(size=(900, 900), noise=True))
    for i in range(5):
        activities.upload_photo(user=clerk, event=a, kind=kinds[i % 3], upload=_png(f"{i}.png", color=(i, 9, 9)))
    with pytest.raises(activities.Refused, match="最多不超过 5 张"):
        activities.upload_photo(user=clerk, event=a, kind=kinds[0], upload=_jpg())
    assert EventPhoto.objects.filter(event=a).count() == 5
    activities.upload_photo(user=clerk, event=b, kind=kinds[0], upload=_jpg())  # another event has its own five
    status = activities.photo_status(project, a)
    assert status["total"] == 5 and [k["count"] for k in status["kinds"]] == [2, 2, 1]
    # a withdrawn photo makes room; its record and file stay
    p = EventPhoto.objects.filter(event=a).first()
    activities.withdraw_photo(user=clerk, photo=p)
    activities.upload_photo(user=clerk, event=a, kind=kinds[2], upload=_jpg(color=(1, 2, 3)))
    assert EventPhoto.objects.filter(event=a).count() == 6 and EventPhoto.objects.filter(event=a, withdrawn=False).count() == 5


def test_photo_max_over_the_project(load_call, unit_of, settings):
    # R-P7: 广西 2023-1 — at most 20 over the project, two each of four kinds
    call = load_call("guangxi2023")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2023-1")
    rules = activities.photo_rules(project)
    assert rules.max_count == 20 and not rules.per_event and [m for _k, m in rules.kinds] == [2, 2, 2, 2]
    a, _w = _event(clerk, project, title="党旗领航—千名学会专家走基层")
    b, _w = _event(clerk, project, title="党旗领航—千名学会专家走基层（二）")
    for i in range(20):
        activities.upload_photo(user=clerk, event=a if i < 12 else b, kind=rules.kinds[i % 4][0],
                                upload=_png(f"{i}.png", color=(i, i, 200)))
    with pytest.raises(activities.Refused, match="本项目的相片已有 20 张"):
        activities.upload_photo(user=clerk, event=b, kind=rules.kinds[0][0], upload=_jpg())


def test_photo_upload_page(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, _h, staff = unit_of(call)
    ev, _w = _event(clerk, _project(call, org, "2026-1", "lecture"), title="“八桂科技讲坛”报告会")
    client.force_login(clerk)
    url = reverse("projects:photo_upload", args=[ev.pk])
    r = client.post(url, {"kind": "全景", "photo": [_png("a.png"), _jpg("b.jpg")]}, follow=True)
    assert "已上传 2 张相片" in r.content.decode()
    p = EventPhoto.objects.filter(event=ev).first()
    assert client.get(reverse("projects:photo_file", args=[p.pk])).status_code == 200
    client.force_login(staff)  # the funder reads, does not upload
    r = client.post(url, {"kind": "全景", "photo": _png("c.png")}, follow=True)
    assert "只有项目承担单位" in r.content.decode()
    assert EventPhoto.objects.filter(event=ev).count() == 2


# --- R-P9: news --------------------------------------------------------------------------------------------


def test_news_with_link_and_screenshot(client, load_call, unit_of):
    # R-P9: news of each activity sent to the funder's site and public account
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    ev, _w = _event(clerk, project, title="“八桂科技讲坛”报告会")
    assert activities.news_outlets(project) == ["自治区科协网站", "自治区科协公众号"]
    with pytest.raises(activities.Refused, match="http"):
        activities.add_news(user=clerk, project=project, event=ev, title="报告会成功举办", outlet="自治区科协网站",
                            url="javascript:alert(1)", published_on=TODAY(), screenshot=_png())
    with pytest.raises(activities.Refused, match="截图"):
        activities.add_news(user=clerk, project=project, event=ev, title="报告会成功举办", outlet="自治区科协网站",
                            url="https://www.gxast.org.cn/news/1.html", published_on=TODAY(), screenshot=None)
    with pytest.raises(activities.Refused, match="JPG、PNG、PDF"):
        activities.add_news(user=clerk, project=project, event=ev, title="报告会成功举办", outlet="自治区科协网站",
                            url="https://www.gxast.org.cn/news/1.html", published_on=TODAY(),
                            screenshot=SimpleUploadedFile("s.png", b"not an image at all"))
    assert NewsItem.objects.count() == 0
    client.force_login(clerk)
    r = client.post(reverse("projects:news_add", args=[project.pk]),
                    {"event": ev.pk, "title": "“八桂科技讲坛”报告会成功举办", "outlet": "自治区科协公众号",
                     "url": "https://mp.weixin.qq.com/s/abc", "published_on": TODAY().isoformat(),
                     "screenshot": _png("shot.png")}, follow=True)
    assert "新闻报道已登记" in r.content.decode()
    item = NewsItem.objects.get()
    assert item.event == ev and item.screenshot_type == "png" and len(item.screenshot_sha256) == 64
    assert client.get(reverse("projects:news_screenshot", args=[item.pk])).status_code == 200
    assert "https://mp.weixin.qq.com/s/abc" in client.get(reverse("projects:event", args=[ev.pk])).content.decode()


# --- R-C8: deliverables -----------------------------------------------------------------------------------


def test_deliverables_late_means_not_completed(load_call, unit_of):
    # R-C8: 广西 2023-10's video due 2023-07-30; 逾期不报送视为没有按时完成项目
    call = load_call("guangxi2023")
    org, clerk, _h, _s = unit_of(call)
    on_time = _project(call, org, "2023-10", title="科普视频一")
    late = _project(call, org, "2023-10", title="科普视频二")
    missing = _project(call, org, "2023-10", title="科普视频三")
    [d] = activities.deliverables(on_time, today=dt.date(2023, 7, 1))
    assert (d.record.name, d.record.due, d.record.hard, d.state) == ("原创科普小视频", dt.date(2023, 7, 30), True, "due")
    with pytest.raises(activities.Refused, match="60–120 秒"):  # the spec's duration
        activities.deliver(user=clerk, record=d.record, link="https://v.example.cn/1", seconds=30,
                           today=dt.date(2023, 7, 20))
    s = activities.deliver(user=clerk, record=d.record, link="https://v.example.cn/1", seconds=90,
                           today=dt.date(2023, 7, 20))
    assert s.state == "on_time" and s.completed
    with pytest.raises(activities.Refused, match="已交付"):  # twice: refused
        activities.deliver(user=clerk, record=d.record, link="https://v.example.cn/2", seconds=90,
                           today=dt.date(2023, 7, 21))
    [d2] = activities.deliverables(late)
    s = activities.deliver(user=clerk, record=d2.record, upload=_pdf("video-script.pdf"), seconds=100,
                           today=dt.date(2023, 8, 2))
    assert s.state == "late" and not s.completed and "视为未完成" in s.label
    assert activities.deliverables_completed(late, dt.date(2023, 8, 2))[0] is False
    [d3] = activities.deliverables(missing, today=dt.date(2023, 7, 31))
    assert d3.state == "overdue" and not d3.completed
    ok, problems = activities.deliverables_completed(missing, dt.date(2023, 7, 31))
    assert not ok and "原创科普小视频" in problems[0]
    assert activities.deliverables_completed(on_time, dt.date(2023, 12, 1)) == (True, [])
    assert "project_deliverable.deliver" in [e.action for e in history(d.record)]


def test_deliverable_reminders_daily_once(load_call, unit_of, django_capture_on_commit_callbacks):
    # R-C8: reminded while due within a week, one mail per unit and day
    call = load_call("guangxi2023")
    org, _clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2023-10")
    activities.deliverables(project)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert activities.send_deliverable_reminders.call(day="2023-07-10") == 0  # 20 days ahead: not yet
        assert activities.send_deliverable_reminders.call(day="2023-07-25") == 1
    assert "原创科普小视频" in mail.outbox[0].body and "2023-07-30" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert activities.send_deliverable_reminders.call(day="2023-07-25") == 0  # the same day again: nothing
    assert len(mail.outbox) == 1
    from shenbao.core import daily

    assert "projects.deliverable_reminders" in daily.DAILY


# --- pages and API ----------------------------------------------------------------------------------------


def test_pages_register_and_list(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, _h, staff = unit_of(call)
    project = _project(call, org, "2026-1", "lecture")
    client.force_login(clerk)
    home = client.get(reverse("orgs:home")).content.decode()
    assert reverse("projects:mine") in home
    assert project.title in client.get(reverse("projects:mine")).content.decode()
    r = client.post(reverse("projects:event_new", args=[project.pk]), {"title": "", "starts_on": "2026-13-01"})
    assert r.status_code == 400 and "请填写活动名称" in r.content.decode()
    assert not Event.objects.exists()
    task = _task_with(project, "八桂科技讲坛")
    r = client.post(reverse("projects:event_new", args=[project.pk]), {
        "title": "人工智能学术报告会", "task": task, "starts_on": TODAY().isoformat(), "place": "南宁",
        "expected_participants": "80", "speaker_name": ["张教授"], "speaker_org": ["广西大学"],
        "speaker_topic": ["大模型"]}, follow=True)
    body = r.content.decode()
    assert "活动已登记" in body and "八桂科技讲坛" in body and "自治区民政厅" in body
    ev = Event.objects.get()
    assert ev.speakers == [{"name": "张教授", "organisation": "广西大学", "topic": "大模型"}]
    assert 'id="signin-qr"' in body and ev.signin_token in body
    client.force_login(staff)
    assert client.get(reverse("projects:detail", args=[project.pk])).status_code == 200
    assert client.get(reverse("projects:event_new", args=[project.pk])).status_code == 403


def test_api_events_filings_and_deliverables(client, load_call, unit_of):
    call = load_call("guangxi2026")
    org, clerk, _h, staff = unit_of(call)
    project = _project(call, org, "2026-3", "international")
    client.force_login(clerk)
    assert [p["id"] for p in client.get("/api/v1/projects/mine").json()] == [project.pk]
    r = client.post(f"/api/v1/projects/{project.pk}/events", {
        "title": "中国—东盟科技论坛", "starts_on": TODAY().isoformat(), "place": "南宁", "expected_participants": 120,
        "international": True, "countries": ["越南"]}, content_type="application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert any("现为2个" in w for w in data["warnings"])  # R-C4
    assert any("外事办报批" in w for w in data["warnings"])  # R-P6
    assert data["signin_url"].endswith(f"/projects/signin/{Event.objects.get().signin_token}/")
    f = next(x for x in data["filings"] if x["authority"] == "自治区外事办")
    r = client.post(f"/api/v1/projects/{project.pk}/filings", {"key": f["key"], "authority": "自治区外事办",
                    "filed_on": TODAY().isoformat(), "reference": "桂外批〔2026〕3号", "event": data["id"]},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["done"]
    r = client.post(f"/api/v1/projects/{project.pk}/events", {"title": "", "starts_on": TODAY().isoformat(),
                    "place": "", "expected_participants": 0}, content_type="application/json")
    assert r.status_code == 400 and set(r.json()["errors"]) == {"title", "place", "expected_participants"}
    r = client.post(f"/api/v1/projects/events/{data['id']}/photos", {"kind": "全景", "photo": _png()})
    assert r.status_code == 201 and r.json()["type"] == "png"
    assert client.get(f"/api/v1/projects/{project.pk}/deliverables").json() == []
    client.force_login(staff)
    r = client.post(f"/api/v1/projects/{project.pk}/events", {"title": "x", "starts_on": TODAY().isoformat(),
                    "place": "南宁", "expected_participants": 5}, content_type="application/json")
    assert r.status_code == 403 and "只有项目承担单位" in r.json()["detail"]


def test_event_evidence_for_acceptance_and_page_queries(client, load_call, unit_of, django_assert_max_num_queries):
    # R-P7, R-C4: what each event proves (held, sign-ins, countries from the sheet, naming, photos, news)
    call = load_call("guangxi2026")
    org, clerk, _h, _s = unit_of(call)
    project = _project(call, org, "2026-3", "international")
    ev, _w = _event(clerk, project, title="中国—东盟论坛", international=True, countries=["越南", "泰国"])
    later, _w = _event(clerk, project, title="跨区域论坛", day=TODAY() + dt.timedelta(days=30))
    for name, phone, country in [("A", "+84912345678", "越南"), ("B", "+85291234567", "香港"), ("C", "13807711234", "中国")]:
        activities.sign_in(event=ev, name=name, organisation="某大学", phone=phone, country=country)
    for i in range(3):
        activities.upload_photo(user=clerk, event=ev, kind="全景", upload=_png(f"{i}.png", color=(i, 2, 3)))
    rows = {r["event"].pk: r for r in activities.event_evidence(project)}
    assert rows[ev.pk]["held"] and not rows[later.pk]["held"]
    assert rows[ev.pk]["participants"] == 3
    # registered with three countries, the sheet shows two (Hong Kong is China): the sheet decides
    assert rows[ev.pk]["countries_incl_china"] == 2 and rows[ev.pk]["countries_ok"] is False
    assert rows[ev.pk]["photos"] == {"全景": 3} and rows[ev.pk]["filings_pending"]
    # the pages read in a fixed number of queries, whatever the sheet's and photos' sizes
    for i in range(20):
        activities.sign_in(event=ev, name=f"P{i}", organisation="某大学", phone=f"+6681234{i:04d}", country="泰国")
    client.force_login(clerk)
    with django_assert_max_num_queries(17):  # 16 and the contract, money and change sections' one query
        assert client.get(reverse("projects:detail", args=[project.pk])).status_code == 200
    with django_assert_max_num_queries(18):
        assert client.get(reverse("projects:event", args=[ev.pk])).status_code == 200
    client.logout()
    with django_assert_max_num_queries(16):
        r = client.post(reverse("projects:signin", args=[ev.signin_token]),
                        {"name": "D", "organisation": "某大学", "phone": "+84987654321", "country": "越南"})
    assert r.status_code == 302
    assert activities.event_evidence(project)[0]["countries_incl_china"] == 3
