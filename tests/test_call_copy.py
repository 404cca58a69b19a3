"""A new call made from an existing one (copy, then edit on pages: dates, quotas, amounts, contacts), not
only by importing YAML (issue 7 item 7). Audited; bad input is a 400 with the reason, nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shenbao.calls.models import Call
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def liuzhou(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def staff(liuzhou, make_user):
    return make_user("copy_funder", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))


def test_copy_then_edit_dates_quotas_amounts_and_contacts(client, liuzhou, staff):
    client.force_login(staff)
    page = client.get(reverse("calls:manage")).content.decode()
    assert reverse("calls:copy", args=[liuzhou.code]) in page
    r = client.post(reverse("calls:copy", args=[liuzhou.code]),
                    {"code": "liuzhou-2027-kcfn", "title": "关于申报2027年柳州市科协“科创赋能”项目的通知"})
    assert r.status_code == 302 and r["Location"] == reverse("calls:edit", args=["liuzhou-2027-kcfn"])
    new = Call.objects.get(code="liuzhou-2027-kcfn")
    assert new.status == Call.Status.DRAFT and new.title.startswith("关于申报2027年")
    assert [t.code for t in new.types.all()] == [t.code for t in liuzhou.types.all()]
    assert AuditEvent.objects.filter(action="call.copy", object_id=str(new.pk), actor=staff).exists()
    Call.objects.get(code=liuzhou.code)  # the source stays as it was
    assert Call.objects.get(code=liuzhou.code).revision == liuzhou.revision

    edit = reverse("calls:edit", args=[new.code])
    page = client.get(edit).content.decode()
    assert 'name="quota-2026-1" value="2"' in page and 'name="amount-2026-1" value="20000"' in page
    assert 'value="李香慧"' in page
    r = client.post(edit, {
        "title": new.title, "opens_at": "2027-03-01T09:00", "deadline": "2027-03-31T17:00",
        "quota-2026-1": "3", "amount-2026-1": "25000",
        "contact-0-name": "王明", "contact-0-department": "市科协学会部", "contact-0-phone": "0772-2629000",
        "contact-1-name": "", "contact-2-name": "赵丽", "contact-2-email": "zhaoli@example.cn",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    new = Call.objects.get(code="liuzhou-2027-kcfn")
    doc = new.document
    assert new.deadline == dt.datetime(2027, 3, 31, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert new.opens_at == dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    t1 = doc.project_type("2026-1")
    assert t1.quota.n == 3 and t1.funding.max == 25000 and t1.funding.min == 10000
    assert doc.project_type("2026-2").quota == Call.objects.get(code=liuzhou.code).document.project_type("2026-2").quota
    assert [(c.name, c.phone, c.email) for c in doc.contacts] == [("王明", "0772-2629000", ""), ("赵丽", "", "zhaoli@example.cn")]
    assert doc.contacts[0].mobile == "18276735671"  # what the page does not show is kept
    assert new.revision == 2 and AuditEvent.objects.filter(action="call.update", object_id=str(new.pk)).exists()


def test_bad_input_is_told_and_changes_nothing(client, liuzhou, staff):
    client.force_login(staff)
    edit = reverse("calls:edit", args=[liuzhou.code])
    before = (liuzhou.revision, liuzhou.content_hash)
    r = client.post(edit, {"title": liuzhou.title, "deadline": "明天", "quota-2026-1": "三个",
                           "amount-2026-1": "25000"})
    page = r.content.decode()
    assert r.status_code == 400
    assert "请填写截止时间" in page and "2026-1：数量须为整数" in page
    assert 'value="三个"' in page  # typed text kept
    liuzhou.refresh_from_db()
    assert (liuzhou.revision, liuzhou.content_hash) == before
    # a value the call format refuses (a range whose maximum falls below its minimum) names the problem
    r = client.post(edit, {"title": liuzhou.title, "deadline": "2026-03-31T17:00", "amount-2026-1": "5000"})
    assert r.status_code == 400 and "经费区间下限 10000 大于上限 5000" in r.content.decode()
    liuzhou.refresh_from_db()
    assert (liuzhou.revision, liuzhou.content_hash) == before


def test_copy_code_must_be_new_and_only_the_issuers_staff_copy(client, liuzhou, staff, make_org, make_user):
    client.force_login(staff)
    r = client.post(reverse("calls:copy", args=[liuzhou.code]), {"code": liuzhou.code, "title": "重复"})
    assert r.status_code == 400 and f"代码 {liuzhou.code} 已被其他通知使用" in r.content.decode()
    other = make_org("桂林市科学技术协会", "city_association", code=None)
    outsider = make_user("copy_outsider", org=other, roles=(Role.FUNDER_STAFF,))
    client.force_login(outsider)
    assert client.get(reverse("calls:copy", args=[liuzhou.code])).status_code == 403
    assert client.get(reverse("calls:edit", args=[liuzhou.code])).status_code == 403
