"""The catalogue (categories, attributes, measures) is the platform's: only the system administrator changes
it, audited with before and after; a funder's call file may only use it."""

from __future__ import annotations

import shutil

import pytest
import yaml

from shenbao.calls import services
from shenbao.calls.models import Measure
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Category, Role
from tests.conftest import CALLS
from tests.test_call_format import minimal

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture
def funder(make_org, make_user):
    issuer = make_org("测试市科学技术协会", "city_association", code=None)
    return make_user("test_funder", issuer, roles=(Role.FUNDER_STAFF,))


def _import(client, funder, data: dict):
    client.force_login(funder)
    return client.post("/manage/calls/import/", {"text": dump(data), "filename": "evil.yaml"})


def test_a_call_cannot_make_a_category_a_kind_of_another(client, funder):  # R-S36
    data = minimal()
    data["categories"] = [{"code": "enterprise", "name": "企业", "parent": "city_society"}]
    r = _import(client, funder, data)
    assert r.status_code == 400
    page = r.content.decode()
    assert "类别 enterprise（企业）与平台目录中的定义不同" in page and "上级类别：无 → city_society" in page
    assert Category.objects.get(code="enterprise").parent is None


def test_a_call_cannot_make_the_finance_department_registrable(client, funder):  # R-S36
    data = minimal()
    data["categories"] = [{"code": "finance_department", "name": "财政部门", "applicant": True}]
    r = _import(client, funder, data)
    assert r.status_code == 400
    page = r.content.decode()
    assert "类别 finance_department（财政部门）与平台目录中的定义不同" in page and "可注册为申报单位：否 → 是" in page
    assert Category.objects.get(code="finance_department").applicant is False


def test_a_call_cannot_add_a_category_or_a_measure(client, funder):  # R-S36
    data = minimal()
    data["categories"] = [{"code": "youth_society", "name": "青年科技工作者协会", "parent": "society"}]
    data["measures"] = [{"key": "participants", "name": "人数", "unit": "人"}, {"key": "likes", "name": "点赞数"}]
    r = _import(client, funder, data)
    assert r.status_code == 400
    page = r.content.decode()
    assert "类别 youth_society（青年科技工作者协会）不在平台的单位类别目录中" in page
    assert "任务指标 participants（参加人数）与平台目录中的定义不同（名称：参加人数 → 人数" in page
    assert "任务指标 likes（点赞数）不在平台目录中" in page
    assert not Category.objects.filter(code="youth_society").exists()
    assert Measure.objects.get(key="participants").name == "参加人数" and not Measure.objects.filter(key="likes")


def test_a_call_may_repeat_a_catalogue_entry_word_for_word(client, funder):  # R-S36
    catalogue = yaml.safe_load((CALLS / "catalogue.yaml").read_text("utf-8"))
    data = minimal()
    data["categories"] = [c for c in catalogue["categories"] if c["code"] == "pilot_city_association"]
    r = _import(client, funder, data)
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="call.create").exists()


def test_only_the_system_administrator_changes_the_catalogue(client, funder, make_user, settings, tmp_path):  # R-S36
    text = (CALLS / "catalogue.yaml").read_text("utf-8")
    with pytest.raises(NotAllowed, match="只有系统管理员"):
        services.load_catalogue(text=text, filename="catalogue.yaml", actor=funder)
    client.force_login(funder)  # a catalogue through the funder's import
    r = client.post("/manage/calls/import/", {"text": text, "filename": "catalogue.yaml"})
    assert r.status_code == 400 and "须为 call" in r.content.decode()

    # the system administrator reloads an edited catalogue from the system page: audited, only what changed
    for p in CALLS.glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    edited = text.replace("{code: journal, name: 科技期刊（编辑部）, name_en: journal}",
                          "{code: journal, name: 科技期刊, name_en: journal, applicant: false}")
    assert edited != text
    (tmp_path / "catalogue.yaml").write_text(edited, "utf-8")
    settings.CALLS_DIR = tmp_path
    sysadmin = make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,))
    client.force_login(sysadmin)
    r = client.post("/accounts/system/", {"action": "reload_catalogue"}, HTTP_USER_AGENT="ua-test")
    assert r.status_code == 302
    event = AuditEvent.objects.get(action="catalogue.load", actor=sysadmin)
    assert event.before == {"categories": {"journal": {"name": "科技期刊（编辑部）", "applicant": True}}}
    assert event.after == {"categories": {"journal": {"name": "科技期刊", "applicant": False}}}
    assert event.user_agent == "ua-test"
    assert Category.objects.get(code="journal").applicant is False
