"""The funder's call administration: list, publish / unpublish, export and import YAML."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shenbao.calls.models import Call
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role
from tests.test_portal import text_of, texts, variant


@pytest.fixture
def liuzhou(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def staff(liuzhou, make_user):
    return make_user("lz_funder", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))


@pytest.fixture
def other_staff(liuzhou, make_org, make_user):
    other = make_org("桂林市科学技术协会", "city_association")
    return make_user("gl_funder", org=other, roles=(Role.FUNDER_STAFF,))


def _snapshot():
    """The calls and the audit log, refusals aside (a refusal is itself audited: R-S31)."""
    return (list(Call.objects.order_by("pk").values_list("code", "content_hash", "revision", "status")),
            AuditEvent.objects.exclude(action="access.denied").count())


# --- the list -------------------------------------------------------------------------------------------------


def test_manage_lists_the_funders_own_calls_with_status_and_counts(client, liuzhou, staff, other_staff):
    foreign = variant(liuzhou, code="gl-2026", issuer=other_staff.organisation.name)
    draft = variant(liuzhou, code="lz-draft", publish=False)
    client.force_login(staff)
    response = client.get(reverse("calls:manage"))
    assert response.status_code == 200
    html = response.content.decode()
    row = text_of(html, data_code=liuzhou.code)
    assert liuzhou.title in row and "已发布" in row
    assert str(len(liuzhou.document.project_types)) in row
    assert "未发布" in text_of(html, data_code=draft.code)
    assert foreign.code not in html  # another funder's call is not listed
    assert reverse("calls:import") in html and "/accounts/registrations/" in html


def test_manage_needs_login_and_a_funder_role(client, liuzhou, make_user):
    response = client.get(reverse("calls:manage"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    clerk = make_user("clerk", org=liuzhou.issuer, roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    response = client.get(reverse("calls:manage"))
    assert response.status_code == 403
    assert "只有主办方业务人员可以管理申报通知" in response.content.decode()


# --- publish / unpublish ------------------------------------------------------------------------------------


def test_issuer_staff_unpublish_and_publish_with_audit(client, liuzhou, staff):
    client.force_login(staff)
    url = reverse("calls:set_published", args=[liuzhou.code])
    before = AuditEvent.objects.filter(action="call.unpublish").count()
    # 撤回发布 asks first (issue 7 item 7): without the confirmation nothing changes
    response = client.post(url, {"published": "0"})
    assert response.status_code == 302 and response["Location"] == reverse("calls:unpublish", args=[liuzhou.code])
    liuzhou.refresh_from_db()
    assert liuzhou.status == Call.Status.PUBLISHED
    page = client.get(response["Location"]).content.decode()
    assert "确认撤回发布？" in page and liuzhou.title in page and "已收到的申报 0 份保留不变" in page
    response = client.post(url, {"published": "0", "confirm": "1"})
    assert response.status_code == 302
    liuzhou.refresh_from_db()
    assert liuzhou.status == Call.Status.UNPUBLISHED
    event = AuditEvent.objects.filter(action="call.unpublish").latest("id")
    assert AuditEvent.objects.filter(action="call.unpublish").count() == before + 1
    assert event.actor == staff and event.object_id == str(liuzhou.pk)
    assert client.post(url, {"published": "1"}).status_code == 302
    liuzhou.refresh_from_db()
    assert liuzhou.status == Call.Status.PUBLISHED
    assert AuditEvent.objects.filter(action="call.publish", actor=staff).exists()


def test_another_funders_staff_may_not_publish_and_are_told_why(client, liuzhou, other_staff):
    client.force_login(other_staff)
    events = AuditEvent.objects.count()
    response = client.post(reverse("calls:set_published", args=[liuzhou.code]), {"published": "0"})
    assert response.status_code == 403
    assert f"只有{liuzhou.issuer.name}的业务人员可以发布或撤回此通知" in response.content.decode()
    liuzhou.refresh_from_db()
    assert liuzhou.status == Call.Status.PUBLISHED and AuditEvent.objects.count() == events + 1
    refusal = AuditEvent.objects.latest("seq")  # the refusal itself is audited (R-S31)
    assert refusal.action == "access.denied" and "业务人员可以发布或撤回此通知" in refusal.note


def test_publish_is_post_only(client, liuzhou, staff):
    client.force_login(staff)
    assert client.get(reverse("calls:set_published", args=[liuzhou.code])).status_code == 405


# --- export ----------------------------------------------------------------------------------------------


def test_export_returns_the_yaml_as_loaded(client, liuzhou, staff, other_staff):
    client.force_login(staff)
    response = client.get(reverse("calls:export", args=[liuzhou.code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert response.content.decode() == liuzhou.source_yaml
    assert liuzhou.source_name in response["Content-Disposition"]
    client.force_login(other_staff)
    response = client.get(reverse("calls:export", args=[liuzhou.code]))
    assert response.status_code == 403 and "只有" in response.content.decode()


# --- import ----------------------------------------------------------------------------------------------


def _yaml(base: Call, **changes) -> str:
    data = yaml.safe_load(base.source_yaml)
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_import_a_good_file_loads_a_new_unpublished_call(client, liuzhou, staff):
    client.force_login(staff)
    text = _yaml(liuzhou, code="lz-2027", title="关于申报2027年项目的通知", year=2027)
    upload = SimpleUploadedFile("lz-2027.yaml", text.encode(), content_type="application/yaml")
    response = client.post(reverse("calls:import"), {"file": upload})
    assert response.status_code == 302
    call = Call.objects.get(code="lz-2027")
    assert call.status == Call.Status.DRAFT and call.source_name == "lz-2027.yaml"
    assert call.issuer == liuzhou.issuer
    assert call.types.count() == len(call.document.project_types)
    assert AuditEvent.objects.filter(action="call.create", actor=staff, object_id=str(call.pk)).exists()
    # and it shows in the list, unpublished
    assert "未发布" in text_of(client.get(reverse("calls:manage")).content.decode(), data_code="lz-2027")


def test_import_pasted_text_updates_the_call(client, liuzhou, staff):
    client.force_login(staff)
    text = _yaml(liuzhou, summary="修订后的说明。")
    response = client.post(reverse("calls:import"), {"text": text, "filename": "liuzhou-2026-kcfn.yaml"})
    assert response.status_code == 302
    liuzhou.refresh_from_db()
    assert liuzhou.revision == 2 and liuzhou.document.summary == "修订后的说明。"


@pytest.mark.parametrize(("mutate", "path", "words"), [
    (lambda d: d["project_types"][1]["quota"].update(kind="plenty"), "project_types[1].quota.kind", "取值不在允许范围内"),
    (lambda d: d.pop("deadline"), "deadline", "缺少必填项"),
    (lambda d: d["project_types"][0].update(form="F9"), "project_types[0].form", "F9"),
    (lambda d: d["project_types"][0]["eligibility"]["groups"][0].update(categories=["martians"]),
     "project_types[0].eligibility.groups[0].categories", "martians"),
])
def test_import_a_malformed_file_lists_the_problems_and_changes_nothing(client, liuzhou, staff, mutate, path, words):
    client.force_login(staff)
    data = yaml.safe_load(liuzhou.source_yaml)
    data["summary"] = "不应写入"
    mutate(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    before = _snapshot()
    upload = SimpleUploadedFile("broken.yaml", text.encode(), content_type="application/yaml")
    response = client.post(reverse("calls:import"), {"file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    rows = texts(html, class_="problem-list")
    assert rows, html
    listed = rows[0]
    assert "broken.yaml" in listed and path in listed and words in listed
    assert _snapshot() == before
    liuzhou.refresh_from_db()
    assert liuzhou.document.summary != "不应写入"


def test_import_yaml_syntax_error_names_the_line(client, liuzhou, staff):
    client.force_login(staff)
    before = _snapshot()
    response = client.post(reverse("calls:import"), {"text": "kind: call\ncode: [unclosed\n", "filename": "bad.yaml"})
    assert response.status_code == 400
    listed = text_of(response.content.decode(), class_="problem-list")
    assert "bad.yaml" in listed and "YAML 语法错误" in listed and "行" in listed
    assert _snapshot() == before


def test_import_of_another_issuers_call_is_refused(client, liuzhou, staff):
    client.force_login(staff)
    data = yaml.safe_load(liuzhou.source_yaml)
    data["code"] = "gx-2026-fake"
    data["issuer"]["name"] = "广西壮族自治区科学技术协会"
    before = _snapshot()
    response = client.post(reverse("calls:import"), {
        "text": yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "filename": "fake.yaml"})
    assert response.status_code == 403
    assert "不是本单位" in text_of(response.content.decode(), class_="refusal")
    assert _snapshot() == before


def test_import_may_not_take_over_another_funders_call_code(client, liuzhou, other_staff):
    """A file with the other funder's own name as issuer but this call's code would move the call."""
    client.force_login(other_staff)
    data = yaml.safe_load(liuzhou.source_yaml)
    data["issuer"]["name"] = other_staff.organisation.name
    before = _snapshot()
    response = client.post(reverse("calls:import"), {
        "text": yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "filename": "takeover.yaml"})
    assert response.status_code == 403
    assert liuzhou.issuer.name in text_of(response.content.decode(), class_="refusal")
    assert _snapshot() == before


def test_import_that_would_break_applications_is_refused_with_the_reasons(client, liuzhou, staff, make_org):
    from shenbao.applications.models import Application

    applicant = make_org("柳州市机械工程学会", "city_society")
    ptype = liuzhou.types.get(code="2026-1")
    Application.objects.create(call=liuzhou, project_type=ptype, applicant=applicant, title="在用")
    data = yaml.safe_load(liuzhou.source_yaml)
    data["project_types"] = data["project_types"][1:]
    client.force_login(staff)
    before = _snapshot()
    response = client.post(reverse("calls:import"), {
        "text": yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "filename": "drop-type.yaml"})
    assert response.status_code == 409
    listed = text_of(response.content.decode(), class_="problem-list")
    assert "drop-type.yaml" in listed and "2026-1" in listed and "不能删除" in listed
    assert _snapshot() == before


def test_import_needs_a_file_or_text(client, liuzhou, staff):
    client.force_login(staff)
    response = client.post(reverse("calls:import"), {})
    assert response.status_code == 400 and "请上传" in response.content.decode()


def test_import_page_is_refused_to_non_funders(client, liuzhou, make_user):
    clerk = make_user("clerk2", org=liuzhou.issuer, roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    response = client.post(reverse("calls:import"), {"text": liuzhou.source_yaml, "filename": "x.yaml"})
    assert response.status_code == 403 and "只有主办方业务人员" in response.content.decode()
