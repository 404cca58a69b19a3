"""Loading calls: idempotent, audited, and careful with calls that already have applications."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.core.management import call_command

from shenbao.applications.models import Application
from shenbao.calls import schema, services
from shenbao.calls.models import Call
from shenbao.core.models import AuditEvent
from tests.conftest import CALLS
from tests.test_call_format import minimal

pytestmark = pytest.mark.django_db


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def liuzhou_text() -> str:
    return (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8")


def test_loading_twice_changes_nothing(catalogue):
    first = services.load_call(text=liuzhou_text(), filename="liuzhou-2026-kcfn.yaml")
    second = services.load_call(text=liuzhou_text(), filename="liuzhou-2026-kcfn.yaml")
    assert first.created and first.changed
    assert not second.created and not second.changed
    call = Call.objects.get(code="liuzhou-2026-kcfn")
    assert call.revision == 1
    assert call.types.count() == 5
    assert AuditEvent.objects.filter(action="call.create", object_id=str(call.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="call.update").exists()


def test_changed_file_is_a_new_revision_with_before_and_after(catalogue):
    services.load_call(text=liuzhou_text(), filename="a.yaml")
    changed = liuzhou_text().replace("deadline: 2026-03-31T17:00:00+08:00", "deadline: 2026-04-03T17:00:00+08:00")
    result = services.load_call(text=changed, filename="a.yaml")
    assert result.changed and not result.created
    call = result.call
    assert call.revision == 2
    call.refresh_from_db()
    assert call.deadline == datetime(2026, 4, 3, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    event = AuditEvent.objects.get(action="call.update", object_id=str(call.pk))
    assert event.before["revision"] == 1 and event.after["revision"] == 2
    assert event.before["content_hash"] != event.after["content_hash"]


def test_directory_load_takes_catalogue_first_and_command_is_idempotent(db):
    out = io.StringIO()
    call_command("load_call", str(CALLS), stdout=out)
    call_command("load_call", str(CALLS / "liuzhou-2026-kcfn.yaml"), stdout=out)
    lines = out.getvalue().splitlines()
    assert any("liuzhou-2026-kcfn 新建" in line for line in lines)
    assert any("liuzhou-2026-kcfn 无变化" in line for line in lines)


def test_command_reports_bad_file_and_fails(catalogue, tmp_path):
    bad = tmp_path / "bad.yaml"
    data = minimal()
    data["project_types"][0]["quota"]["kind"] = "maybe"
    bad.write_text(dump(data), "utf-8")
    err = io.StringIO()
    with pytest.raises(Exception, match="有文件未能载入"):
        call_command("load_call", str(bad), stderr=err)
    assert f"{bad}: project_types[0].quota.kind: 取值不在允许范围内" in err.getvalue()
    assert not Call.objects.filter(code="test-2026").exists()


@pytest.fixture
def applied(catalogue, make_org):
    """The minimal call loaded, with one application made to its type."""
    result = services.load_call(text=dump(minimal()), filename="t.yaml")
    applicant = make_org("测试市机械学会", "city_society")
    ptype = result.call.types.get(code="2026-1")
    Application.objects.create(call=result.call, project_type=ptype, applicant=applicant, title="x")
    return result.call


def refused(data: dict) -> list[str]:
    with pytest.raises(services.CallInUseError) as exc:
        services.load_call(text=dump(data), filename="t.yaml")
    return exc.value.problems


def test_reload_refuses_removing_a_type_that_has_applications(applied):
    data = minimal()
    data["project_types"][0]["code"] = "2026-9"
    assert refused(data) == ["项目类型 2026-1（测试项目）已有 1 份申报，不能删除"]
    applied.refresh_from_db()
    assert applied.revision == 1
    assert list(applied.types.values_list("code", flat=True)) == ["2026-1"]


def test_reload_refuses_removing_or_retyping_a_field_in_use(applied):
    data = minimal()
    data["forms"][0]["sections"][0]["fields"][0].update(kind="long_text", title=False)
    data["forms"][0]["sections"][0]["fields"].append({"key": "x", "label": "新增", "kind": "text", "title": True})
    assert refused(data) == ["申报表 F1 的字段 project_name 已有 1 份申报在用，不能把类型从 text 改为 long_text"]
    data = minimal()
    data["forms"][0]["sections"][0]["fields"][0]["key"] = "name"
    assert refused(data) == ["申报表 F1 的字段 project_name 已有 1 份申报在用，不能删除"]


def test_reload_allows_compatible_changes_with_applications(applied):
    data = minimal()
    data["deadline"] = "2026-04-10T17:00:00+08:00"  # an extension
    data["forms"][0]["sections"][0]["fields"].append({"key": "address", "label": "联系地址", "kind": "text"})
    data["project_types"].append({**data["project_types"][0], "code": "2026-2", "name": "新增类型"})
    result = services.load_call(text=dump(data), filename="t.yaml")
    assert result.changed
    assert result.call.revision == 2
    assert sorted(result.call.types.values_list("code", flat=True)) == ["2026-1", "2026-2"]


def test_type_without_applications_is_dropped_on_reload(catalogue):
    data = minimal()
    data["project_types"].append({**data["project_types"][0], "code": "2026-2", "name": "第二类"})
    call = services.load_call(text=dump(data), filename="t.yaml").call
    assert call.types.count() == 2
    data["project_types"].pop()
    services.load_call(text=dump(data), filename="t.yaml")
    assert list(call.types.values_list("code", flat=True)) == ["2026-1"]


def test_a_new_issuer_with_a_new_category_needs_no_code(catalogue):  # a call is data (R-E1); R-S36
    """A new category is data too, but the platform's: the system administrator adds it to the catalogue
    (no code), then the new issuer's call uses it (and may repeat its definition word for word)."""
    from shenbao.orgs.models import Category

    data = minimal()
    data["code"] = "newcity-2027"
    data["issuer"] = {"name": "新市科学技术协会", "level": "city", "category": "city_association"}
    data["categories"] = [{"code": "youth_society", "name": "青年科技工作者协会", "parent": "society"}]
    data["project_types"][0]["eligibility"]["groups"][0]["categories"] = ["youth_society"]
    with pytest.raises(schema.CallFormatError, match="youth_society（青年科技工作者协会）不在平台的单位类别目录中"):
        services.load_call(text=dump(data), filename="new.yaml")
    assert not Category.objects.filter(code="youth_society").exists()
    catalogue = yaml.safe_load((CALLS / "catalogue.yaml").read_text("utf-8"))
    catalogue["categories"].append({"code": "youth_society", "name": "青年科技工作者协会", "parent": "society"})
    services.load_catalogue(text=dump(catalogue), filename="catalogue.yaml")  # the server's operator
    call = services.load_call(text=dump(data), filename="new.yaml").call
    assert call.issuer.name == "新市科学技术协会"
    assert call.document.project_types[0].eligibility.groups[0].categories == ["youth_society"]
    assert Category.objects.get(code="youth_society").parent.code == "society"


