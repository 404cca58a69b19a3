"""The contract (合同书/任务书) and the money of an awarded project, on the five real calls: the contract is
printed with the fingerprint QR and its signed scan verified like the application's (R-F4 mechanism), no
payment before the countersignature (R-P1), the call's disbursement mode (R-P2), spending rules (R-P3),
totals within the award, recovery (R-P5), final accounts compared with the budget."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.projects import contracts
from shenbao.projects.models import Contract, ContractScan, ContractTemplate, Payment
from tests.projects_support import TYPES, award, scan_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def make_award(load_call, make_org, make_user):
    def _make(name: str, **kw):
        return award(load_call, make_org, make_user, name, **kw)
    return _make


def signed(a, tmp_path) -> Contract:
    """Generate, print, scan (QR read back) and countersign the project's contract."""
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    result = contracts.upload_scan(user=a.clerk, contract=contract, upload=scan_of(contracts.contract_pdf(contract),
                                                                                    tmp_path))
    assert result.scan.state == ContractScan.State.MATCHED, result.message
    return contracts.countersign(user=a.leader, contract=result.contract)


def first_milestone(a):
    return a.project.milestones.filter(cancelled=False).order_by("order").first()


# --- R-P1: no money before a countersigned contract ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TYPES))
def test_no_payment_before_the_contract_is_countersigned(name, make_award, tmp_path):
    # R-P1
    a = make_award(name)
    kind = contracts.contract_kind(a.project)
    word = "任务书" if kind == "task_book" else "合同书"
    assert kind == ("task_book" if name == "changde2022" else "contract")  # 常德's notice: 任务书
    with pytest.raises(contracts.Refused, match=f"尚未生成{word}"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=1000, on=TODAY, milestone=None)
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    m = first_milestone(a)
    with pytest.raises(contracts.Refused, match=f"{word}尚未签订（当前：已生成，待单位签章）"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=m.amount, on=TODAY, milestone=m)
    result = contracts.upload_scan(user=a.clerk, contract=contract, upload=scan_of(contracts.contract_pdf(contract),
                                                                                    tmp_path))
    assert result.contract.status == Contract.Status.SIGNED_BY_UNIT
    with pytest.raises(contracts.Refused, match="单位已签章，待主办方签署"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=m.amount, on=TODAY, milestone=m)
    assert not Payment.objects.filter(project=a.project).exists()
    assert AuditEvent.objects.filter(action="project.payment_refused").count() == 3
    contracts.countersign(user=a.leader, contract=result.contract)
    if m.condition == "contract":
        payment = contracts.record_payment(actor=a.finance, project=a.project, amount=m.amount, on=TODAY, milestone=m)
        assert payment.amount == m.amount
    assert Contract.objects.get(project=a.project).status == Contract.Status.COUNTERSIGNED


def test_only_the_funders_finance_records_payments(make_award, tmp_path, make_user):
    a = make_award("liuzhou2026")
    signed(a, tmp_path)
    m = first_milestone(a)
    for who in (a.clerk, a.staff):
        with pytest.raises(NotAllowed, match="财务人员"):
            contracts.record_payment(actor=who, project=a.project, amount=m.amount, on=TODAY, milestone=m)
    other = make_award("guangxi2023", prefix="o")
    with pytest.raises(NotAllowed):
        contracts.record_payment(actor=other.finance, project=a.project, amount=m.amount, on=TODAY, milestone=m)


# --- R-P2: disbursement by the call's mode --------------------------------------------------------------------


