"""Change requests (R-P4) on the real calls: filed before the fact with a reason, approved or refused by the
funder; an approval makes the next plan version, the versions are the history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.projects import changes, contracts
from shenbao.projects.models import ChangeRequest, PlanVersion
from tests.projects_support import award, scan_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

BUDGET = [{"category": "meeting", "item": "党建活动", "amount": 12000},
          {"category": "travel", "item": "调研差旅", "amount": 8000}]


@pytest.fixture
def signed(load_call, make_org, make_user, tmp_path):
    """广西 2023-2 with its plan and a countersigned contract."""
    a = award(load_call, make_org, make_user, "guangxi2023")
    contracts.set_plan(actor=a.clerk, project=a.project, budget=BUDGET, content="开展党组织星级化建设",
                       schedule=[{"task": "星级评定", "start": "2023-06-01", "end": "2023-11-30"}])
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    result = contracts.upload_scan(user=a.clerk, contract=contract,
                                   upload=scan_of(contracts.contract_pdf(contract), tmp_path))
    contracts.countersign(user=a.leader, contract=result.contract)
    return a


def test_a_change_before_the_fact_is_accepted_and_after_the_fact_refused(signed):
    # R-P4: 如遇不可抗因素…应提前向自治区科协学会部（联络部）提交变更申请
    a = signed
    filed_on = dt.date(2023, 8, 1)
    for late in (filed_on, filed_on - dt.timedelta(days=3)):
        with pytest.raises(contracts.Refused, match=r"变更须事前申请.*属事后变更，不予受理"):
            changes.file_change(actor=a.clerk, project=a.project, reason="台风导致活动延期", effective_on=late,
                                filed_on=filed_on,
                                schedule=[{"task": "星级评定", "start": "2023-06-01", "end": "2023-12-10"}])
    assert not ChangeRequest.objects.exists()
    assert AuditEvent.objects.filter(action="change_request.refused").count() == 2
    row = changes.file_change(actor=a.clerk, project=a.project, reason="台风导致活动延期",
                              effective_on=filed_on + dt.timedelta(days=1), filed_on=filed_on,
                              schedule=[{"task": "星级评定", "start": "2023-06-01", "end": "2023-12-10"}])
    assert row.status == "filed" and row.changes == ["schedule"]


def test_an_approved_change_makes_a_new_version_with_history(signed):
    # R-P4
    a = signed
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    new_budget = [{"category": "meeting", "item": "党建活动", "amount": 14000},
                  {"category": "travel", "item": "调研差旅", "amount": 6000}]
    row = changes.file_change(actor=a.clerk, project=a.project, reason="调研改为线上，差旅费调减用于会议",
                              effective_on=tomorrow, budget=new_budget)
    with pytest.raises(NotAllowed):
        changes.decide(actor=a.clerk, change=row, approve=True)
    row = changes.decide(actor=a.staff, change=row, approve=True, note="同意")
    assert row.status == "approved" and row.result.number == 2
    again = changes.decide(actor=a.staff, change=row, approve=True)  # a double click changes nothing
    assert again.result_id == row.result_id and PlanVersion.objects.filter(project=a.project).count() == 2
    plan = contracts.current_plan(a.project)
    assert sorted((b.category, b.amount) for b in plan.budget_lines.all()) == [("meeting", 14000), ("travel", 6000)]
    assert plan.schedule == [{"task": "星级评定", "start": "2023-06-01", "end": "2023-11-30"}]  # unchanged part kept
    assert plan.content == "开展党组织星级化建设"
    hist = changes.history(a.project)
    assert [h.plan.number for h in hist] == [2, 1]
    assert hist[0].change.pk == row.pk
    assert hist[0].budget_diff == [("会议费（含场地、会务）", 12000, 14000), ("差旅费", 8000, 6000)]
    # version 1 is untouched
    v1 = PlanVersion.objects.get(project=a.project, number=1)
    assert sorted(b.amount for b in v1.budget_lines.all()) == [8000, 12000]
    # the final accounts now compare with version 2
    contracts.set_final_accounts(actor=a.clerk, project=a.project,
                                 lines=[{"category": "meeting", "item": "党建活动", "amount": 14000}])
    _lines, total = contracts.compare_accounts(a.project)
    assert total.budget == 20000 and total.actual == 14000


def test_a_change_breaking_the_spending_rules_is_refused(signed):
    # R-P3 through R-P4: travel above half for 广西 2023-2, a forbidden line
    a = signed
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(contracts.Refused, match="超过本项目规定的差旅支出比例上限 50%"):
        changes.file_change(actor=a.clerk, project=a.project, reason="增加调研", effective_on=tomorrow,
                            budget=[{"category": "travel", "amount": 12000}, {"category": "meeting", "amount": 8000}])
    with pytest.raises(contracts.Refused, match="不得用于此类支出"):
        changes.file_change(actor=a.clerk, project=a.project, reason="购置电脑", effective_on=tomorrow,
                            budget=[{"category": "assets", "item": "笔记本电脑", "amount": 5000},
                                    {"category": "meeting", "amount": 15000}])
    with pytest.raises(contracts.Refused, match="请写明变更理由"):
        changes.file_change(actor=a.clerk, project=a.project, reason=" ", effective_on=tomorrow, content="新内容")
    with pytest.raises(contracts.Refused, match="没有需要变更的内容"):
        changes.file_change(actor=a.clerk, project=a.project, reason="无", effective_on=tomorrow, budget=BUDGET)
    assert not ChangeRequest.objects.exists()


def test_refusal_needs_a_reason_and_a_stale_request_cannot_be_approved(signed):
    a = signed
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    first = changes.file_change(actor=a.clerk, project=a.project, reason="内容调整", effective_on=tomorrow,
                                content="开展党组织星级化建设和党建培训")
    second = changes.file_change(actor=a.clerk, project=a.project, reason="另一项调整", effective_on=tomorrow,
                                 content="开展党组织星级化建设和走基层")
    with pytest.raises(contracts.Refused, match="不予批准须写明理由"):
        changes.decide(actor=a.staff, change=first, approve=False)
    changes.decide(actor=a.leader, change=first, approve=True)
    with pytest.raises(contracts.Refused, match="申请依据的是第 1 版计划，现行为第 2 版"):
        changes.decide(actor=a.staff, change=second, approve=True)
    second = changes.decide(actor=a.staff, change=second, approve=False, note="与已批准的变更冲突，请重新申请")
    assert second.status == "refused" and second.decision_note.startswith("与已批准")
    assert contracts.current_plan(a.project).content == "开展党组织星级化建设和党建培训"


def test_no_change_request_before_the_contract_is_signed(load_call, make_org, make_user):
    # R-P4: before the unit signs, the plan is edited directly; after, only by request
    a = award(load_call, make_org, make_user, "liuzhou2026")
    contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "meeting", "amount": 10000}])
    with pytest.raises(NotAllowed, match="合同签章前可直接修改项目计划"):
        changes.file_change(actor=a.clerk, project=a.project, reason="x",
                            effective_on=dt.date.today() + dt.timedelta(days=5), content="y")


def test_pages_and_api_of_change_requests(signed, client):
    # R-P4 through the page (after the fact refused) and the API (before the fact, approved)
    a = signed
    p = a.project.pk
    client.force_login(a.clerk)
    today = dt.date.today()
    response = client.post(f"/projects/{p}/changes/", {"what": ["content"], "content": "改为线上活动",
                                                       "reason": "疫情", "effective_on": today.isoformat()})
    assert response.status_code == 400 and "属事后变更，不予受理" in response.content.decode()
    response = client.post(f"/api/v1/projects/{p}/changes", {"reason": "疫情", "content": "改为线上活动",
                                                             "effective_on": (today + dt.timedelta(days=2)).isoformat()},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    change = response.json()["id"]
    client.force_login(a.staff)
    home = client.get(reverse("orgs:home")).content.decode()
    assert re.search(r'data-todo="changes_to_decide".*?<strong class="count[^"]*">1</strong>', home)
    page = client.get(f"/projects/{p}/changes/").content.decode()
    assert "批准变更" in page and "疫情" in page
    client.post(f"/projects/changes/{change}/decide/", {"action": "approve", "note": "同意"})
    data = client.get(f"/api/v1/projects/{p}/changes").json()
    assert [v["number"] for v in data["versions"]] == [2, 1] and data["versions"][0]["content_changed"]
    assert data["requests"][0]["status"] == "approved" and data["requests"][0]["result"] == 2
    assert "项目计划共 2 个版本" in client.get(f"/projects/{p}/").content.decode()
