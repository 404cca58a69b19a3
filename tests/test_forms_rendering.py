"""Rendering application forms and parsing their POST: every form of every call file round-trips with every
kind filled; labels as printed; errors beside their field; typed values kept; usable at 390px."""

from __future__ import annotations

import json
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.http import QueryDict

from shenbao.calls import schema
from shenbao.forms.rendering import parse_post, render_form
from shenbao.forms.validation import APPLICANT_OPINION_BY, PART_LABELS, all_fields, validate

CALLS = Path(settings.CALLS_DIR)
CALL_FILES = sorted(p for p in CALLS.glob("*.yaml") if not p.name.startswith("catalogue"))


def load(path: Path) -> schema.Call:
    return schema.load_text(path.read_text("utf-8"), str(path))


def call(filename: str) -> schema.Call:
    path = CALLS / filename
    if not path.exists():
        pytest.skip(f"{filename} is not in calls/ yet")
    return load(path)


def every_form() -> list:
    out = []
    for path in CALL_FILES:
        doc = load(path)
        for form in doc.forms:
            out.append(pytest.param(path.name, form.code, id=f"{path.stem}-{form.code}"))
    return out


def form_and_type(filename: str, code: str):
    doc = call(filename)
    form = next(f for f in doc.forms if f.code == code)
    ptype = next((t for t in doc.project_types if t.form == form.code
                  or (t.post_funding and t.post_funding.results_form == form.code)), None)
    return doc, form, ptype


# --- a browser's view of the rendered HTML ---------------------------------------------------------------


class _Controls(HTMLParser):
    """Collects what a browser would POST from the HTML: successful controls outside <template>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.in_template = 0
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self.in_template += 1
        if self.in_template or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                return
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
                return
            self.pairs.append((a["name"], a.get("value") or ""))
        elif tag == "textarea" and a.get("name"):
            self.textarea = (a["name"], [])

    def handle_endtag(self, tag):
        if tag == "template":
            self.in_template -= 1
        if tag == "textarea" and self.textarea:
            name, parts = self.textarea
            text = "".join(parts)
            if text.startswith("\n"):  # a newline right after <textarea> is not part of the value
                text = text[1:]
            self.pairs.append((name, text.replace("\n", "\r\n")))  # browsers send CRLF
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1].append(data)


def browser_post(html: str) -> QueryDict:
    p = _Controls()
    p.feed(str(html))
    qd = QueryDict(mutable=True)
    for k, v in p.pairs:
        qd.appendlist(k, v)
    return qd


def block(html: str, wrapper_id: str) -> str:
    """The HTML of one field, from its wrapper to the next field's wrapper."""
    start = html.index(f'id="{wrapper_id}"')
    nxt = html.find('class="sb-field', start + 10)
    return html[start: nxt if nxt > 0 else len(html)]


# --- sample values: every kind filled ----------------------------------------------------------------------


def scalar_sample(kind: str, label: str, unit: str, max_chars: int | None, i: int = 0):
    if kind == "text":
        return (f"{label}示例{i}")[: max_chars or 200]
    if kind == "long_text":
        return (f"第一段：{label}。\n第二段：具体内容{i}。")[: max_chars or 2000]
    return {
        "phone": "0772-2629066", "mobile": "13800138000", "email": "clerk@example.org",
        "url": "https://www.example.org/a", "date": "2026-05-01", "money": 15000 + i * 2500,
        "integer": 120 + i, "number": "1.5",
    }[kind]


PERSON_SAMPLES = {"phone": "0772-2629066", "office_phone": "0771-2630981", "mobile": "13800138000",
                  "email": "lead@example.org", "fax": "0772-2629067", "wechat": "wx_lead", "full_time": "full_time"}