def test_by_progress_pays_the_rest_only_after_progress_is_confirmed(make_award, tmp_path):
    # R-P2: 柳州 2026 按工作进度拨付
    a = make_award("liuzhou2026")
    assert contracts.disbursement_mode(a.project) == "by_progress"
    signed(a, tmp_path)
    first, rest = a.project.milestones.filter(cancelled=False).order_by("order")
    assert (first.condition, rest.condition) == ("contract", "progress")
    assert first.amount + rest.amount == a.project.amount
    contracts.record_payment(actor=a.finance, project=a.project, amount=first.amount, on=TODAY, milestone=first)
    with pytest.raises(contracts.Refused, match="须在主办方确认工作进度后拨付"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=rest.amount, on=TODAY, milestone=rest)
    contracts.confirm_milestone(actor=a.staff, milestone=rest, note="中期检查通过")
    contracts.record_payment(actor=a.finance, project=a.project, amount=rest.amount, on=TODAY, milestone=rest)
    assert contracts.ledger(a.project).paid == a.project.amount


def test_one_off_is_paid_at_once(make_award, tmp_path):
    # R-P2: 广西 2023 一次性拨付
    a = make_award("guangxi2023")
    assert contracts.disbursement_mode(a.project) == "one_off"
    signed(a, tmp_path)
    (m,) = a.project.milestones.filter(cancelled=False)
    with pytest.raises(contracts.Refused, match="一次性拨付：须一次拨付 20,000 元"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=5000, on=TODAY, milestone=m)
    contracts.record_payment(actor=a.finance, project=a.project, amount=20000, on=TODAY, milestone=m)
    with pytest.raises(contracts.Refused):
        contracts.record_payment(actor=a.finance, project=a.project, amount=1, on=TODAY, milestone=m)
    with pytest.raises(contracts.Refused, match="只能有一个拨付节点"):
        contracts.set_milestones(actor=a.staff, project=a.project, rows=[
            {"title": "一", "amount": 10000}, {"title": "二", "amount": 10000}])


def test_after_evaluation_pays_what_the_evaluation_grants(make_award, tmp_path):
    # R-P2: 广西 2026-7 海智计划 (后资助): 组织专家对项目成果进行评审，择优给予经费资助
    a = make_award("guangxi2026", type_code="2026-7", amount=30000)
    assert contracts.disbursement_mode(a.project) == "after_evaluation"
    signed(a, tmp_path)
    (m,) = a.project.milestones.filter(cancelled=False)
    with pytest.raises(contracts.Refused, match="须在成果评估后拨付"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=30000, on=TODAY, milestone=m)
    with pytest.raises(contracts.Refused, match="不超过计划金额"):
        contracts.confirm_milestone(actor=a.staff, milestone=m, amount=40000)
    m = contracts.confirm_milestone(actor=a.staff, milestone=m, amount=25000, note="专家评审：良好")
    with pytest.raises(contracts.Refused):
        contracts.record_payment(actor=a.finance, project=a.project, amount=30000, on=TODAY, milestone=m)
    contracts.record_payment(actor=a.finance, project=a.project, amount=25000, on=TODAY, milestone=m)
    assert contracts.ledger(a.project).paid == 25000


def test_per_contract_plan_is_the_funders_instalments(make_award, tmp_path):
    # R-P2: 广西 2026 按合同约定拨付: the funder writes the instalments into the contract
    a = make_award("guangxi2026", amount=15000)
    assert contracts.disbursement_mode(a.project) == "per_contract"
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    with pytest.raises(contracts.Refused, match="拨付计划合计 16,000 元超过资助金额 15,000 元"):
        contracts.set_milestones(actor=a.staff, project=a.project, rows=[
            {"title": "签订后", "amount": 10000}, {"title": "活动后", "amount": 6000}])
    contracts.set_milestones(actor=a.staff, project=a.project, rows=[
        {"title": "合同签订后", "amount": 10000, "condition": "contract"},
        {"title": "活动举办后", "amount": 5000, "condition": "progress"}])
    contract.refresh_from_db()
    assert contract.number == 2  # the new plan is in the contract
    assert [m["amount"] for m in contract.values["milestones"]] == [10000, 5000]
    signed_contract = signed(a, tmp_path)
    assert signed_contract.number == 2


def test_the_calls_without_a_mode_pay_once(make_award):
    # R-P2: 湖南 2024 says nothing of disbursement: one instalment of the whole award
    a = make_award("hunan2024")
    contracts.generate_contract(actor=a.staff, project=a.project)
    (m,) = a.project.milestones.all()
    assert (m.amount, m.condition) == (80000, "contract")


