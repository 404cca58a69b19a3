"""The form engine's validation: each rule with a failing and a passing value, on the real call files where
they have the shape (柳州 附表1's 800 characters, 广西 2026's tracks, 常德's budget) and on small templates
built here where no call has it yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from shenbao.calls import schema
from shenbao.forms.validation import cel_form_context, validate

CALLS = Path(settings.CALLS_DIR)


def call(filename: str) -> schema.Call:
    path = CALLS / filename
    if not path.exists():
        pytest.skip(f"{filename} is not in calls/ yet (being encoded by a colleague)")
    return schema.load_text(path.read_text("utf-8"), str(path))


def form_of(doc: schema.Call, type_code: str) -> tuple[schema.FormTemplate, schema.ProjectType]:
    ptype = doc.project_type(type_code)
    return doc.form_for(ptype) or doc.results_form_for(ptype), ptype


def small_form(*fields: dict, checks: list[dict] | None = None) -> schema.FormTemplate:
    return schema.FormTemplate.model_validate(
        {"code": "T", "title": "测试表", "sections": [{"fields": list(fields)}], "checks": checks or []}
    )


def small_type(**over) -> schema.ProjectType:
    data = {"code": "T-1", "name": "测试项目", "quota": {"kind": "exactly", "n": 1},
            "funding": {"kind": "range", "min": 10000, "max": 20000}}
    data.update(over)
    return schema.ProjectType.model_validate(data)


def errors_of(form, values, **kw) -> dict[str, list[str]]:
    return validate(form=form, values=values, **kw).errors


# --- required, partial drafts ------------------------------------------------------------------------------


def test_required_field_missing_and_filled_on_liuzhou_form_1():
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-1")
    missing = errors_of(form, {}, type_doc=ptype)
    assert missing["applicant_unit"] == ["请填写项目承担单位"]
    assert missing["work_summary"] == ["请填写学会党建，学会服务创新、服务社会和政府事务、服务科技工作者、自身建设工作总结综述"]
    assert "supporting_unit" not in missing  # 学会支撑单位 is optional
    filled = validate(form=form, values={"applicant_unit": "  柳州市机械工程学会 "}, type_doc=ptype)
    assert "applicant_unit" not in filled.errors
    assert filled.cleaned["applicant_unit"] == "柳州市机械工程学会"


def test_partial_draft_checks_formats_but_not_required_ness():
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-2")
    draft = validate(form=form, values={"project_name": "龙城科创大讲堂·智能制造"}, type_doc=ptype, partial=True)
    assert draft.errors == {}
    bad = validate(form=form, values={"project_lead": {"phone": "12345"}}, type_doc=ptype, partial=True)
    assert list(bad.errors) == ["project_lead.phone"]


# --- character limits (R-F2) ---------------------------------------------------------------------------------


def test_work_summary_800_characters_counted_as_characters_not_bytes():
    # R-F2: 柳州 附表1 学会工作总结综述（800字内）
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-1")
    field = next(f for f in form.all_fields() if f.key == "work_summary")
    assert field.max_chars == 800
    at_limit = "学" * 800  # 2400 bytes in UTF-8: still 800 characters
    assert len(at_limit.encode("utf-8")) == 2400
    ok = validate(form=form, values={"work_summary": at_limit}, type_doc=ptype, partial=True)
    assert ok.errors == {} and ok.cleaned["work_summary"] == at_limit
    over = validate(form=form, values={"work_summary": "学" * 812}, type_doc=ptype, partial=True)
    assert over.errors == {"work_summary": ["不超过800字，当前812字"]}
    mixed = "党建AI" * 200 + "a"  # Latin letters count one each too: 801
    assert errors_of(form, {"work_summary": mixed}, type_doc=ptype, partial=True) == {
        "work_summary": ["不超过800字，当前801字"]}


def test_browser_line_breaks_count_once():
    form = small_form({"key": "summary", "label": "总结", "kind": "long_text", "max_chars": 5})
    assert validate(form=form, values={"summary": "一二\r\n三四"}).cleaned == {"summary": "一二\n三四"}
    assert errors_of(form, {"summary": "一二\r\n三四五"}) == {"summary": ["不超过5字，当前6字"]}


def test_min_chars():
    form = small_form({"key": "summary", "label": "总结", "kind": "long_text", "min_chars": 10})
    assert errors_of(form, {"summary": "太短了"}) == {"summary": ["不少于10字，当前3字"]}
    assert errors_of(form, {"summary": "这是一段足够长的项目总结文字"}) == {}


# --- phones, e-mail, url ------------------------------------------------------------------------------------

PHONE_FORM = small_form(
    {"key": "phone", "label": "联系电话", "kind": "phone"},
    {"key": "mobile", "label": "手机", "kind": "mobile"},
)


@pytest.mark.parametrize("value", [
    "0772-2629066", "0771-2630981", "(0731)85821051", "（0731）85821051", "07712630981", "0772 2629066",
    "0772-2629066-801", "0772-2629066转801", "13800138000", "18276735671", "+86 138 0013 8000",
    "0772-2629066、18276735671",
])
def test_phone_accepts_mobile_and_landline(value):
    assert errors_of(PHONE_FORM, {"phone": value}) == {}


@pytest.mark.parametrize("value", ["12345", "12345678901", "0772-26290", "2629066", "abc", "1380013800",
                                   "0772-2629066-", "138001380001"])
def test_phone_refuses_malformed_numbers(value):
    assert errors_of(PHONE_FORM, {"phone": value}) == {
        "phone": ["请填写正确的电话号码：手机如 13800138000，座机如 0772-2629066"]}


def test_mobile_accepts_only_mobiles():
    assert errors_of(PHONE_FORM, {"mobile": "17344255505"}) == {}
    assert errors_of(PHONE_FORM, {"mobile": "0772-2629066"}) == {"mobile": ["请填写正确的手机号码（11位，如 13800138000）"]}


def test_person_phone_part_on_real_form():
    # R-F1: 项目负责人 {姓名, 职务, 联系电话}
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-2")
    lead = {"name": "张三", "position": "秘书长", "phone": "0772-262906"}
    errs = errors_of(form, {"project_lead": lead}, type_doc=ptype)
    assert errs["project_lead.phone"] == ["请填写正确的电话号码：手机如 13800138000，座机如 0772-2629066"]
    lead["phone"] = "0772-2629066"
    res = validate(form=form, values={"project_lead": lead}, type_doc=ptype)
    assert not any(k.startswith("project_lead") for k in res.errors)
    assert res.cleaned["project_lead"] == lead


def test_required_person_needs_each_part_but_wechat():
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-2")
    errs = errors_of(form, {"project_contact": {"name": "李四", "phone": "13800138000"}}, type_doc=ptype)
    assert errs["project_contact.position"] == ["请填写职务"]
    assert "project_contact.wechat" not in errs
    assert errors_of(form, {}, type_doc=ptype)["project_contact"] == ["请填写项目联系人"]


def test_full_time_part_of_secretary_general():
    # R-F2: society officers with full-/part-time
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-1")
    sg = {"name": "王五", "phone": "13800138000", "full_time": "兼职"}
    res = validate(form=form, values={"secretary_general": sg}, type_doc=ptype, partial=True)
    assert res.cleaned["secretary_general"]["full_time"] == "part_time"
    sg["full_time"] = "sometimes"
    assert errors_of(form, {"secretary_general": sg}, type_doc=ptype, partial=True) == {
        "secretary_general.full_time": ["请选择专职或兼职"]}


def test_email_and_url():
    form = small_form({"key": "mail", "label": "电子邮箱", "kind": "email"},
                      {"key": "site", "label": "网址", "kind": "url"})
    assert errors_of(form, {"mail": "lzkxxhb@gxi.gov.cn", "site": "www.gxkjgzz.org.cn"}) == {}
    assert errors_of(form, {"mail": "lzkxxhb@", "site": "not a site"}) == {
        "mail": ["请填写正确的电子邮箱，如 name@example.com"], "site": ["请填写正确的网址，如 https://www.example.org"]}


# --- dates and periods ------------------------------------------------------------------------------------------


def test_dates_must_be_real_dates():
    form, ptype = form_of(call("liuzhou-2026-kcfn.yaml"), "2026-2")
    assert errors_of(form, {"completion": "2026-02-30"}, type_doc=ptype, partial=True) == {
        "completion": ["2026-02-30 不是有效的日期"]}
    assert errors_of(form, {"completion": "十二月"}, type_doc=ptype, partial=True) == {
        "completion": ["请填写正确的日期，如 2026-03-31"]}
    res = validate(form=form, values={"completion": "2026年12月31日"}, type_doc=ptype, partial=True)
    assert res.errors == {} and res.cleaned["completion"] == "2026-12-31"


def test_period_start_not_after_end():
    # R-F2: international project facts: dates
    form, ptype = form_of(call("guangxi-2026-tzzx.yaml"), "2026-3")
    bad = errors_of(form, {"event_period": {"start": "2026-09-10", "end": "2026-09-01"}}, type_doc=ptype, partial=True)
    assert bad == {"event_period": ["开始日期不能晚于结束日期"]}
    ok = validate(form=form, values={"event_period": {"start": "2026-09-01", "end": "2026-09-01"}}, type_doc=ptype,
                  partial=True)
    assert ok.errors == {} and ok.cleaned["event_period"] == {"start": "2026-09-01", "end": "2026-09-01"}
    half = errors_of(form, {"event_period": {"start": "2026-09-01", "end": ""}}, type_doc=ptype)
    assert half["event_period.end"] == ["请填写结束日期"]


# --- money and numbers --------------------------------------------------------------------------------------

MONEY_FORM = small_form({"key": "requested", "label": "申请经费", "kind": "money", "unit": "wan"},
                        {"key": "own", "label": "自筹经费", "kind": "money"})


@pytest.mark.parametrize(("typed", "yuan"), [("1.5", 15000), ("1.50", 15000), ("2", 20000), ("0.25", 2500),
                                             ("1.5万元", 15000), (" 12 ", 120000), (15000, 15000)])
def test_money_in_wan_is_stored_in_whole_yuan(typed, yuan):
    res = validate(form=MONEY_FORM, values={"requested": typed})
    assert res.errors == {} and res.cleaned["requested"] == yuan


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "请填写金额数字（单位：万元），如 1.5"),
    ("-1", "金额不能为负数"),
    ("1.234", "金额以万元为单位，最多保留两位小数"),
    ("1,5.5.5", "请填写金额数字（单位：万元），如 1.5"),
])
def test_money_refuses_bad_amounts(typed, message):
    assert errors_of(MONEY_FORM, {"requested": typed}) == {"requested": [message]}


def test_money_in_yuan_is_whole():
    assert validate(form=MONEY_FORM, values={"own": "15,000"}).cleaned == {"own": 15000}
    assert errors_of(MONEY_FORM, {"own": "15000.5"}) == {"own": ["金额以元为单位，须为整数"]}


def test_integer_and_number():
    form = small_form({"key": "people", "label": "项目总人数", "kind": "integer"},
                      {"key": "ratio", "label": "比例", "kind": "number"})
    assert validate(form=form, values={"people": "120", "ratio": "0.5"}).cleaned == {"people": 120, "ratio": "0.5"}
    assert errors_of(form, {"people": "12.5", "ratio": "半"}) == {"people": ["请填写整数，如 120"],
                                                              "ratio": ["请填写数字，如 1.5"]}
    assert errors_of(form, {"people": "-3"}) == {"people": ["不能为负数"]}


# --- choices, tracks and follow-ups -----------------------------------------------------------------------


def test_exactly_one_track_ticked_on_guangxi_2026_form_1():
    # R-C3: the applicant ticks one track (申报类型) of 2026-1
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-1")
    assert [t.code for t in ptype.tracks] == ["lecture", "service"]
    assert errors_of(form, {}, call_doc=doc, type_doc=ptype)["track"] == ["请勾选申报类型"]
    assert errors_of(form, {"track": ["lecture", "service"]}, call_doc=doc, type_doc=ptype)["track"] == [
        "只能勾选一个申报类型"]
    assert errors_of(form, {"track": "forum"}, call_doc=doc, type_doc=ptype)["track"] == [
        "申报类型“forum”不是本项目的申报类型"]
    ok = validate(form=form, values={"track": "service"}, call_doc=doc, type_doc=ptype)
    assert "track" not in ok.errors and ok.cleaned["track"] == "service"
    # a draft may leave it open
    assert "track" not in errors_of(form, {}, call_doc=doc, type_doc=ptype, partial=True)


def test_choice_values_must_be_options():
    doc = call("changde-2022-xhfw.yaml")
    form, ptype = form_of(doc, "1")
    assert errors_of(form, {"has_venue": "maybe"}, type_doc=ptype, partial=True) == {
        "has_venue": ["“maybe”不是支部活动阵地情况：是否有活动阵地的选项"]}
    assert errors_of(form, {"has_venue": "yes"}, type_doc=ptype, partial=True) == {}


def test_follow_up_required_when_its_option_is_ticked():
    # R-F2: yes/no questions with a follow-up field (广西 2023 附表1: 是否有财务管理制度 → 制度名称)
    doc = call("guangxi-2023-tzzx.yaml")
    form, ptype = form_of(doc, "2023-1")
    field = next(f for f in form.all_fields() if f.key == "finance_rules")
    ticked = next(o for o in field.options if o.follow_up)
    other = next(o for o in field.options if not o.follow_up)
    fu = ticked.follow_up
    errs = errors_of(form, {"finance_rules": ticked.value}, call_doc=doc, type_doc=ptype)
    assert errs[fu.key] == [f"请填写{fu.label}"]
    res = validate(form=form, values={"finance_rules": ticked.value, fu.key: "财务管理办法"}, call_doc=doc, type_doc=ptype)
    assert fu.key not in res.errors and res.cleaned[fu.key] == "财务管理办法"
    # not ticked: not asked, and a stale answer is not kept
    res = validate(form=form, values={"finance_rules": other.value, fu.key: "旧的回答"}, call_doc=doc, type_doc=ptype)
    assert fu.key not in res.errors and fu.key not in res.cleaned


# --- tables --------------------------------------------------------------------------------------------------

EXPENSES = {
    "key": "expenses", "label": "经费支出预算表", "kind": "table", "max_rows": 3, "min_rows": 1,
    "columns": [{"key": "item", "label": "支出项目内容", "required": True},
                {"key": "amount", "label": "金额", "kind": "money", "unit": "wan", "required": True}],
    "totals": [{"column": "amount", "label": "合计", "max_from": "cap"}],
}


def test_table_row_count_limits():
    form = small_form(EXPENSES)
    rows = [{"item": f"项目{i}", "amount": "0.1"} for i in range(4)]
    assert errors_of(form, {"expenses": rows}, partial=True) == {"expenses": ["最多填写3行，当前4行"]}
    assert errors_of(form, {"expenses": rows[:3]}, partial=True) == {}
    assert errors_of(form, {"expenses": []}) == {"expenses": ["经费支出预算表至少填写1行"]}


def test_table_columns_have_their_kinds_and_blank_rows_are_dropped():
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-7")
    members = [{"name": "张三", "phone": "0771-2630626"}, {"name": "", "phone": ""}, {"name": "李四", "phone": "12"}]
    errs = errors_of(form, {"members": members}, call_doc=doc, type_doc=ptype)
    assert errs["members[2].phone"] == ["第3行：请填写正确的电话号码：手机如 13800138000，座机如 0772-2629066"]
    members[2]["phone"] = "13800138000"
    res = validate(form=form, values={"members": members}, call_doc=doc, type_doc=ptype)
    assert not any(k.startswith("members") for k in res.errors)
    assert res.cleaned["members"] == [{"name": "张三", "phone": "0771-2630626"}, {"name": "李四", "phone": "13800138000"}]
    missing_name = errors_of(form, {"members": [{"phone": "13800138000"}]}, call_doc=doc, type_doc=ptype)
    assert missing_name["members[0].name"] == ["第1行：请填写姓名"]


def test_table_total_over_the_track_cap_then_within_it():
    # R-F2: expenditure tables with a total and a cap; R-C3: the track carries its own cap
    doc = call("guangxi-2026-tzzx.yaml")
    ptype = doc.project_type("2026-1")  # lecture ≤1.5万, service ≤4万
    form = small_form({"key": "track", "label": "申报类型", "kind": "choice_one", "options_from": "tracks"}, EXPENSES)
    rows = [{"item": "专家劳务", "amount": "1"}, {"item": "场地", "amount": "0.6"}]
    errs = errors_of(form, {"track": "lecture", "expenses": rows}, type_doc=ptype)
    assert errs == {"expenses": ["合计（金额）不得超过申报类型经费上限1.5万元（当前1.6万元）"]}
    assert errors_of(form, {"track": "service", "expenses": rows}, type_doc=ptype) == {}
    rows[1]["amount"] = "0.5"
    assert errors_of(form, {"track": "lecture", "expenses": rows}, type_doc=ptype) == {}


def test_table_total_over_the_type_cap_when_no_track():
    form = small_form(EXPENSES)
    ptype = small_type()  # 1—2万元/个
    rows = [{"item": "会务", "amount": "1.5"}, {"item": "宣传", "amount": "0.6"}]
    assert errors_of(form, {"expenses": rows}, type_doc=ptype) == {
        "expenses": ["合计（金额）不得超过本项目经费上限2万元（当前2.1万元）"]}
    rows[1]["amount"] = "0.5"
    assert errors_of(form, {"expenses": rows}, type_doc=ptype) == {}


def test_table_total_with_a_fixed_max_and_equal_to_a_field():
    form = small_form(
        {"key": "budget_total", "label": "经费总预算", "kind": "money", "unit": "wan"},
        {**EXPENSES, "totals": [{"column": "amount", "label": "合计", "max": 30000, "equals_field": "budget_total"}]},
    )
    rows = [{"item": "会务", "amount": "2"}, {"item": "宣传", "amount": "1.5"}]
    assert errors_of(form, {"budget_total": "3.5", "expenses": rows}) == {
        "expenses": ["合计（金额）不得超过3万元（当前3.5万元）"]}
    rows[1]["amount"] = "0.5"
    assert errors_of(form, {"budget_total": "3", "expenses": rows}) == {
        "expenses": ["合计（金额）2.5万元须等于“经费总预算”3万元"]}
    rows[1]["amount"] = "1"
    assert errors_of(form, {"budget_total": "3", "expenses": rows}) == {}


# --- form checks (CEL) ----------------------------------------------------------------------------------------


def test_budget_total_equals_own_funds_plus_requested_on_changde():
    # R-F2 / 常德 附件3 八、项目经费预算: 经费总预算 = 单位自筹经费 + 市科协“提能计划”项目经费
    doc = call("changde-2022-xhfw.yaml")
    form, ptype = form_of(doc, "2-2")  # 服务站建设: 2万元
    base = {"project_kind": "service_station"}
    errs = errors_of(form, {**base, "budget_total": "3", "own_funds": "1", "city_funds": "1.5"}, call_doc=doc,
                     type_doc=ptype)
    assert errs["budget_total"] == ["经费总预算须等于单位自筹经费与市科协“提能计划”项目经费之和"]
    ok = validate(form=form, values={**base, "budget_total": "3", "own_funds": "1", "city_funds": "2"}, call_doc=doc,
                  type_doc=ptype)
    assert "budget_total" not in ok.errors and "city_funds" not in ok.errors
    assert (ok.cleaned["budget_total"], ok.cleaned["own_funds"], ok.cleaned["city_funds"]) == (30000, 10000, 20000)


def test_requested_not_above_the_type_cap_on_changde():
    doc = call("changde-2022-xhfw.yaml")
    form, ptype = form_of(doc, "2-2")
    assert ptype.funding.cap == 20000
    errs = errors_of(form, {"project_kind": "service_station", "budget_total": "3.5", "own_funds": "1",
                            "city_funds": "2.5"}, call_doc=doc, type_doc=ptype)
    assert errs["city_funds"] == ["申请的市科协“提能计划”项目经费不得超过该类项目的经费额度"]
    assert "budget_total" not in errs


def test_checks_wait_until_the_fields_they_read_are_filled():
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-3")
    empty = errors_of(form, {"track": "cross_regional"}, call_doc=doc, type_doc=ptype)
    assert empty["total_participants"] == ["请填写项目总人数"]  # the required message, not the check's
    small = errors_of(form, {"track": "cross_regional", "total_participants": "80"}, call_doc=doc, type_doc=ptype)
    assert small["total_participants"] == ["国际与跨区域科技交流合作活动须为100人及以上活动规模"]
    big = errors_of(form, {"track": "cross_regional", "total_participants": "120"}, call_doc=doc, type_doc=ptype)
    assert "total_participants" not in big


def test_a_check_on_table_rows_and_the_track():
    # R-C4: international: ≥3 countries and regions, not counting HK/Macao/Taiwan
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-3")
    base = {"track": "international", "total_participants": "150"}
    one = [{"nationality": "越南", "count": "10"}, {"nationality": "中国香港", "count": "5"}]
    errs = errors_of(form, {**base, "foreign_participants": one}, call_doc=doc, type_doc=ptype)
    assert errs["foreign_participants"] == ["国际科技交流合作项目与会者须来自3个或3个以上国家和地区（不含港澳台）"]
    three = [*one, {"nationality": "泰国", "count": "8"}, {"nationality": "老挝", "count": "3"}]
    assert "foreign_participants" not in errors_of(form, {**base, "foreign_participants": three}, call_doc=doc,
                                                   type_doc=ptype)


def test_a_check_that_tests_emptiness_itself_runs_on_empty_fields():
    doc = call("guangxi-2023-tzzx.yaml")
    form, ptype = form_of(doc, "2023-6")
    check = next(c for c in form.checks if "overseas_experts" in c.expr)
    station = next(t.code for t in ptype.tracks if t.code != "planning")
    assert check.message in errors_of(form, {"track": station}, call_doc=doc, type_doc=ptype).get(
        "overseas_experts", [])
    assert "overseas_experts" not in errors_of(form, {"track": "planning"}, call_doc=doc, type_doc=ptype)


def test_a_broken_check_is_reported_not_raised():
    form = small_form({"key": "people", "label": "人数", "kind": "integer"},
                      checks=[{"expr": "form.people.size() > 1", "message": "人数规则"},
                              {"expr": "form.people + 1", "message": "不是真假"}])
    errs = errors_of(form, {"people": "3"})
    assert len(errs["__all__"]) == 2
    assert errs["__all__"][0].startswith("申报表规则“人数规则”无法检查（")
    assert errs["__all__"][1] == "申报表规则“不是真假”的结果不是“是/否”，无法检查，请联系主办方"
    assert errors_of(form, {"people": "3"}, partial=True) == {}  # drafts do not run checks


def test_check_naming_an_unknown_field_says_so():
    form = small_form({"key": "people", "label": "人数", "kind": "integer"},
                      checks=[{"expr": "form.peple >= 1", "message": "人数规则"}])
    assert errors_of(form, {"people": "3"}) == {
        "__all__": ["申报表规则“人数规则”使用了表中没有的字段 peple，无法检查，请联系主办方"]}


# --- opinions ----------------------------------------------------------------------------------------------


def test_opinion_blocks_of_others_are_not_the_applicants():
    # R-F3: several opinion blocks; the home/university association's is not the applicant's to fill
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-4")
    values = {"opinion_home": {"text": "同意", "date": "2026-13-01"}, "opinion_unit": {"text": "同意申报", "date": "2026-02-30"}}
    res = validate(form=form, values=values, call_doc=doc, type_doc=ptype, partial=True)
    assert res.errors == {"opinion_unit.date": ["2026-02-30 不是有效的日期"]}
    assert "opinion_home" not in res.cleaned
    values["opinion_unit"]["date"] = "2026-04-20"
    res = validate(form=form, values=values, call_doc=doc, type_doc=ptype, partial=True)
    assert res.errors == {} and res.cleaned["opinion_unit"] == {"text": "同意申报", "date": "2026-04-20"}
    # the home association validates its own block
    res = validate(form=form, values=values, call_doc=doc, type_doc=ptype, partial=True,
                   opinion_by={"home_or_university_association"})
    assert res.errors == {"opinion_home.date": ["2026-13-01 不是有效的日期"]}


# --- clean values and the CEL context -----------------------------------------------------------------------


def test_clean_values_validate_to_themselves():
    doc = call("changde-2022-xhfw.yaml")
    form, ptype = form_of(doc, "2-2")
    raw = {"budget_total": "3", "own_funds": "1", "city_funds": "2", "period": {"start": "2022-05-01", "end": "2022-11-30"},
           "expenses": [{"item": "会务", "amount": "1.25"}], "unit_email": "cdkx@example.org", "_meeting": "理事会"}
    first = validate(form=form, values=raw, call_doc=doc, type_doc=ptype, partial=True)
    assert first.errors == {}
    assert first.cleaned["expenses"] == [{"item": "会务", "amount": 12500}]
    assert first.cleaned["_meeting"] == "理事会"
    again = validate(form=form, values=first.cleaned, call_doc=doc, type_doc=ptype, partial=True)
    assert again.errors == {} and again.cleaned == first.cleaned


def test_cel_form_context_shape():
    doc = call("guangxi-2026-tzzx.yaml")
    form, ptype = form_of(doc, "2026-3")
    values = {"total_participants": 120, "foreign_participants": [{"nationality": "越南", "count": 10},
                                                                  {"nationality": "泰国", "count": 7}]}
    ctx = cel_form_context(form, values, ptype, "international", call_doc=doc)
    assert ctx["form"]["total_participants"] == 120
    assert ctx["form"]["foreign_participants"]["total"] == {"count": 17}
    assert ctx["form"]["foreign_participants"]["rows"][1] == {"nationality": "泰国", "count": 7}
    assert ctx["form"]["goals"] is None  # unfilled fields are null
    assert ctx["type"] == {"code": "2026-3", "name": ptype.name, "cap": ptype.funding.cap}
    assert ctx["track"]["code"] == "international"
    assert ctx["track"]["cap"] == ptype.funding.cap  # a track without its own funding takes the type's cap
    assert ctx["call"] == {"code": "guangxi-2026-tzzx", "year": 2026}
    lecture_type = doc.project_type("2026-1")
    lecture_form = doc.form_for(lecture_type)
    assert cel_form_context(lecture_form, {}, lecture_type, "lecture")["track"]["cap"] == 15000
    assert cel_form_context(lecture_form, {}, lecture_type, None)["track"] == {
        "code": "", "name": "", "codes": [], "cap": None}