def sample_values(form: schema.FormTemplate, ptype) -> dict:
    values: dict = {}

    def fill(f: schema.FormField):
        k = f.kind
        if k == "note":
            return
        if k == "opinion":
            if f.by in APPLICANT_OPINION_BY:
                values[f.key] = {"text": "同意申报，情况属实。", "signer": "张三", "date": "2026-03-20"}
            return
        if k in ("choice_one", "choice_many"):
            if f.options_from == "tracks":
                if not ptype or not ptype.tracks:
                    return
                codes = [t.code for t in ptype.tracks]
            else:
                codes = [o.value for o in f.options]
            picked = codes[:2] if k == "choice_many" and (f.options_from != "tracks" or ptype.multiple_tracks) \
                else codes[:1]
            values[f.key] = picked if k == "choice_many" else picked[0]
            for o in f.options:
                if o.follow_up and o.value in picked:
                    fill(o.follow_up)
            return
        if k == "person":
            values[f.key] = {p: PERSON_SAMPLES.get(p, f"{PART_LABELS[p]}示例") for p in f.parts}
            return
        if k == "period":
            values[f.key] = {"start": "2026-05-01", "end": "2026-06-30"}
            return
        if k == "table":
            values[f.key] = [
                {c.key: scalar_sample(c.kind, c.label, c.unit, c.max_chars, i) for c in f.columns} for i in range(2)
            ]
            return
        if k == "attachment":
            values[f.key] = {"name": "实施方案.pdf", "document_id": 7}
            return
        values[f.key] = scalar_sample(k, f.label, f.unit, f.max_chars)

    for f in form.all_fields():
        fill(f)
    return values


# --- the round trip ------------------------------------------------------------------------------------------


def test_every_call_file_is_covered():
    assert {p.name for p in CALL_FILES} >= {"liuzhou-2026-kcfn.yaml"}
    assert every_form(), "no forms found in calls/"


@pytest.mark.parametrize(("filename", "code"), every_form())
def test_render_parse_round_trip_with_every_kind_filled(filename, code):
    # R-F1 / R-F2: every form of every call renders and what the clerk typed comes back unchanged
    doc, form, ptype = form_and_type(filename, code)
    values = sample_values(form, ptype)
    html = render_form(form=form, values=values, errors={}, call_doc=doc, type_doc=ptype)
    raw = parse_post(form=form, data=browser_post(html))
    draft = validate(form=form, values=raw, call_doc=doc, type_doc=ptype, partial=True)
    assert draft.errors == {}
    assert draft.cleaned == values
    full = validate(form=form, values=raw, call_doc=doc, type_doc=ptype)
    assert full.cleaned == values  # the same clean values whatever the cross-field checks say


@pytest.mark.parametrize(("filename", "code"), every_form())
def test_rendered_form_shows_each_label_as_printed(filename, code):
    doc, form, ptype = form_and_type(filename, code)
    html = str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype))
    assert escape(form.title) in html
    for f in all_fields(form):
        assert escape(f.label) in html, f.key
        for part in f.parts:
            assert PART_LABELS[part] in html
        for c in f.columns:
            assert escape(c.label) in html
        if f.kind == "opinion" and f.signer:
            assert escape(f.signer) in html
    if ptype is not None and any(f.options_from == "tracks" for f in form.all_fields()):
        for t in ptype.tracks:
            assert escape(t.name) in html


@pytest.mark.parametrize(("filename", "code"), every_form())
def test_empty_form_round_trips_to_nothing(filename, code):
    doc, form, ptype = form_and_type(filename, code)
    html = render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype)
    raw = parse_post(form=form, data=browser_post(html))
    assert validate(form=form, values=raw, call_doc=doc, type_doc=ptype, partial=True).cleaned == {}


# --- errors beside their fields, typed values kept ----------------------------------------------------------