# --- payments within the award, recovery (R-P5) -----------------------------------------------------------------


def test_payments_never_exceed_the_award(make_award, tmp_path):
    a = make_award("liuzhou2026")
    signed(a, tmp_path)
    first, rest = a.project.milestones.filter(cancelled=False).order_by("order")
    with pytest.raises(contracts.Refused, match="将超出计划"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=first.amount + 1, on=TODAY, milestone=first)
    contracts.record_payment(actor=a.finance, project=a.project, amount=first.amount, on=TODAY, milestone=first,
                             reference="PZ-1")
    with pytest.raises(contracts.Refused, match="PZ-1 已登记过"):  # a double submit records nothing
        contracts.record_payment(actor=a.finance, project=a.project, amount=1, on=TODAY, milestone=rest,
                                 reference="PZ-1")
    contracts.confirm_milestone(actor=a.staff, milestone=rest)
    contracts.record_payment(actor=a.finance, project=a.project, amount=rest.amount, on=TODAY, milestone=rest)
    led = contracts.ledger(a.project)
    assert led.paid == a.project.amount and led.remaining == 0
    with pytest.raises(contracts.Refused, match="将超出计划"):
        contracts.record_payment(actor=a.finance, project=a.project, amount=1, on=TODAY, milestone=rest)
    assert Payment.objects.filter(project=a.project).count() == 2


def test_recovery_is_recorded_with_its_reason(make_award, tmp_path):
    # R-P5
    a = make_award("guangxi2023")
    signed(a, tmp_path)
    m = first_milestone(a)
    with pytest.raises(contracts.Refused, match="超过已拨付未追回的 0 元"):
        contracts.record_recovery(actor=a.finance, project=a.project, amount=100, on=TODAY, reason="抽查不合格")
    contracts.record_payment(actor=a.finance, project=a.project, amount=20000, on=TODAY, milestone=m)
    with pytest.raises(contracts.Refused, match="请写明追回的理由"):
        contracts.record_recovery(actor=a.finance, project=a.project, amount=5000, on=TODAY, reason="  ")
    row = contracts.record_recovery(actor=a.staff, project=a.project, amount=5000, on=TODAY,
                                    reason="抽查发现活动未按计划开展，追回部分经费")
    assert row.kind == Payment.Kind.RECOVERY and row.reason.startswith("抽查发现")
    led = contracts.ledger(a.project)
    assert (led.paid, led.recovered, led.net) == (20000, 5000, 15000)
    with pytest.raises(contracts.Refused, match="超过已拨付未追回的 15,000 元"):
        contracts.record_recovery(actor=a.finance, project=a.project, amount=15001, on=TODAY, reason="再追回")
    event = AuditEvent.objects.filter(action="project.recovery").get()
    assert event.note == "抽查发现活动未按计划开展，追回部分经费"
    with pytest.raises(NotAllowed):
        contracts.record_recovery(actor=a.clerk, project=a.project, amount=1, on=TODAY, reason="x")


# --- R-P3: spending rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,category", [
    ("liuzhou2026", "labour"), ("liuzhou2026", "fixed_assets"), ("guangxi2026", "rewards"),
    ("guangxi2023", "fixed_assets"),  # 资产购买 covers fixed assets
    ("guangxi2023", "sponsorship"),
])
def test_a_forbidden_budget_line_is_refused(name, category, make_award):
    # R-P3
    a = make_award(name)
    budget = [{"category": "meeting", "item": "会场租赁", "amount": 5000},
              {"category": category, "item": "违规支出", "amount": 1000}]
    with pytest.raises(contracts.Refused) as exc:
        contracts.set_plan(actor=a.clerk, project=a.project, budget=budget)
    assert "第 2 行「违规支出」" in exc.value.message and "不得用于此类支出" in exc.value.message
    assert not a.project.plan_versions.exists()
    contracts.set_plan(actor=a.clerk, project=a.project, budget=budget[:1])
    assert a.project.plan_versions.count() == 1


