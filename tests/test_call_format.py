"""The call format: malformed files are refused with a message naming the file, the path and the problem."""

from __future__ import annotations

import copy

import pytest
import yaml

from shenbao.calls import schema
from tests.conftest import CALLS

FILE = "calls/bad.yaml"


def minimal() -> dict:
    """The smallest valid call: one type, one form."""
    return {
        "kind": "call",
        "code": "test-2026",
        "issuer": {"name": "测试市科学技术协会", "level": "city", "category": "city_association"},
        "title": "关于申报2026年测试项目的通知",
        "programme": "测试项目",
        "programme_code": "test_programme",
        "year": 2026,
        "deadline": "2026-03-31T17:00:00+08:00",
        "submission": {"channels": [{"kind": "online"}]},
        "forms": [
            {
                "code": "F1",
                "title": "测试项目申报表",
                "sections": [{"fields": [{"key": "project_name", "label": "项目名称", "kind": "text", "title": True}]}],
            }
        ],
        "project_types": [
            {
                "code": "2026-1",
                "name": "测试项目",
                "form": "F1",
                "quota": {"kind": "exactly", "n": 2},
                "funding": {"kind": "range", "min": 10000, "max": 20000},
                "eligibility": {"groups": [{"categories": ["city_society"]}]},
            }
        ],
    }


KNOWN = {"city_association", "city_society", "province_society"}


def problems_of(data: dict | str) -> str:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    with pytest.raises(schema.CallFormatError) as exc:
        schema.load_text(text, FILE, known_categories=KNOWN)
    return str(exc.value)


def mutate(fn) -> dict:
    data = copy.deepcopy(minimal())
    fn(data)
    return data


def test_minimal_call_is_valid():
    doc = schema.load_text(yaml.safe_dump(minimal(), allow_unicode=True), FILE, known_categories=KNOWN)
    assert doc.project_types[0].funding.cap == 20000
    assert doc.project_types[0].quota.text() == "2个"


def test_missing_deadline():  # R-C1: the deadline is required
    assert problems_of(mutate(lambda d: d.pop("deadline"))) == f"{FILE}: deadline: 缺少必填项"


def test_deadline_without_zone():  # R-C1: a hard deadline with a time and the Asia/Shanghai zone
    msg = problems_of(mutate(lambda d: d.update(deadline="2026-03-31T17:00:00")))
    assert msg == f"{FILE}: deadline: deadline 须带时区，例如 2026-03-31T17:00:00+08:00"


def test_unknown_quota_kind():  # R-C2: exactly, at most, about, range
    msg = problems_of(mutate(lambda d: d["project_types"][0]["quota"].update(kind="maybe")))
    assert msg == (f"{FILE}: project_types[0].quota.kind: 取值不在允许范围内："
                   "'exactly', 'at_most', 'about', 'range' or 'unstated'（实际为 'maybe'）")


def test_quota_range_reversed():  # R-C2
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(quota={"kind": "range", "min": 5, "max": 3})))
    assert msg == f"{FILE}: project_types[0].quota: 数量区间下限 5 大于上限 3"


def test_funding_cap_without_max():  # R-C2: a cap per project needs its amount
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(funding={"kind": "cap"})))
    assert msg == f"{FILE}: project_types[0].funding: 经费方式 cap 须给出 max"


def test_negative_money():
    msg = problems_of(mutate(lambda d: d["project_types"][0]["funding"].update(max=-1)))
    assert msg.startswith(f"{FILE}: project_types[0].funding.max: 不能小于允许的最小值")


def test_misspelt_field():
    def typo(d):
        d["project_types"][0]["qouta"] = d["project_types"][0].pop("quota")

    assert problems_of(mutate(typo)) == f"{FILE}: project_types[0].qouta: 未知字段（拼写错误？）"


def test_form_reference_unknown():
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(form="F9")))
    assert msg == f"{FILE}: project_types[0].form: 表单 F9 未在 forms 中定义（已定义：F1）"


def test_duplicate_type_code():
    msg = problems_of(mutate(lambda d: d["project_types"].append(copy.deepcopy(d["project_types"][0]))))
    assert msg == f"{FILE}: project_types[1].code: 项目编号重复：2026-1（与 project_types[0] 相同）"