def test_unknown_category_refused_against_catalogue(catalogue):
    data = minimal()
    data["project_types"][0]["eligibility"]["groups"][0]["categories"] = ["martian_society"]
    with pytest.raises(schema.CallFormatError) as exc:
        services.load_call(text=dump(data), filename="t.yaml")
    assert exc.value.problems == [("project_types[0].eligibility.groups[0].categories",
                                   "未知的申报单位类别 'martian_society'")]


def test_publish_and_unpublish_are_audited(catalogue):
    call = services.load_call(text=liuzhou_text(), filename="a.yaml").call
    assert call.status == Call.Status.DRAFT
    services.set_published(call=call, published=True)
    services.set_published(call=call, published=False)
    events = list(AuditEvent.objects.filter(object_id=str(call.pk), action__startswith="call.u").values_list(
        "action", "before", "after"))
    assert ("call.unpublish", {"status": "published"}, {"status": "unpublished"}) in events


def test_defaults_merge_into_types(load_call):
    call = load_call("liuzhou2026")
    doc = call.document
    t4 = doc.project_type("2026-4")
    eligibility = doc.effective(t4, "eligibility")
    assert eligibility.within_issuer is True  # from the call's defaults
    assert eligibility.groups[0].categories == ["doctoral_station_host"]  # the type's own
    assert doc.effective(t4, "joint").max_units == 2  # R-E4


def test_task_measures_are_named_from_the_catalogue(load_call, client):  # R-C4
    from shenbao.calls.models import Measure

    call = load_call("liuzhou2026")
    assert Measure.objects.get(key="participants").name == "参加人数"
    page = client.get(f"/calls/{call.code}/").content.decode()
    assert "参加人数" in page  # 2026-2: 活动规模需不少于50人
    assert "participants" not in page