def test_labour_allowed_where_the_call_does_not_forbid_it(make_award):
    a = make_award("guangxi2026")  # 广西 2026 forbids fixed assets, investment, donation, sponsorship, rewards
    contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "labour", "amount": 3000}])


def test_travel_above_half_refused_for_guangxi_2023_2(make_award):
    # R-P3: 广西 2023-2 用于差旅支出比例不应超过50%
    a = make_award("guangxi2023")
    assert contracts.spending_rules(a.project).travel_max_share == pytest.approx(0.5)
    over = [{"category": "travel", "item": "调研差旅", "amount": 10001},
            {"category": "meeting", "item": "党建活动", "amount": 9999}]
    with pytest.raises(contracts.Refused, match=r"差旅费 10,001 元占经费合计 20,000 元的 50.01%，超过.*上限 50%"):
        contracts.set_plan(actor=a.clerk, project=a.project, budget=over)
    half = [{"category": "travel", "item": "调研差旅", "amount": 10000},
            {"category": "meeting", "item": "党建活动", "amount": 10000}]
    contracts.set_plan(actor=a.clerk, project=a.project, budget=half)
    # the same share is allowed for 2023-1, whose rules set no cap
    b = make_award("guangxi2023", type_code="2023-1", amount=20000, prefix="b")
    assert contracts.spending_rules(b.project).travel_max_share is None
    contracts.set_plan(actor=b.clerk, project=b.project, budget=[{"category": "travel", "amount": 15000},
                                                                  {"category": "meeting", "amount": 5000}])


def test_budget_above_the_award_refused_and_bad_amounts_explained(make_award):
    a = make_award("changde2022")
    with pytest.raises(contracts.Refused, match="经费预算合计 20,001 元超过资助金额 20,000 元"):
        contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "meeting", "amount": 20001}])
    with pytest.raises(contracts.Refused, match="第 1 行：金额须为不小于 0 的整数"):
        contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "meeting", "amount": "12.5"}])


# --- the contract, its QR and its scan ------------------------------------------------------------------------


def test_contract_pdf_carries_the_qr_and_its_scan_verifies(make_award, tmp_path):
    # R-P1 (the contract), verified by the application's fingerprint mechanism (R-F4)
    a = make_award("liuzhou2026")
    contracts.set_plan(actor=a.clerk, project=a.project, content="举办科普讲座 4 场",
                       budget=[{"category": "meeting", "item": "讲座场地", "amount": 8000},
                               {"category": "expert_fees", "item": "专家讲课费", "amount": 6000}],
                       schedule=[{"task": "科普讲座", "start": "2026-07-01", "end": "2026-10-31"}])
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    pdf = contracts.contract_pdf(contract)
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "柳州市科学技术协会项目合同书" in text and "贰万元整" in text and "专家讲课费" in text
    assert f"版本指纹 {contract.short_fingerprint}" in reader.pages[-1].extract_text()
    expected = f"shenbao-contract:{contract.pk}:{contract.number}:{contract.fingerprint}"
    import zxingcpp
    from PIL import Image

    src = tmp_path / "c.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(src), str(tmp_path / "pg")], check=True)
    pages = sorted(tmp_path.glob("pg*.png"))
    assert len(pages) == len(reader.pages) >= 2
    for png in pages:
        found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
        assert [r.text for r in found] == [expected]
    result = contracts.upload_scan(user=a.clerk, contract=contract, upload=scan_of(pdf, tmp_path, page=2))
    assert result.scan.state == "matched" and result.scan.method == "qr"
    assert result.contract.status == "signed_by_unit" and "版本一致" in result.message
    assert result.scan.file.name.startswith("attachments/")  # kept by content hash
    docx = contracts.contract_docx(contract)
    assert docx[:2] == b"PK"