def test_unknown_category():  # R-E1: categories come from the configurable list
    msg = problems_of(mutate(lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(
        categories=["societyy"])))
    assert msg == f"{FILE}: project_types[0].eligibility.groups[0].categories: 未知的申报单位类别 'societyy'"


def test_cel_syntax_error_is_caught_at_load():  # R-E2: conditions are CEL, compiled at load time
    msg = problems_of(mutate(lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(
        when="org.max.society_grade >=", unmet="须为3A级学会")))
    assert msg.startswith(f"{FILE}: project_types[0].eligibility.groups[0]: CEL 表达式有语法错误：")


def test_cel_unknown_name_is_caught_at_load():
    msg = problems_of(mutate(lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(
        when="orgg.max.society_grade >= 3", unmet="须为3A级学会")))
    assert msg == (f"{FILE}: project_types[0].eligibility.groups[0]: "
                   "表达式使用了未知的名称 orgg（此处可用：call, org）")


def test_cel_comprehension_variables_are_not_unknown_names():
    data = mutate(lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(
        when="org.ever.society_grade.exists(g, g >= 3)", unmet="须曾获3A级"))
    doc = schema.load_text(yaml.safe_dump(data, allow_unicode=True), FILE, known_categories=KNOWN)
    assert doc.project_types[0].eligibility.groups[0].when.startswith("org.ever")


def test_condition_needs_reason():
    msg = problems_of(mutate(lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(
        when="org.max.society_grade >= 3")))
    assert msg == (f"{FILE}: project_types[0].eligibility.groups[0]: "
                   "有条件（when）的申报主体须写明不满足时的原因（unmet）")


def test_table_total_of_unknown_column():  # R-F2: tables with totals
    def bad_table(d):
        d["forms"][0]["sections"][0]["fields"].append({
            "key": "expenses", "label": "经费支出预算表", "kind": "table",
            "columns": [{"key": "item", "label": "支出项目内容"}], "totals": [{"column": "amount"}],
        })

    msg = problems_of(mutate(bad_table))
    assert msg == f"{FILE}: forms[0].sections[0].fields[1]: 表格 expenses 的合计列 amount 不在 columns 中"


def test_post_funded_needs_its_dates():  # R-C6
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(kind="post_funded")))
    assert msg == f"{FILE}: project_types[0]: 后资助项目（post_funded）须给出 post_funding"


def test_commissioned_needs_named_applicant():  # R-C7
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(kind="commissioned")))
    assert msg == f"{FILE}: project_types[0]: commissioned 项目须给出 named_applicants（指定的申报单位）"


def test_impossible_date():
    msg = problems_of(mutate(lambda d: d.update(published_on="2026-02-30")))
    assert msg.startswith(f"{FILE}: published_on: 须为日期，如 2026-03-31")


def test_yaml_syntax_error_names_line():
    msg = problems_of("kind: call\ncode: [unclosed\ntitle: x\n")
    assert msg.startswith(f"{FILE}: 第 3 行第 6 列: YAML 语法错误：")


def test_wrong_document_kind():
    assert problems_of(mutate(lambda d: d.update(kind="notice"))) == (
        f"{FILE}: kind: 须为 call 或 catalogue（实际为 'notice'）")


def test_every_problem_is_reported_at_once():
    def several(d):
        d.pop("title")
        d["project_types"][0]["quota"]["kind"] = "maybe"
        d["submission"]["channels"] = []

    lines = problems_of(mutate(several)).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{FILE}: ") for line in lines)


def test_tier_expression_compiled_at_load():  # R-C5
    def tiers(d):
        d["project_types"][0]["funding"] = {
            "kind": "tiered", "amount": 10000,
            "tiers": [{"when": "project.academician_reports", "amount": 30000, "label": "院士作报告"},
                      {"when": "project.foreign_scholar ||", "amount": 20000, "label": "外籍学者"}],
        }

    msg = problems_of(mutate(tiers))
    assert msg.startswith(f"{FILE}: project_types[0].funding.tiers[1].when: CEL 表达式有语法错误")


def test_form_check_naming_an_unknown_field():  # checks are tied to the form's own fields
    def bad(d):
        d["forms"][0]["checks"] = [{"expr": "form.budget_total == form.own_funds", "message": "经费不平"}]

    lines = problems_of(mutate(bad)).splitlines()
    assert lines == [f"{FILE}: forms[0].checks[0].expr: 规则使用了表单中没有的字段 budget_total",
                     f"{FILE}: forms[0].checks[0].expr: 规则使用了表单中没有的字段 own_funds"]


