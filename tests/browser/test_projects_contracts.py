"""The contract in headless Chromium (issue 9 item 1, R-P1): the funder generates it from the project page,
the unit downloads the PDF, uploads the signed scan (its QR read back), the funder countersigns, finance pays
from its bench; a change request after the fact is refused on the page (R-P4)."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from shenbao.projects import contracts
from shenbao.projects.models import Contract
from tests.projects_support import award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def _as(page, client, user):
    page.context.clear_cookies()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base}])


def test_contract_signed_countersigned_and_paid(page, client, load_call, make_org, make_user, artifacts, tmp_path):
    # R-P1
    a = award(load_call, make_org, make_user, "liuzhou2026", prefix="br")
    p = a.project.pk
    _as(page, client, a.clerk)
    page.goto(f"{page.base}/projects/{p}/plan/")
    rows = page.locator("#budget tbody tr")
    rows.nth(0).locator("select[name=category]").select_option("meeting")
    rows.nth(0).locator("input[name=item]").fill("科普讲座场地")
    rows.nth(0).locator("input[name=amount]").fill("12000")
    rows.nth(1).locator("select[name=category]").select_option("labour")
    rows.nth(1).locator("input[name=amount]").fill("2000")
    page.click("#save-plan")
    assert "不得用于此类支出" in page.locator(".messages").inner_text()  # 柳州: no 工作劳务 (R-P3)
    page.locator("#budget tbody tr").nth(1).locator("select[name=category]").select_option("expert_fees")
    page.click("#save-plan")
    assert "项目计划已保存" in page.locator(".messages").inner_text()

    _as(page, client, a.staff)
    page.goto(f"{page.base}/projects/{p}/")
    page.click("#open-contract")
    page.click("#generate")
    assert page.locator("#contract-status").get_attribute("data-status") == "generated"
    page.screenshot(path=str(artifacts / "contract-generated.png"), full_page=True)

    _as(page, client, a.clerk)
    page.goto(f"{page.base}/projects/{p}/contract/")
    with page.expect_download() as dl:
        page.click("#contract-pdf")
    pdf = tmp_path / "contract.pdf"
    dl.value.save_as(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "scan")], check=True)
    page.set_input_files("#scan", str(tmp_path / "scan.png"))
    page.click("#upload-scan")
    assert "版本一致" in page.locator(".messages").inner_text()
    assert page.locator("#contract-status").get_attribute("data-status") == "signed_by_unit"

    _as(page, client, a.finance)
    page.goto(f"{page.base}/projects/finance/")
    assert "签订前不能拨付经费" in page.locator("#finance").inner_text()

    _as(page, client, a.leader)
    page.goto(f"{page.base}/projects/{p}/contract/")
    page.click("#countersign")
    assert page.locator("#contract-status").get_attribute("data-status") == "countersigned"
    assert Contract.objects.get(project=a.project).countersigned_by_id == a.leader.pk

    _as(page, client, a.finance)
    page.goto(f"{page.base}/projects/finance/")
    row = page.locator(f"#finance tr[data-project='{p}']")
    row.locator("input[name=on]").first.fill("2026-06-01")
    row.locator("button").first.click()
    assert "已登记拨款 10,000 元" in page.locator(".messages").inner_text()
    assert contracts.ledger(a.project).paid == 10000
    page.goto(f"{page.base}/projects/{p}/money/")
    page.screenshot(path=str(artifacts / "contract-money.png"), full_page=True)

    _as(page, client, a.clerk)
    page.goto(f"{page.base}/projects/{p}/changes/")
    page.fill("#effective_on", dt.date.today().isoformat())
    page.fill("#reason", "场地临时调整")
    page.check("input[name=what][value=content]")
    page.click("#file")
    assert "属事后变更，不予受理" in page.locator(".messages").inner_text()