def test_errors_are_shown_beside_their_field_and_typed_text_is_kept():
    # R-F2: 800-character limit shown beside 工作总结综述, the 812 characters kept for editing
    doc, form, ptype = form_and_type("liuzhou-2026-kcfn.yaml", "F1")
    post = QueryDict(mutable=True)
    post["f-work_summary"] = "学" * 812
    post["f-project_lead-name"] = "张三"
    post["f-project_lead-phone"] = "0772-26290"
    raw = parse_post(form=form, data=post)
    res = validate(form=form, values=raw, call_doc=doc, type_doc=ptype)
    html = str(render_form(form=form, values=raw, errors=res.errors, call_doc=doc, type_doc=ptype))
    summary_block = block(html, "fld-work_summary")
    assert "不超过800字，当前812字" in summary_block
    assert "学" * 812 in summary_block
    assert "已输入 812 / 800 字" in summary_block and "sb-over" in summary_block
    lead = block(html, "fld-project_lead")
    phone_at = lead.index('name="f-project_lead-phone"')
    assert lead.index("请填写正确的电话号码", phone_at) > phone_at
    assert 'value="0772-26290"' in lead
    assert block(html, "fld-applicant_unit").count("请填写项目承担单位") == 1
    # and the summary at the top links to each field
    assert 'href="#fld-work_summary"' in html


def test_money_typed_wrong_is_kept_and_explained():
    doc, form, ptype = form_and_type("changde-2022-xhfw.yaml", "F3")
    post = QueryDict(mutable=True)
    post["f-city_funds"] = "abc"
    post["f-expenses-0-item"] = "会务费"
    post["f-expenses-0-amount"] = "1.5万"
    post["f-expenses-3-item"] = "宣传费"
    post["f-expenses-3-amount"] = "x"
    raw = parse_post(form=form, data=post)
    assert raw["expenses"] == [{"item": "会务费", "amount": "1.5万"}, {"item": "宣传费", "amount": "x"}]
    res = validate(form=form, values=raw, call_doc=doc, type_doc=ptype, partial=True)
    assert res.errors == {"city_funds": ["请填写金额数字（单位：万元），如 1.5"],
                          "expenses[1].amount": ["第2行：请填写金额数字（单位：万元），如 1.5"]}
    html = str(render_form(form=form, values=raw, errors=res.errors, call_doc=doc, type_doc=ptype))
    funds = block(html, "fld-city_funds")
    assert 'value="abc"' in funds and "请填写金额数字（单位：万元），如 1.5" in funds and "万元" in funds
    cell_at = html.index('name="f-expenses-1-amount"')
    assert html[cell_at:].index("第2行：请填写金额数字") < html[cell_at:].index("</td>")
    again = parse_post(form=form, data=browser_post(html))  # typed values survive another round
    assert again["city_funds"] == "abc"
    assert [{k: v for k, v in r.items() if v} for r in again["expenses"]] == raw["expenses"]
    second = validate(form=form, values=again, call_doc=doc, type_doc=ptype, partial=True)
    assert (second.cleaned, second.errors) == (res.cleaned, res.errors)


def test_several_tracks_ticked_in_a_crafted_post_are_refused():
    # R-C3
    doc, form, ptype = form_and_type("guangxi-2026-tzzx.yaml", "F1")
    post = QueryDict("f-track=lecture&f-track=service")
    raw = parse_post(form=form, data=post)
    assert raw["track"] == ["lecture", "service"]
    res = validate(form=form, values=raw, call_doc=doc, type_doc=ptype)
    assert res.errors["track"] == ["只能勾选一个申报类型"]
    html = str(render_form(form=form, values={"track": "lecture"}, errors={}, call_doc=doc, type_doc=ptype))
    track = block(html, "fld-track")
    assert track.count('type="radio"') == len(ptype.tracks)
    assert "不超过1.5万元/个" in track  # each track shows its own cap


def test_table_rows_added_by_script_with_gaps_are_parsed_in_order():
    doc, form, ptype = form_and_type("guangxi-2026-tzzx.yaml", "F7")
    post = QueryDict(mutable=True)
    post["f-final_accounts-7-item"] = "宣传费"
    post["f-final_accounts-7-amount"] = "0.5"
    post["f-final_accounts-0-item"] = "会务费"
    post["f-final_accounts-0-amount"] = "1"
    post["f-final_accounts-2-item"] = ""
    post["f-final_accounts-2-amount"] = ""
    raw = parse_post(form=form, data=post)
    assert raw["final_accounts"] == [{"item": "会务费", "amount": "1"}, {"item": "宣传费", "amount": "0.5"}]
    html = str(render_form(form=form, values=raw, errors={}, call_doc=doc, type_doc=ptype))
    table = block(html, "fld-final_accounts")
    assert "<output>1.5</output>" in table  # the total, server-side, in 万元
    assert "data-sb-add-row" in table and "data-sb-remove-row" in table