def test_task_measure_must_be_known():  # R-C4: measurable minimums name measures defined as data
    def bad(d):
        d["project_types"][0]["tasks"] = [{"text": "举办活动", "minimums": {"eventz": 2}}]

    data = mutate(bad)
    with pytest.raises(schema.CallFormatError) as exc:
        schema.load_text(yaml.safe_dump(data, allow_unicode=True), FILE, known_categories=KNOWN,
                         known_measures={"events"})
    assert str(exc.value) == (f"{FILE}: project_types[0].tasks[0].minimums.eventz: 未知的任务指标 'eventz'"
                              "（请在 catalogue 的 measures 或本通知的 measures 中定义）")
    data["measures"] = [{"key": "eventz", "name": "活动场次"}]  # a call may bring its own
    doc = schema.load_text(yaml.safe_dump(data, allow_unicode=True), FILE, known_categories=KNOWN,
                           known_measures={"events"})
    assert doc.measures[0].name == "活动场次"


def test_lookups_by_code_name_and_key():  # R-C3, R-F1: types, tracks and form fields found by their codes
    def extend(d):
        d["project_types"][0]["tracks"] = [{"code": "lecture", "name": "讲座"}]
        d["forms"][0]["sections"][0]["fields"].append(
            {"key": "has_partner", "label": "是否联合申报", "kind": "choice_one", "options": [
                {"value": "yes", "label": "是",
                 "follow_up": {"key": "partner", "label": "联合单位", "kind": "text"}},
                {"value": "no", "label": "否"}]})

    doc = schema.load_text(yaml.safe_dump(mutate(extend), allow_unicode=True), FILE, known_categories=KNOWN)
    ptype = doc.project_type("2026-1")
    assert ptype.name == "测试项目" and doc.project_type_named("测试项目") is ptype
    assert ptype.track("lecture").name == "讲座"
    form = doc.form_of("2026-1")
    assert form.code == "F1"
    assert form.field("partner").label == "联合单位"  # a follow-up field of an option
    assert list(form.fields_by_key()) == ["project_name", "has_partner", "partner"]
    assert form.field_kinds() == {"project_name": "text", "has_partner": "choice_one", "partner": "text"}
    for missing in (lambda: doc.project_type("2026-9"), lambda: doc.project_type_named("无"),
                    lambda: ptype.track("forum"), lambda: form.field("budget")):
        with pytest.raises(KeyError):
            missing()


def test_follow_up_key_repeating_a_field_key():  # R-F1: every field of a form has its own key
    def bad(d):
        d["forms"][0]["sections"][0]["fields"].append(
            {"key": "has_partner", "label": "是否联合申报", "kind": "choice_one", "options": [
                {"value": "yes", "label": "是",
                 "follow_up": {"key": "project_name", "label": "联合单位", "kind": "text"}}]})

    assert "表单 F1 的字段 key 重复：project_name" in problems_of(mutate(bad))


def test_number_pattern_default_and_checked():  # issue 7 item 5: 申报编号 from the call's pattern
    doc = schema.load_text(yaml.safe_dump(minimal(), allow_unicode=True), FILE, known_categories=KNOWN)
    assert doc.number_pattern == "{year}-{type_seq}-{seq:04d}"
    assert doc.number_pattern.format(year=2026, type_seq=1, seq=7) == "2026-1-0007"
    ok = schema.load_text(yaml.safe_dump(mutate(lambda d: d.update(number_pattern="KX{year}{type}-{seq:03d}")),
                                         allow_unicode=True), FILE, known_categories=KNOWN)
    assert ok.number_pattern == "KX{year}{type}-{seq:03d}"
    assert "须包含流水号 {seq}" in problems_of(mutate(lambda d: d.update(number_pattern="{year}-{type_seq}")))
    assert "未知占位符：unit" in problems_of(mutate(lambda d: d.update(number_pattern="{unit}-{seq}")))
    assert "number_pattern" in problems_of(mutate(lambda d: d.update(number_pattern="{seq:04q}")))


# --- additions from configuring more notices (issue 7, item 11) ----------------------------------------------


def load(data: dict) -> schema.Call:
    return schema.load_text(yaml.safe_dump(data, allow_unicode=True), FILE, known_categories=KNOWN)


