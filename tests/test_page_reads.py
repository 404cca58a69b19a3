"""The application page, 我的申报 and the save read less (issue 6) and show the same: the version's scans and
the endorsement come from the application's lists read once, its own approval and an accepted excess over
the limit are read with it, the viewer's unit and the submitter are the rows already read, the save reuses
the call, type and unit the page read while the row itself is read again under its lock."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shenbao.applications import printing, services
from shenbao.applications.models import Application
from shenbao.core.decisions import NotAllowed
from shenbao.orgs.models import Role
from tests.journey_support import approve_own, filled_draft, reopen, unit, values_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def people(call, make_org, make_user):
    org, clerk, _head = unit(make_org, make_user, name="柳州市读取学会", category="city_society", parent=call.issuer,
                            prefix="rd", head=False)
    clerk.display_name = "张经办"
    clerk.save(update_fields=["display_name"])
    staff = make_user("lz_rd_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    return org, clerk, staff


def scan_of(snapshot) -> SimpleUploadedFile:
    return SimpleUploadedFile("盖章件.pdf", printing.pdf(snapshot))


def page(client, app) -> str:
    response = client.get(reverse("applications:detail", args=[app.pk]))
    assert response.status_code == 200
    return response.content.decode()


def mine(client) -> str:
    response = client.get(reverse("applications:mine"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_and_my_applications_follow_the_versions_scans(client, call, people):
    org, clerk, staff = people
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(clerk)
    draft = page(client, app)
    assert f"张经办 · {org.name}" in draft and 'id="scans"' not in draft  # a draft: no version, no scans
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    first = app.current_snapshot
    html = page(client, app)
    assert f"张经办 · {org.name}" in html and "（张经办）" in html  # the unit in the head, the submitter
    assert 'data-state="none"' in html and "打印申报表，签字盖章后上传扫描件" in mine(client)
    scan = services.upload_scan(user=clerk, application=app, upload=scan_of(first)).scan
    html = page(client, app)
    assert f'data-scan="{scan.pk}" data-state="matched"' in html and 'id="scan-status" data-state="matched"' in html
    assert "上传盖章扫描件（二维码核验通过）" in html
    assert "版本一致，盖章待主办方确认" in mine(client)
    services.confirm_stamp(user=staff, scan=scan)
    html = page(client, app)
    assert 'id="scan-status" data-state="confirmed"' in html
    assert "主办方确认盖章（已核验）" in html  # the scan's own events are in the record (found by its id)
    assert "已报送主办方，等待评审" in mine(client)
    # a new version: the first one's scan is listed as void, the new version has none yet
    services.withdraw(user=clerk, application=app)
    app.refresh_from_db()
    services.save_draft(user=clerk, application=app, values=values_for(app, overrides={"project_name": "第二版名称"}),
                        expected_version=app.version)
    services.submit(user=clerk, application=Application.objects.get(pk=app.pk))
    app.refresh_from_db()
    assert app.current_snapshot_id != first.pk
    html = page(client, app)
    block = html[html.index(f'data-scan="{scan.pk}"'):]
    assert "已作废" in block[:block.index("</div>")]
    assert 'id="scan-status" data-state="none"' in html
    assert "打印申报表，签字盖章后上传扫描件" in mine(client)


def test_the_funder_sees_the_endorsement_and_the_unit_its_own_approval(client, load_call, make_org, make_user):
    # R-E9 the funder reads the endorsing association's opinion in the form; R-E8 the meeting on the page
    guangxi = reopen(load_call("guangxi2026"))
    city = make_org("柳州市科学技术协会", "city_association", parent=guangxi.issuer, code=None)
    reviewer = make_user("home_rd", org=city, roles=(Role.HOME_REVIEWER,), display_name="李审核")
    staff = make_user("gx_rd", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    _org, clerk, _head = unit(make_org, make_user, name="柳州读取园区科协", category="enterprise_association",
                              parent=city, prefix="rdk")
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    services.endorse(user=reviewer, application=Application.objects.get(pk=app.pk), opinion="同意推荐，材料齐全。")
    client.force_login(staff)
    html = page(client, app)
    frozen = html[html.index('id="frozen"'):]
    assert "同意推荐，材料齐全。" in frozen and "李审核" in frozen
    client.logout()

    changde = reopen(load_call("changde2022"))
    _o, cd_clerk, cd_head = unit(make_org, make_user, name="常德市读取学会", category="city_society",
                                 parent=changde.issuer, prefix="rdc")
    draft = filled_draft(cd_clerk, changde, "1")
    client.force_login(cd_clerk)
    assert "内部审议" not in page(client, draft)
    approve_own(draft, cd_clerk, cd_head, name="理事会第三次")
    html = page(client, draft)
    assert "理事会第三次" in html and "负责人已确认" in html


def test_a_save_reads_the_row_again_under_its_lock(call, people):
    # the page's application (with its call, type and unit) is reused, its state is not: a change made
    # since the page read it decides
    _org, clerk, _staff = people
    app = filled_draft(clerk, call, "2026-2")
    held = (Application.objects.select_related("call", "project_type", "track", "applicant", "applicant__category")
            .get(pk=app.pk))
    held.share_call()
    assert held.project_type.call is held.call
    result = services.save_draft(user=clerk, application=held, values=values_for(app, overrides={"project_name": "甲"}),
                                 expected_version=held.version)
    assert result.changed and result.application.call is held.call and held.version == app.version + 1
    assert Application.objects.get(pk=app.pk).data["project_name"] == "甲"
    services.save_draft(user=clerk, application=Application.objects.get(pk=app.pk),
                        values=values_for(app, overrides={"project_name": "乙"}), expected_version=held.version)
    with pytest.raises(services.Conflict):  # saved by someone else since: the version read under the lock
        services.save_draft(user=clerk, application=held, values=values_for(app, overrides={"project_name": "丙"}),
                            expected_version=held.version)
    services.submit(user=clerk, application=Application.objects.get(pk=app.pk))
    with pytest.raises(NotAllowed):  # submitted since: the status read under the lock
        services.save_draft(user=clerk, application=held, values=values_for(app, overrides={"project_name": "丁"}),
                            expected_version=held.version + 1)
    assert Application.objects.get(pk=app.pk).data["project_name"] == "乙"