def test_a_scan_of_an_older_version_is_refused(make_award, tmp_path):
    a = make_award("guangxi2026")
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    old_pdf = contracts.contract_pdf(contract)
    contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "meeting", "amount": 15000}])
    contract.refresh_from_db()
    assert contract.number == 2  # the plan changed: the contract was generated again
    with pytest.raises(contracts.ScanRefused, match="扫描件是第 1 版合同，当前为第 2 版"):
        contracts.upload_scan(user=a.clerk, contract=contract, upload=scan_of(old_pdf, tmp_path))
    contract.refresh_from_db()
    assert contract.status == "generated" and not contract.scans.exists()


def test_a_scan_without_qr_is_checked_by_hand_with_a_reason(make_award, tmp_path):
    from PIL import Image

    a = make_award("hunan2024")
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    blank = io.BytesIO()
    Image.new("RGB", (800, 1100), "white").save(blank, format="PNG")
    result = contracts.upload_scan(user=a.clerk, contract=contract,
                                   upload=SimpleUploadedFile("photo.png", blank.getvalue()))
    assert result.scan.state == "unread" and result.contract.status == "generated"
    with pytest.raises(contracts.Refused, match="请写明理由"):
        contracts.accept_scan(user=a.staff, scan=result.scan, reason="")
    with pytest.raises(NotAllowed):
        contracts.accept_scan(user=a.clerk, scan=result.scan, reason="我看过了")
    contract = contracts.accept_scan(user=a.staff, scan=result.scan, reason="二维码被印章遮挡，已与原件逐页核对")
    assert contract.status == "signed_by_unit"
    scan = ContractScan.objects.get(pk=result.scan.pk)
    assert scan.method == "manual" and scan.reason.startswith("二维码被印章遮挡")
    contract = contracts.return_scan(user=a.staff, contract=Contract.objects.get(pk=contract.pk), reason="缺骑缝章")
    assert contract.status == "generated"
    with pytest.raises(contracts.ScanRefused, match="PDF、JPG 或 PNG"):
        contracts.upload_scan(user=a.clerk, contract=contract, upload=SimpleUploadedFile("x.txt", b"hello"))


def test_the_funders_own_contract_text_is_used(make_award):
    a = make_award("changde2022")
    contracts.save_template(user=a.staff, funder=a.project.funder, kind="task_book", title="{funder}学会服务项目任务书",
                            clauses="承担单位（{applicant}）按期完成“{title}”。\n\n经费{amount}元，专款专用。")
    contract = contracts.generate_contract(actor=a.staff, project=a.project)
    assert contract.values["title"] == "常德市科学技术协会学会服务项目任务书"
    assert contract.values["clauses"][1] == "经费20,000元，专款专用。"
    assert contract.values["template"] == "funder"
    assert ContractTemplate.objects.count() == 1
    with pytest.raises(NotAllowed):
        contracts.save_template(user=a.clerk, funder=a.project.funder, kind="task_book", title="", clauses="x")


def test_the_contract_is_chinese_whatever_the_language(make_award):
    from django.utils import translation

    a = make_award("guangxi2023")
    contracts.set_plan(actor=a.clerk, project=a.project, budget=[{"category": "travel", "amount": 10000},
                                                                  {"category": "meeting", "amount": 10000}])
    with translation.override("en"):
        contract = contracts.generate_contract(actor=a.staff, project=a.project)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(contracts.contract_pdf(contract))).pages)
    assert contract.values["plan"]["budget"][0]["category"] == "差旅费"
    assert contract.values["disbursement"]["label"] == "一次性拨付"
    assert "一、项目基本情况" in text and "差旅费" in text


def test_amount_in_words():
    assert contracts.amount_in_words(20000) == "贰万元整"
    assert contracts.amount_in_words(105000) == "壹拾万伍仟元整"
    assert contracts.amount_in_words(100500) == "壹拾万零伍佰元整"
    assert contracts.amount_in_words(15) == "壹拾伍元整"


# --- final accounts ----------------------------------------------------------------------------------------