def test_quota_may_be_unstated():  # R-C2: a notice that gives no planned number says nothing about one
    doc = load(mutate(lambda d: d["project_types"][0].update(quota={"kind": "unstated"})))
    quota = doc.project_types[0].quota
    assert (quota.kind, quota.stated, quota.text(), quota.upper) == ("unstated", False, "", None)
    msg = problems_of(mutate(lambda d: d["project_types"][0].update(quota={"kind": "unstated", "n": 3})))
    assert msg == f"{FILE}: project_types[0].quota: 数量未写明（unstated）时不给 n、min、max"
    # leaving the quota out is still an error: the author says “unstated” on purpose
    msg = problems_of(mutate(lambda d: d["project_types"][0].pop("quota")))
    assert "通知未写明计划立项数量时写 {kind: unstated}" in msg


def _fields(d: dict) -> list:
    return d["forms"][0]["sections"][0]["fields"]


def test_title_field_is_declared_and_not_tied_to_a_key():  # R-F1: 项目名称 names the application
    def rename(d):
        _fields(d)[0].update(key="activity_title", label="活动名称")

    form = load(mutate(rename)).forms[0]
    assert form.title_field.key == "activity_title"


def test_title_field_exactly_one_per_form():
    none = problems_of(mutate(lambda d: _fields(d)[0].pop("title")))
    assert none == (f"{FILE}: forms[0]: 表单 F1 须有且只有一个给出项目名称的字段（title: true）（现有 0 个）；"
                    "表中没有项目名称时写 untitled: true")
    two = problems_of(mutate(lambda d: _fields(d).append(
        {"key": "other_name", "label": "活动名称", "kind": "text", "title": True})))
    assert "（现有 2 个：project_name, other_name）" in two
    # a form that asks no project name (学会改革与发展项目申报表) says so, and then has no title field
    def untitled(d):
        _fields(d)[0].pop("title")
        d["forms"][0]["untitled"] = True

    assert load(mutate(untitled)).forms[0].title_field is None
    both = problems_of(mutate(lambda d: d["forms"][0].update(untitled=True)))
    assert "标明 untitled: true，却有 title: true 的字段：project_name" in both


def test_title_field_is_a_line_of_text():
    msg = problems_of(mutate(lambda d: _fields(d)[0].update(kind="long_text")))
    assert "给出申报标题的字段（title: true）须为单行文本（text），project_name 是 long_text" in msg


def test_the_five_calls_declare_their_title_fields():  # R-F1: every form of the five notices, at load
    import glob

    for path in sorted(glob.glob("calls/*-*.yaml")):
        doc = schema.load_text(open(path, encoding="utf-8").read(), path)
        for form in doc.forms:
            assert form.title_problem() is None
            if form.title_field is not None:
                assert form.title_field.label in ("项目名称", "活动名称")


def test_hanzi_count_counts_chinese_characters_only():  # R-F2: “800字内” counts 汉字
    from shenbao.core.expressions import compile_expression, hanzi_count

    assert hanzi_count("科技服务 AI+2027，进企业！") == 7
    assert hanzi_count("") == 0 and hanzi_count(None) == 0
    program = compile_expression("hanzi_count(form.summary) <= 4")
    assert program.holds({"form": {"summary": "科普 Science 活动!!"}})
    assert not program.holds({"form": {"summary": "科普进社区活动"}})


def test_a_misspelt_function_fails_at_load():  # like an unknown name: not when a clerk submits
    msg = problems_of(mutate(lambda d: d["forms"][0].update(
        checks=[{"expr": "hanzi_cont(form.project_name) <= 20", "message": "项目名称不超过20字"}])))
    assert "表达式使用了未知的函数 hanzi_cont（可用：hanzi_count 及 CEL 自带函数）" in msg
    ok = load(mutate(lambda d: d["forms"][0].update(checks=[
        {"expr": 'hanzi_count(form.project_name) <= 20 && size(form.project_name) > 0 && form.project_name != "f(x)"',
         "message": "项目名称不超过20字"}])))
    assert len(ok.forms[0].checks) == 1


