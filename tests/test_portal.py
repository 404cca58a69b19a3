"""The public portal and the call page: what a reader of the notice sees, compared with the loaded file."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
import yaml
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from shenbao.calls import services
from shenbao.calls.models import Call
from tests.conftest import CALL_FILES, CALLS

EXISTING = [name for name, f in CALL_FILES.items() if (CALLS / f).exists()]

# --- a little HTML reading (stdlib only) -------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Finder(HTMLParser):
    """Collects the text of every element whose attributes include all of `want`."""

    def __init__(self, want: dict[str, str | None]):
        super().__init__(convert_charrefs=True)
        self.want, self.found, self.stack = want, [], []

    def _match(self, attrs) -> bool:
        a = dict(attrs)
        return all(k in a and (v is None or a[k] == v or (k == "class" and v in (a[k] or "").split()))
                   for k, v in self.want.items())

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        for entry in self.stack:
            entry[1] += 1 if entry[0] == tag else 0
        if self._match(attrs):
            self.stack.append([tag, 0, []])

    def handle_endtag(self, tag):
        for entry in list(self.stack):
            if entry[0] == tag:
                if entry[1] == 0:
                    self.stack.remove(entry)
                    self.found.append(" ".join("".join(entry[2]).split()))
                else:
                    entry[1] -= 1

    def handle_data(self, data):
        for entry in self.stack:
            entry[2].append(data)


def texts(html: str, **want) -> list[str]:
    """Texts of the elements with these attributes (data_type → data-type; class_ matches one class)."""
    parser = _Finder({k.rstrip("_").replace("_", "-"): v for k, v in want.items()})
    parser.feed(html)
    return parser.found


def text_of(html: str, **want) -> str:
    found = texts(html, **want)
    assert found, f"no element with {want}"
    return found[0]


def flat(s: str) -> str:
    return " ".join(s.split())


# --- calls with dates relative to now -----------------------------------------------------------------------


def set_dates(call: Call, *, deadline: dt.timedelta, opens: dt.timedelta | None = None) -> Call:
    now = timezone.now()
    Call.objects.filter(pk=call.pk).update(deadline=now + deadline, opens_at=(now + opens) if opens else None)
    call.refresh_from_db()
    return call


def variant(base: Call, *, code: str, issuer: str | None = None, mutate=None, publish: bool | None = True,
            actor=None) -> Call:
    """Another call made from a loaded one's YAML: a new code, maybe another issuer, maybe other changes."""
    data = yaml.safe_load(base.source_yaml)
    data["code"] = code
    data["title"] = f"{data['title']}（{code}）"
    if issuer:
        data["issuer"]["name"] = issuer
        data["issuer"]["short_name"] = ""
    if mutate:
        mutate(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return services.load_call(text=text, filename=f"{code}.yaml", actor=actor, publish=publish).call


@pytest.fixture
def liuzhou(load_call):
    return set_dates(load_call("liuzhou2026"), deadline=dt.timedelta(days=10))


# --- the portal ---------------------------------------------------------------------------------------------


def test_portal_groups_published_calls_by_funder_and_phase(client, liuzhou):
    closed = set_dates(variant(liuzhou, code="lz-closed"), deadline=-dt.timedelta(days=1))
    upcoming = set_dates(variant(liuzhou, code="gl-upcoming", issuer="桂林市科学技术协会"),
                         opens=dt.timedelta(days=2), deadline=dt.timedelta(days=30))
    hidden = set_dates(variant(liuzhou, code="lz-draft", publish=False), deadline=dt.timedelta(days=5))

    html = client.get(reverse("calls:portal")).content.decode()

    # each call carries the phase the clock gives it
    for call, phase in [(liuzhou, "open"), (closed, "closed"), (upcoming, "upcoming")]:
        assert call.phase == phase
        assert re.search(rf'data-phase="{phase}" data-code="{call.code}"', html), call.code
    # grouped by funder: each call's card sits in its issuer's section
    sections = {}
    for issuer in (liuzhou.issuer, upcoming.issuer):
        sections[issuer.name] = text_of(html, id=f"funder-{issuer.pk}")
        assert sections[issuer.name].startswith(issuer.name)
    assert liuzhou.title in sections[liuzhou.issuer.name] and closed.title in sections[liuzhou.issuer.name]
    assert upcoming.title not in sections[liuzhou.issuer.name]
    assert upcoming.title in sections[upcoming.issuer.name]
    # open before closed within a funder
    assert sections[liuzhou.issuer.name].index(liuzhou.title) < sections[liuzhou.issuer.name].index(closed.title)
    # unpublished calls are not shown
    assert hidden.title not in html and hidden.code not in html


def test_portal_filters_by_phase(client, liuzhou):
    closed = set_dates(variant(liuzhou, code="lz-closed"), deadline=-dt.timedelta(days=1))
    upcoming = set_dates(variant(liuzhou, code="lz-upcoming"), opens=dt.timedelta(days=1),
                         deadline=dt.timedelta(days=9))
    for phase, shown in [("open", liuzhou), ("closed", closed), ("upcoming", upcoming)]:
        html = client.get(reverse("calls:portal"), {"phase": phase}).content.decode()
        codes = set(re.findall(r'data-phase="\w+" data-code="([^"]+)"', html))
        assert codes == {shown.code}, (phase, codes)
    html = client.get(reverse("calls:portal"), {"phase": "nonsense"}).content.decode()
    assert set(re.findall(r'data-code="([^"]+)"', html)) == {liuzhou.code, closed.code, upcoming.code}


def test_unpublishing_hides_a_call_from_the_portal(client, liuzhou):
    assert liuzhou.title in client.get(reverse("calls:portal")).content.decode()
    services.set_published(call=liuzhou, published=False)
    assert liuzhou.title not in client.get(reverse("calls:portal")).content.decode()
    assert client.get(reverse("calls:call_detail", args=[liuzhou.code])).status_code == 404


# --- the call page ------------------------------------------------------------------------------------------


def test_call_page_shows_the_notice_fields(client, liuzhou):  # R-C1
    doc = liuzhou.document
    html = client.get(reverse("calls:call_detail", args=[liuzhou.code])).content.decode()
    head = text_of(html, class_="notice-head")
    for value in (doc.issuer.name, doc.document_number, doc.title, str(doc.year), doc.programme):
        assert value in head
    assert flat(doc.addressees) in flat(html) and flat(doc.summary) in flat(html)
    # submission channels, paper copies and contacts of the call
    submission = text_of(html, id="submission")
    for ch in doc.submission.channels:
        assert ch.target in submission
    assert f"纸质材料 {doc.submission.paper_copies} 份" in submission
    contacts = text_of(html, id="contacts")
    for c in doc.contacts:
        assert c.name in contacts and c.phone in contacts and c.mobile in contacts


@pytest.mark.parametrize("server_zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_deadline_is_shown_in_shanghai_time_with_a_countdown(client, load_call, server_zone):  # R-C1, R-E7
    call = load_call("liuzhou2026")
    doc = call.document
    local = doc.deadline.astimezone(dt.timezone(dt.timedelta(hours=8)))
    with override_settings(TIME_ZONE=server_zone):
        html = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    box = text_of(html, id="deadline")
    assert f"{local.year}年{local.month}月{local.day}日" in box and local.strftime("%H:%M") in box
    # the countdown script gets the absolute instant, with its offset
    assert f'data-deadline="{local.isoformat()}"' in html
    assert local.isoformat().endswith("+08:00")
    countdown = text_of(html, class_="countdown")
    if timezone.now() >= doc.deadline:
        assert countdown == "已截止"
    else:
        assert countdown.startswith("距截止")


def test_countdown_text_is_rendered_by_the_server(client, liuzhou):
    html = client.get(reverse("calls:call_detail", args=[liuzhou.code])).content.decode()
    text = text_of(html, class_="countdown")
    m = re.match(r"距截止 (\d+) 天 (\d+) 小时", text)
    assert m and int(m.group(1)) in (9, 10), text
    closed = set_dates(liuzhou, deadline=-dt.timedelta(minutes=1))
    html = client.get(reverse("calls:call_detail", args=[closed.code])).content.decode()
    assert text_of(html, class_="countdown") == "已截止"


@pytest.mark.parametrize("name", EXISTING)
def test_types_table_shows_the_values_of_the_file(client, load_call, name):  # R-C2
    call = load_call(name)
    doc = call.document
    html = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    table = text_of(html, class_="types-table")
    for t in doc.project_types:
        row = text_of(html, data_type=t.code)
        assert row in table
        assert t.code in row and flat(t.name) in row
        # the type's own quota and funding, else its tracks' ones
        if t.quota:
            assert t.quota.text() in row
        else:
            for tr in t.tracks:
                if tr.quota:
                    assert f"{flat(tr.name)}{tr.quota.text()}" in row
        if t.funding:
            assert t.funding.text() in row
        else:
            for tr in t.tracks:
                if tr.funding:
                    assert f"{flat(tr.name)}{tr.funding.text()}" in row
        # who may apply: the group labels (or category names), or the named applicant
        elig = doc.effective(t, "eligibility")
        if t.named_applicants:
            for a in t.named_applicants:
                assert a.name in row
        else:
            for g in (elig.groups if elig and elig.groups else []):
                if g.label:
                    assert flat(g.label) in row
        contacts = doc.effective(t, "contacts") or doc.contacts
        for c in contacts:
            assert c.name in row and (c.phone or c.mobile) in row
        has_form = (doc.form_for(t) or doc.results_form_for(t)) is not None  # R-C6: a results form too
        assert ("PDF" in row and "DOCX" in row) == has_form


def test_liuzhou_types_table_matches_the_notice(client, liuzhou):  # R-C2
    html = client.get(reverse("calls:call_detail", args=[liuzhou.code])).content.decode()
    row = text_of(html, data_type="2026-4")
    # the notice's own words for the applicants and the 1-2 万元 range
    assert "2025年广西壮族自治区博士创新站柳州市各建站单位" in row
    assert "4个" in row and "1—2万元/个" in row
    assert "0772-2629066" in row
    row2 = text_of(html, data_type="2026-2")
    for label in ("柳州市各县（区）科协", "柳州市科协所属学会（协会）", "企业（园区）科协", "高校科协"):
        assert label in row2


def test_type_sections_show_content_tasks_acceptance_and_rules(client, liuzhou):  # R-C4, R-P7
    doc = liuzhou.document
    html = client.get(reverse("calls:call_detail", args=[liuzhou.code])).content.decode()
    for t in doc.project_types:
        section = texts(html, data_type=t.code)[1]  # [0] is the table row, [1] the type's section
        assert flat(t.content) in section
        for task in t.tasks:
            assert flat(task.text) in section
            for n in task.naming:
                assert f"名称须含“{n}”" in section
            for v in task.minimums.values():
                assert f"≥ {v:g}" in section
        acceptance = doc.effective(t, "acceptance")
        for m in acceptance.materials:
            assert flat(m.name) in section
        if acceptance.due and acceptance.due.text:
            assert acceptance.due.text in section
        for p in (doc.effective(t, "eligibility").preferences or []) if doc.effective(t, "eligibility") else []:
            assert flat(p) in section
        assert doc.defaults.completion_text in section
    # the call's common rules: joint applications, per-unit limit, post-award rules
    rules = text_of(html, id="rules")
    assert doc.defaults.joint.note in rules
    assert f"不超过 {doc.max_applications_per_unit} 个" in rules
    assert doc.defaults.post_award.disbursement.note in rules
    assert doc.defaults.post_award.change_requests in rules


def test_type_acceptance_overrides_the_defaults(client, liuzhou):  # R-P7
    """2026-5 lists its own materials (a case study); 2026-1 falls back to the call's defaults."""
    doc = liuzhou.document
    html = client.get(reverse("calls:call_detail", args=[liuzhou.code])).content.decode()
    own = {m.name for m in doc.project_types[4].acceptance.materials}
    default = {m.name for m in doc.defaults.acceptance.materials}
    section1, section5 = texts(html, data_type="2026-1")[1], texts(html, data_type="2026-5")[1]
    for name in own - default:
        assert flat(name) in section5 and flat(name) not in section1
    for name in default - own:
        assert flat(name) in section1 and flat(name) not in section5


def test_tracks_show_their_own_quota_funding_and_tasks(client, liuzhou):  # R-C3
    def add_tracks(data):
        t = data["project_types"][0]
        t.pop("quota")
        t["tracks"] = [
            {"code": "forum", "name": "论坛类", "quota": {"kind": "at_most", "n": 3},
             "funding": {"kind": "fixed", "amount": 30000},
             "tasks": [{"text": "举办论坛1场", "minimums": {"participants": 100}, "naming": ["八桂科技讲坛"]}]},
            {"code": "visit", "name": "服务类", "quota": {"kind": "range", "min": 2, "max": 4}},
        ]

    call = variant(liuzhou, code="lz-tracks", mutate=add_tracks)
    doc = call.document
    html = client.get(reverse("calls:call_detail", args=[call.code])).content.decode()
    ptype = doc.project_types[0]
    for tr in ptype.tracks:
        row = text_of(html, data_track=tr.code)
        assert tr.name in row and tr.quota.text() in row
        assert (tr.funding or ptype.funding).text() in row
        for task in tr.tasks:
            assert task.text in row and f"名称须含“{task.naming[0]}”" in row
    # the types table sums up the tracks' quotas
    type_row = text_of(html, data_type=ptype.code)
    for tr in ptype.tracks:
        assert f"{tr.name}{tr.quota.text()}" in type_row


def test_an_unpublished_call_is_404_for_the_public_and_a_preview_for_its_funder(client, load_call, make_user):
    call = load_call("liuzhou2026", publish=False)
    url = reverse("calls:call_detail", args=[call.code])
    assert client.get(url).status_code == 404
    assert client.get(reverse("calls:blank_form", args=[call.code, "2026-1"]) + "?format=pdf").status_code == 404
    staff = make_user("lz_staff", org=call.issuer, roles=("funder_staff",))
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200 and "尚未发布" in response.content.decode()


def test_unknown_call_is_404(client, db):
    assert client.get(reverse("calls:call_detail", args=["no-such-call"])).status_code == 404


# --- blank forms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type", "magic"), [
    ("pdf", "application/pdf", b"%PDF"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
])
def test_blank_form_downloads(client, liuzhou, fmt, content_type, magic):  # R-F1
    doc = liuzhou.document
    for t in doc.project_types:
        form = doc.form_for(t)
        response = client.get(reverse("calls:blank_form", args=[liuzhou.code, t.code]) + f"?format={fmt}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response.content.startswith(magic)
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        m = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
        assert m, disposition
        name = unquote(m.group(1))
        assert name.endswith(f".{fmt}") and form.title in name and t.code in name
        assert disposition.isascii()
        assert f'filename="{liuzhou.code}-{t.code}.{fmt}"' in disposition


def test_blank_form_unknown_type_or_format_is_404(client, liuzhou):
    url = reverse("calls:blank_form", args=[liuzhou.code, "2026-1"])
    assert client.get(url + "?format=exe").status_code == 404
    assert client.get(reverse("calls:blank_form", args=[liuzhou.code, "9999-9"])).status_code == 404