def test_removing_every_row_posts_an_empty_table():
    _doc, form, _ptype = form_and_type("guangxi-2026-tzzx.yaml", "F7")
    raw = parse_post(form=form, data=QueryDict("f-final_accounts-shown=1&f-members-shown=1"))
    assert raw == {"members": [], "final_accounts": []}


def test_opinion_of_another_organisation_is_read_only_for_the_applicant():
    # R-F3 / R-E9: 属地市科协或高校科协意见 shows who signs; only the applicant's own block has inputs
    doc, form, ptype = form_and_type("guangxi-2026-tzzx.yaml", "F4")
    html = str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype))
    home = block(html, "fld-opinion_home")
    assert "<input" not in home and "<textarea" not in home
    assert "由属地市科协或高校科协填写并签署" in home and "单位负责人签字" in home and "承担单位盖章" in home
    unit = block(html, "fld-opinion_unit")
    assert 'name="f-opinion_unit-text"' in unit and 'name="f-opinion_unit-signer"' in unit
    # the association itself gets the inputs
    html = str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype,
                           opinion_by={"home_or_university_association"}))
    assert 'name="f-opinion_home-text"' in block(html, "fld-opinion_home")


def test_follow_up_is_rendered_with_its_option():
    doc, form, ptype = form_and_type("guangxi-2023-tzzx.yaml", "F1")
    field = next(f for f in form.all_fields() if f.key == "finance_rules")
    opt = next(o for o in field.options if o.follow_up)
    html = str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype))
    fu = block(html, f"fld-{opt.follow_up.key}")
    assert f'data-follow-up-of="f-finance_rules" data-when="{opt.value}"' in fu
    assert escape(opt.follow_up.label) in fu


def test_read_only_rendering_shows_values_without_inputs():
    doc, form, ptype = form_and_type("changde-2022-xhfw.yaml", "F3")
    values = sample_values(form, ptype)
    html = str(render_form(form=form, values=values, errors={}, call_doc=doc, type_doc=ptype, editable=False))
    assert "<input" not in html and "<textarea" not in html
    assert "1.5 万元" in block(html, "fld-budget_total")
    assert "☑ 重点学会建设" in block(html, "fld-project_kind")


def test_attachment_keeps_the_stored_file_and_offers_an_upload():
    form = schema.FormTemplate.model_validate({"code": "T", "title": "测试表", "sections": [{"fields": [
        {"key": "agreement", "label": "合作协议", "kind": "attachment", "accept": ["pdf", "jpg"], "max_mb": 10}]}]})
    values = {"agreement": {"name": "协议.pdf", "document_id": 12}}
    html = str(render_form(form=form, values=values, errors={"agreement": ["请上传合作协议"]},
                           attachment_url=lambda v: f"/documents/{v['document_id']}/"))
    assert 'type="file"' in html and 'accept=".pdf,.jpg,.jpeg"' in html and "PDF、JPG，不超过 10 MB" in html
    assert 'href="/documents/12/"' in html and "请上传合作协议" in html
    assert validate(form=form, values=parse_post(form=form, data=browser_post(html))).cleaned == values
    cleared = browser_post(html)
    cleared["f-agreement-clear"] = "1"
    assert parse_post(form=form, data=cleared) == {}


# --- in a browser, 390px wide ----------------------------------------------------------------------------