def test_form_checks_may_read_the_applicant_unit():  # the registered name, credit code and region
    def check(d):
        _fields(d).append({"key": "applicant_unit", "label": "申报单位", "kind": "text"})
        d["forms"][0]["checks"] = [{"expr": "form.applicant_unit == applicant.name",
                                    "message": "申报单位须填写单位全称"},
                                   {"expr": "applicant.credit_code != '' && applicant.region != ''",
                                    "message": "单位信息不全"}]

    form = load(mutate(check)).forms[0]
    from shenbao.forms.validation import validate

    unit = {"name": "测试市机械工程学会", "credit_code": "51450000000000001X", "region": "测试市"}
    short = validate(form=form, values={"project_name": "甲", "applicant_unit": "测试市机械学会"}, applicant=unit)
    assert short.errors == {"applicant_unit": ["申报单位须填写单位全称"]}
    full = validate(form=form, values={"project_name": "甲", "applicant_unit": "测试市机械工程学会"}, applicant=unit)
    assert full.errors == {}
    # an unknown root is still refused at load
    msg = problems_of(mutate(lambda d: d["forms"][0].update(
        checks=[{"expr": "applicnt.name == ''", "message": "x"}])))
    assert "表达式使用了未知的名称 applicnt（此处可用：applicant, call, form, track, type）" in msg


def test_post_funded_type_names_its_results_form():  # R-C6: 附表7 is handed in with the results
    def results(d):
        d["forms"].append({"code": "R1", "title": "资助申报表", "untitled": True,
                           "sections": [{"fields": [{"key": "summary", "label": "工作总结", "kind": "long_text"}]}]})
        d["project_types"][0].update(kind="post_funded", post_funding={
            "work_done_by": "2026-10-31", "results_due": "2026-11-10", "results_form": "R1"})
        d["project_types"][0].pop("form")

    doc = load(mutate(results))
    t = doc.project_types[0]
    assert doc.form_for(t) is None and doc.results_form_for(t).title == "资助申报表"
    bad = mutate(results)
    bad["project_types"][0]["post_funding"]["results_form"] = "R9"
    assert problems_of(bad) == (f"{FILE}: project_types[0].post_funding.results_form: "
                                "表单 R9 未在 forms 中定义（已定义：F1, R1）")


def test_help_names_a_command_with_dashes(capsys):  # `shenbao help load-call` (was “Unknown command”)
    from shenbao.cli import main

    try:
        main(["shenbao", "help", "load-call"])
    except SystemExit as exc:  # Django exits 1 on an unknown command
        assert exc.code in (0, None)
    out = capsys.readouterr()
    assert "Unknown command" not in out.out + out.err
    assert "--publish" in out.out and "Load call YAML files" in out.out


# --- acceptance: a new issuer's notice, loaded and taken through submission ---------------------------------

NEW_CALL = "tests/calls/qingxi-2027-kjfw.yaml"


@pytest.mark.django_db
def test_a_new_issuers_call_goes_through_submission(catalogue, make_org, make_user, client, media):
    """A made-up county 科委's notice: no planned number (计划立项数量 not given), the title given by a field
    named activity_title, a check counting 汉字 and one comparing the unit with its registered name."""
    from pathlib import Path

    from shenbao.applications import services
    from shenbao.calls import services as call_services
    from tests.journey_support import reopen, unit

    # its issuer's category (县科委) is new: the system administrator adds it to the catalogue first, the call
    # file then repeats it word for word (a call file never adds or changes a category: R-S36)
    catalogue = yaml.safe_load((CALLS / "catalogue.yaml").read_text("utf-8"))
    catalogue["categories"] += yaml.safe_load(Path(NEW_CALL).read_text("utf-8"))["categories"]
    call_services.load_catalogue(text=yaml.safe_dump(catalogue, allow_unicode=True), filename="catalogue.yaml")
    call = reopen(call_services.load_path(path=Path(NEW_CALL), publish=True).call)
    doc = call.document
    assert doc.project_types[0].quota.kind == "unstated"  # R-C2
    assert call.types.get(code="2027-1").quota_text == ""
    _org, clerk, _head = unit(make_org, make_user, name="青溪县星火机械有限公司", category="enterprise",
                             parent=call.issuer, prefix="qx", region="测试省青溪县")
    app = services.create_draft(user=clerk, project_type=call.types.get(code="2027-1"))
    values = {"activity_title": "科技专家进星火机械", "applicant_unit": "星火机械", "summary": "组织专家进企业" * 30}
    saved = services.save_draft(user=clerk, application=app, values=values, expected_version=app.version)
    assert saved.application.title == "科技专家进星火机械"  # the `title: true` field, not project_name
    with pytest.raises(services.Refused) as refused:
        services.submit(user=clerk, application=app)
    assert refused.value.errors == {"applicant_unit": ["申报单位须填写单位全称"],
                                    "summary": ["活动简介不超过200字"],  # 7 × 30 = 210 汉字
                                    "proof": ["请上传证明材料"]}  # a required attachment (issue 7 item 8)
    values.update(applicant_unit="青溪县星火机械有限公司", summary="组织专家进企业，for 2027。" * 28)  # 196 汉字
    from django.core.files.uploadedfile import SimpleUploadedFile

    proof = services.upload_attachment(user=clerk, application=app, field_key="proof",
                                       upload=SimpleUploadedFile("营业执照.pdf", b"%PDF-1.4\n%%EOF\n"))
    values["proof"] = {"document_id": proof.pk}
    services.save_draft(user=clerk, application=app, values=values, expected_version=app.version)
    snap = services.submit(user=clerk, application=app).snapshot
    app.refresh_from_db()
    assert app.status == "submitted" and snap.values["title"] == "科技专家进星火机械"
    frozen = snap.values["values"]["proof"]
    assert (frozen["document_id"], frozen["sha256"], frozen["name"]) == (proof.pk, proof.sha256, "营业执照.pdf")
    # the call page says nothing about a number of projects
    page = client.get(f"/calls/{call.code}/").content.decode()
    assert "科技服务进企业活动" in page and "计划立项数量" not in page.split('id="type-2027-1"')[1]