def test_final_accounts_compared_with_the_budget(make_award, tmp_path):
    a = make_award("guangxi2023")
    contracts.set_plan(actor=a.clerk, project=a.project, budget=[
        {"category": "meeting", "item": "党建活动", "amount": 12000},
        {"category": "travel", "item": "调研差旅", "amount": 8000}])
    with pytest.raises(NotAllowed, match="合同签订后"):
        contracts.set_final_accounts(actor=a.clerk, project=a.project, lines=[{"category": "meeting", "amount": 1}])
    signed(a, tmp_path)
    with pytest.raises(contracts.Refused, match="不得用于此类支出"):
        contracts.set_final_accounts(actor=a.clerk, project=a.project,
                                     lines=[{"category": "donation", "item": "捐款", "amount": 100}])
    contracts.set_final_accounts(actor=a.clerk, project=a.project, lines=[
        {"category": "meeting", "item": "党建活动", "amount": 12500},
        {"category": "travel", "item": "调研差旅", "amount": 6000},
        {"category": "printing", "item": "资料印刷", "amount": 800}])
    lines, total = contracts.compare_accounts(a.project)
    by = {(r.category, r.item): (r.budget, r.actual, r.difference) for r in lines}
    assert by == {("meeting", "党建活动"): (12000, 12500, 500), ("travel", "调研差旅"): (8000, 6000, -2000),
                  ("printing", "资料印刷"): (0, 800, 800)}
    assert (total.budget, total.actual, total.difference) == (20000, 19300, -700)
    # entered again: the previous lines are kept, replaced
    contracts.set_final_accounts(actor=a.clerk, project=a.project,
                                 lines=[{"category": "meeting", "item": "党建活动", "amount": 12000}])
    assert a.project.final_accounts.count() == 4
    assert contracts.compare_accounts(a.project)[1].actual == 12000


# --- pages and API ---------------------------------------------------------------------------------------------


def _todo(client) -> dict[str, int]:
    import re

    page = client.get(reverse("orgs:home")).content.decode()
    return {k: int(n) for k, n in re.findall(r'data-todo="(\w+)".*?<strong class="count[^"]*">(\d+)</strong>', page)}


def test_pages_take_the_contract_from_generation_to_payment(make_award, tmp_path, client):
    # R-P1 through the pages: the project page's section, generate, print, upload, countersign, pay
    a = make_award("liuzhou2026")
    p = a.project.pk
    client.force_login(a.clerk)
    page = client.get(f"/projects/{p}/")
    assert page.status_code == 200 and 'id="section-contract"' in page.content.decode()
    response = client.post(f"/projects/{p}/plan/", {"content": "讲座", "category": ["meeting", "labour"],
                                                    "item": ["场地", "工作劳务"], "amount": ["5000", "1000"],
                                                    "note": ["", ""], "task": [""], "start": [""], "end": [""]})
    assert response.status_code == 400 and "不得用于此类支出" in response.content.decode()
    client.force_login(a.staff)
    assert client.post(f"/projects/{p}/contract/generate/").status_code == 302
    pdf = client.get(f"/projects/{p}/contract.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/projects/{p}/contract.docx").content[:2] == b"PK"
    client.force_login(a.finance)
    m = first_milestone(a)
    response = client.post(f"/projects/{p}/money/pay/", {"milestone": m.pk, "amount": m.amount, "on": "2026-06-01"},
                           follow=True)
    assert "尚未签订" in response.content.decode() and not Payment.objects.exists()
    client.force_login(a.clerk)
    assert _todo(client)["contracts_to_sign"] == 1  # the work bench says what waits
    contract = Contract.objects.get(project=a.project)
    upload = scan_of(contracts.contract_pdf(contract), tmp_path)
    response = client.post(f"/projects/{p}/contract/scan/", {"scan": upload}, follow=True)
    assert "版本一致" in response.content.decode()
    scan = ContractScan.objects.get(contract__project=a.project)
    download = client.get(f"/projects/contract-scans/{scan.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")
    from shenbao.projects import acceptance  # the closed project's dossier carries the contract and its scan

    parts = dict(acceptance.dossier_parts(a.project))
    assert parts["02-合同/签章扫描件.png"]().startswith(b"\x89PNG")
    assert parts["02-合同/合同.pdf"]().startswith(b"%PDF")
    client.force_login(a.leader)
    assert _todo(client)["contracts_to_countersign"] == 1
    client.post(f"/projects/{p}/contract/countersign/")
    assert Contract.objects.get(project=a.project).status == "countersigned"
    client.force_login(a.finance)
    assert _todo(client)["instalments_to_pay"] == 1
    bench = client.get("/projects/finance/").content.decode()
    assert a.project.title in bench and "拨付 10000 元" in bench
    client.post(f"/projects/{p}/money/pay/", {"milestone": m.pk, "amount": m.amount, "on": "2026-06-01",
                                             "back": "finance"})
    assert contracts.ledger(a.project).paid == m.amount
    assert _todo(client)["instalments_to_pay"] == 0  # the second waits for the progress to be confirmed
    assert "已拨付 10000 元" in client.get(f"/projects/{p}/").content.decode()
    client.force_login(a.staff)
    assert a.project.title in client.get("/projects/funder/").content.decode()
    assert client.get(f"/projects/{p}/money/").status_code == 200
    assert client.get(f"/projects/{p}/final-accounts/").status_code == 200
    assert client.get("/projects/contract-templates/").status_code == 200