def _page_html(form_html: str, form_attrs: str = "", after: str = "") -> str:
    root = Path(__file__).resolve().parent.parent / "src" / "shenbao"
    site = (root / "static" / "shenbao" / "css" / "site.css").read_text("utf-8")
    css = (root / "forms" / "static" / "forms" / "forms.css").read_text("utf-8")
    js = (root / "forms" / "static" / "forms" / "forms.js").read_text("utf-8")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{site}</style>'
            f'<style>{css}</style></head><body><main class="page"><form method="post" novalidate {form_attrs}>{form_html}'
            f'{after}</form></main><script>{js}</script></body></html>')


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_form_is_usable_on_a_390px_phone(page, artifacts):
    doc, form, ptype = form_and_type("changde-2022-xhfw.yaml", "F3")
    ptype = doc.project_type("2-2")
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(_page_html(str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype))))
    # no sideways scrolling of the page: only tables scroll inside their frame
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    name = page.locator("#f-project_name")
    box = name.bounding_box()
    assert box["width"] > 300  # inputs take the width of the phone
    table = page.locator("#fld-expenses")
    rows = table.locator("tbody tr")
    n = rows.count()
    table.locator("[data-sb-add-row]").click()
    assert rows.count() == n + 1
    assert page.locator(f"#f-expenses-{n}-seq").get_attribute("placeholder") == str(n + 1)  # 序号
    page.fill("#f-expenses-0-amount", "1.5")
    page.fill(f"#f-expenses-{n}-amount", "1")
    rows.nth(1).locator("[data-sb-remove-row]").click()
    assert rows.count() == n
    wrap = page.locator("#fld-expenses .table-wrap")
    assert wrap.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside its frame
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "forms-changde-f3-390.png"), full_page=True)
    # the browser's POST of what was typed parses into the values the server validates
    data = page.evaluate("""() => { const out = []; new FormData(document.querySelector('form'))
        .forEach((v, k) => { if (typeof v === 'string') out.push([k, v]); }); return out; }""")
    qd = QueryDict(mutable=True)
    for k, v in data:
        qd.appendlist(k, v)
    raw = parse_post(form=form, data=qd)
    assert validate(form=form, values=raw, call_doc=doc, type_doc=ptype, partial=True).cleaned["expenses"] == [
        {"amount": 15000}, {"amount": 10000}]

    # live totals (广西 2026 附表7 经费决算表, 金额（万元）)
    doc26, form26, ptype26 = form_and_type("guangxi-2026-tzzx.yaml", "F7")
    page.set_content(_page_html(str(render_form(form=form26, values={}, errors={}, call_doc=doc26, type_doc=ptype26))))
    total = page.locator("#fld-final_accounts [data-sb-total=amount] output")
    rows = page.locator("#fld-final_accounts tbody tr")
    n = rows.count()
    page.locator("#fld-final_accounts [data-sb-add-row]").click()
    page.fill("#f-final_accounts-0-amount", "1.5")
    page.fill("#f-final_accounts-1-amount", "0.25")
    page.fill(f"#f-final_accounts-{n}-amount", "1")
    assert total.inner_text() == "2.75"
    rows.nth(1).locator("[data-sb-remove-row]").click()
    assert total.inner_text() == "2.5"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_counter_totals_over_cap_and_follow_ups_live(page, artifacts):
    # R-F2: the counter counts characters as the clerk types
    doc, form, ptype = form_and_type("liuzhou-2026-kcfn.yaml", "F1")
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(_page_html(str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype))))
    page.fill("#f-work_summary", "学" * 801)
    counter = page.locator("#count-work_summary")
    assert counter.inner_text() == "已输入 801 / 800 字，超出 1 字"
    assert "sb-over" in counter.get_attribute("class")
    page.fill("#f-work_summary", "学" * 800)
    assert counter.inner_text() == "已输入 800 / 800 字"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "forms-liuzhou-f1-390.png"), full_page=True)

    # a cap taken from the ticked track, live
    doc26 = call("guangxi-2026-tzzx.yaml")
    lecture_type = doc26.project_type("2026-1")
    cap_form = schema.FormTemplate.model_validate({"code": "T", "title": "测试表", "sections": [{"fields": [
        {"key": "track", "label": "申报类型", "kind": "choice_one", "options_from": "tracks"},
        {"key": "expenses", "label": "经费支出预算表", "kind": "table", "columns": [
            {"key": "item", "label": "支出项目内容"}, {"key": "amount", "label": "金额", "kind": "money", "unit": "wan"}],
         "totals": [{"column": "amount", "label": "合计", "max_from": "cap"}]}]}]})
    page.set_content(_page_html(str(render_form(form=cap_form, values={}, errors={}, type_doc=lecture_type))))
    page.fill("#f-expenses-0-amount", "2")
    total = page.locator("[data-sb-total=amount]")
    page.check("#f-track-opt0")  # lecture: ≤1.5万
    assert "sb-over" in total.get_attribute("class")
    assert total.locator("[data-sb-cap-text]").inner_text() == "不超过1.5万元"
    page.check("#f-track-opt1")  # service: ≤4万
    assert "sb-over" not in total.get_attribute("class")
    assert total.locator("[data-sb-cap-text]").inner_text() == "不超过4万元"

    # a follow-up appears when its option is ticked
    doc23, form23, ptype23 = form_and_type("guangxi-2023-tzzx.yaml", "F1")
    field = next(f for f in form23.all_fields() if f.key == "finance_rules")
    opt = next(o for o in field.options if o.follow_up)
    page.set_content(_page_html(str(render_form(form=form23, values={}, errors={}, call_doc=doc23, type_doc=ptype23))))
    follow = page.locator(f"#fld-{opt.follow_up.key}")
    assert not follow.is_visible()
    index = [o.value for o in field.options].index(opt.value)
    page.check(f"#f-finance_rules-opt{index}")
    assert follow.is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_autosave_posts_the_draft_and_shows_the_answer(page):
    doc, form, ptype = form_and_type("liuzhou-2026-kcfn.yaml", "F2")
    html = _page_html(
        str(render_form(form=form, values={}, errors={}, call_doc=doc, type_doc=ptype)),
        form_attrs='data-sb-autosave="/forms-test/autosave/"',
        after='<input type="hidden" name="version" value="4"><p data-sb-autosave-status aria-live="polite"></p>',
    )
    seen = []

    def serve(route):
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    def autosave(route):
        seen.append(route.request)
        if len(seen) == 1:
            route.fulfill(status=200, content_type="application/json", body=json.dumps({"ok": True, "version": 5}))
        else:
            route.fulfill(status=409, content_type="application/json",
                          body=json.dumps({"ok": False, "message": "此申报已被他人修改，请刷新后再保存"}))

    page.route(f"{page.base}/forms-test/", serve)
    page.route(f"{page.base}/forms-test/autosave/", autosave)
    page.goto(f"{page.base}/forms-test/")
    page.fill("#f-project_name", "龙城科创大讲堂·智能网联汽车")
    page.wait_for_function("document.querySelector('input[name=version]').value === '5'")
    status = page.locator("[data-sb-autosave-status]")
    assert status.inner_text().startswith("已自动保存")
    first = seen[0]
    assert first.method == "POST" and first.headers.get("x-shenbao-autosave") == "1"
    body = first.post_data_buffer.decode("utf-8")
    assert "龙城科创大讲堂·智能网联汽车" in body and 'name="autosave"' in body and 'name="version"' in body
    # a conflict: the server's message is shown and the typed text stays on the page
    page.fill("#f-goals", "预期成果：举办1场50人以上的学术交流活动")
    page.wait_for_function("document.querySelector('[data-sb-autosave-status]').classList.contains('sb-error')")
    assert status.inner_text() == "此申报已被他人修改，请刷新后再保存"
    assert page.input_value("#f-goals") == "预期成果：举办1场50人以上的学术交流活动"


@pytest.mark.parametrize("junk", [None, True, 3, "abc", [], {}, [None, "x"], {"rows": 5}, [{"amount": ["1"]}]])
def test_malformed_values_never_break_the_page(junk):
    doc, form, ptype = form_and_type("guangxi-2026-tzzx.yaml", "F7")
    values = {f.key: junk for f in all_fields(form)}
    res = validate(form=form, values=values, call_doc=doc, type_doc=ptype)
    assert res.errors  # the required fields are reported, nothing raised
    html = str(render_form(form=form, values=values, errors=res.errors, call_doc=doc, type_doc=ptype))
    assert 'id="fld-final_accounts"' in html
    assert str(render_form(form=form, values=values, errors={}, call_doc=doc, type_doc=ptype, editable=False))