# --- wording that assumes a 科协 comes from the settings ----------------------------------------------------


@pytest.mark.django_db
def test_a_kewei_platform_reads_right(client, catalogue, settings):
    # the site name and the registration's 属地科协 are settings: a 科委 (or another issuer) reads its own words
    default = client.get("/accounts/register/").content.decode()
    assert "科协项目申报平台" in default and "属地科协（主管科协）" in default
    settings.SHENBAO_SITE_NAME = "青溪县科技项目申报平台"
    settings.SHENBAO_HOME_LABEL = "属地科委（主管部门）"
    settings.SHENBAO_HOME_HELP = "本单位所属的县科委或主管部门，由其审核注册"
    page = client.get("/accounts/register/").content.decode()
    assert "科协项目申报平台" not in page and page.count("青溪县科技项目申报平台") >= 2
    assert "属地科委（主管部门）" in page and "注册由所选属地科委（主管部门）审核" in page
    assert "属地科协" not in page and "本单位所属的县科委或主管部门，由其审核注册" in page
    assert "青溪县科技项目申报平台" in client.get("/").content.decode()


def test_asked_marks_the_money_field_the_funder_lists():  # issue 7 item 7: 申请经费 on the funder's desk
    def asked(kind):
        def fn(d):
            d["forms"][0]["sections"][0]["fields"].append({"key": "ask", "label": "申请经费", "kind": kind,
                                                            "asked": True})
        return fn

    doc = schema.load_text(yaml.safe_dump(mutate(asked("money")), allow_unicode=True), FILE, known_categories=KNOWN)
    assert [f.key for f in doc.forms[0].all_fields() if f.asked] == ["ask"]
    assert "asked 只能用于金额字段" in problems_of(mutate(asked("text")))


def test_attachment_field_types_size_and_count():  # R-F1: 实施方案 (may be attached); issue 7 item 8
    def add(d, **extra):
        _fields(d).append({"key": "plan_file", "label": "展览设计方案及效果图", "kind": "attachment", **extra})
    doc = load(mutate(lambda d: add(d, accept=["pdf", "jpg"], max_mb=10, max_files=3, required=True)))
    f = doc.forms[0].fields_by_key()["plan_file"]
    assert (f.accept, f.max_mb, f.max_files, f.required) == (["pdf", "jpg"], 10, 3, True)
    assert load(mutate(add)).forms[0].fields_by_key()["plan_file"].max_files == 1
    assert "plan_file 的 max_mb 不能大于平台的上传上限 20 MB" in problems_of(mutate(lambda d: add(d, max_mb=50)))
    assert "accept[0]" in problems_of(mutate(lambda d: add(d, accept=["exe"])))
    msg = problems_of(mutate(lambda d: _fields(d).append(
        {"key": "x", "label": "X", "kind": "text", "max_files": 2})))
    assert "只有附件字段可以有 accept/max_mb/max_files（x 是 text）" in msg