def test_api_refuses_with_the_reason(make_award, client, tmp_path):
    # R-P1, R-P3 through the API: 400 with the reasons, 403 for the wrong person
    a = make_award("guangxi2023")
    p = a.project.pk
    client.force_login(a.clerk)
    response = client.put(f"/api/v1/projects/{p}/plan", {"budget": [
        {"category": "travel", "amount": 15000}, {"category": "meeting", "amount": 5000}]},
        content_type="application/json")
    assert response.status_code == 400 and "差旅支出比例上限 50%" in response.json()["detail"]
    response = client.put(f"/api/v1/projects/{p}/plan", {"budget": [
        {"category": "travel", "amount": 10000}, {"category": "meeting", "amount": 10000}]},
        content_type="application/json")
    assert response.status_code == 200 and response.json()["total"] == 20000
    assert client.post(f"/api/v1/projects/{p}/contract").status_code == 403
    client.force_login(a.staff)
    contract = client.post(f"/api/v1/projects/{p}/contract").json()
    assert contract["qr_text"] == f"shenbao-contract:{contract['id']}:1:{contract['fingerprint']}"
    client.force_login(a.finance)
    money = client.get(f"/api/v1/projects/{p}/money").json()
    assert money["mode"] == "one_off"
    response = client.post(f"/api/v1/projects/{p}/payments", {"milestone": money["milestones"][0]["id"],
                                                               "amount": 20000, "on": "2023-07-01"},
                           content_type="application/json")
    assert response.status_code == 400 and "签订前不能拨付经费" in response.json()["detail"]
    client.force_login(a.clerk)
    pdf = client.get(f"/api/v1/projects/{p}/contract.pdf").content
    scan = client.post(f"/api/v1/projects/{p}/contract/scan", {"file": scan_of(pdf, tmp_path)}).json()
    assert scan["state"] == "matched" and scan["contract_status"] == "signed_by_unit"
    client.force_login(a.leader)
    assert client.post(f"/api/v1/projects/{p}/contract/countersign").json()["status"] == "countersigned"
    client.force_login(a.finance)
    response = client.post(f"/api/v1/projects/{p}/payments", {"milestone": money["milestones"][0]["id"],
                                                               "amount": 20000, "on": "2023-07-01"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["ledger"]["paid"] == 20000
    response = client.post(f"/api/v1/projects/{p}/recoveries", {"amount": 2000, "on": "2023-11-01", "reason": ""},
                           content_type="application/json")
    assert response.status_code == 400 and "理由" in response.json()["detail"]
    client.force_login(make_award("hunan2024", prefix="x").clerk)
    assert client.get(f"/api/v1/projects/{p}/money").status_code == 404
