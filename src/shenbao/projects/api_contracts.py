"""Contract and money API (/api/v1/projects/…): the project, its plan, the contract (generate, PDF/DOCX, signed
scan, manual check, return, countersign), the disbursement plan, payments, recoveries and final accounts. The
same permission functions and services as the pages: a refusal by permission is 403 with the reason, a rule
that refuses the input (spending rules, the award, R-P1) is 400 with every message in Chinese."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from shenbao.core import audit
from shenbao.core.http import client_ip
from shenbao.projects import contracts, permissions
from shenbao.projects.api import router
from shenbao.projects.models import Contract, ContractScan, Milestone, Project


class ContractRefusedOut(Schema):
    detail: str
    errors: list[str]


class LineIO(Schema):
    category: str = Field(description="支出类别代码：" + "、".join(f"{k}（{v}）" for k, v in contracts.CATEGORIES.items()))
    item: str = ""
    amount: int
    note: str = ""


class ScheduleIO(Schema):
    task: str
    start: str = ""
    end: str = ""


class PlanIn(Schema):
    budget: list[LineIO]
    schedule: list[ScheduleIO] = []
    content: str = ""


class PlanOut(Schema):
    number: int
    content: str
    schedule: list[dict]
    budget: list[LineIO]
    total: int


class LedgerOut(Schema):
    award: int
    paid: int
    recovered: int
    net: int
    remaining: int


class ContractOut(Schema):
    id: int
    kind: str
    code: str
    number: int
    status: str
    status_label: str
    fingerprint: str
    qr_text: str
    values: dict
    countersigned_at: dt.datetime | None = None


class ContractProjectOut(Schema):
    id: int
    title: str
    code: str
    call: str | None
    type_code: str | None
    applicant: str
    funder: str | None
    amount: int | None
    status: str
    disbursement_mode: str
    contract: ContractOut | None
    ledger: LedgerOut


class ContractScanOut(Schema):
    id: int
    number: int
    state: str
    method: str
    reason: str
    message: str = ""
    contract_status: str


class ReasonIn(Schema):
    reason: str


class MilestoneIO(Schema):
    id: int | None = None
    title: str
    amount: int
    condition: str = Field("contract", description="contract（合同签订后）、progress（工作进度确认后）、evaluation（成果评估后）")
    planned_on: dt.date | None = None
    reached_at: dt.datetime | None = None
    paid: int = 0


class MilestonesIn(Schema):
    milestones: list[MilestoneIO]


class ContractConfirmIn(Schema):
    note: str = ""
    amount: int | None = Field(None, description="成果评估后节点：评估确定的金额（不超过计划金额）")


class PaymentIn(Schema):
    milestone: int
    amount: int
    on: dt.date
    reference: str = ""
    note: str = ""


class RecoveryIn(Schema):
    amount: int
    on: dt.date
    reason: str
    reference: str = ""


class PaymentOut(Schema):
    id: int
    kind: str
    amount: int
    on: dt.date
    milestone: int | None
    reference: str
    reason: str


class MoneyOut(Schema):
    mode: str
    ledger: LedgerOut
    milestones: list[MilestoneIO]
    payments: list[PaymentOut]


class CompareOut(Schema):
    category: str
    category_label: str
    item: str
    budget: int
    actual: int
    difference: int


class FinalOut(Schema):
    lines: list[CompareOut]
    total: CompareOut


class FinalIn(Schema):
    lines: list[LineIO]


def _project(request, pk: int) -> Project:
    project = get_object_or_404(Project.objects.select_related("call", "project_type", "applicant", "funder"), pk=pk)
    decision = permissions.can_view_project(request.user, project)
    if not decision:
        audit.refused(decision.reason, project)
        raise Http404("没有这个项目")
    return project


def _refused(exc: contracts.Refused):
    return Status(400, {"detail": exc.message, "errors": exc.messages})


def _ledger(project) -> dict:
    led = contracts.ledger(project)
    return {"award": led.award, "paid": led.paid, "recovered": led.recovered, "net": led.net, "remaining": led.remaining}


def _contract_out(c: Contract | None) -> dict | None:
    if c is None:
        return None
    return {"id": c.pk, "kind": c.kind, "code": c.code, "number": c.number, "status": c.status,
            "status_label": c.get_status_display(), "fingerprint": c.fingerprint, "qr_text": contracts.qr_text(c),
            "values": c.values, "countersigned_at": c.countersigned_at}


def _contract(project) -> Contract:
    c = Contract.objects.filter(project=project).first()
    if c is None:
        raise Http404("尚未生成合同")
    return c


def _project_out(p: Project) -> dict:
    return {"id": p.pk, "title": p.title, "code": p.code, "call": p.call.code if p.call_id else None,
            "type_code": p.project_type.code if p.project_type_id else None, "applicant": p.applicant.name,
            "funder": p.funder.name if p.funder_id else None, "amount": p.amount, "status": p.status,
            "disbursement_mode": contracts.disbursement_mode(p),
            "contract": _contract_out(Contract.objects.filter(project=p).first()), "ledger": _ledger(p)}


@router.get("/mine", response=list[ContractProjectOut], summary="我能看到的立项项目（本单位、本主办方、财务）")
def my_projects(request):
    return [_project_out(p) for p in contracts.projects_where(request.user, unit=True, funder=True, finance=True)]


@router.get("/{int:pk}", response=ContractProjectOut, summary="立项项目：合同状态与经费")
def get_project(request, pk: int):
    return _project_out(_project(request, pk))


def _plan_out(plan) -> dict | None:
    lines = contracts.plan_lines(plan)
    return {"number": plan.number, "content": plan.content, "schedule": plan.schedule,
            "budget": [{"category": b.category, "item": b.item, "amount": b.amount, "note": b.note} for b in lines],
            "total": sum(b.amount for b in lines)}


@router.get("/{int:pk}/plan", response={200: PlanOut, 404: ContractRefusedOut}, summary="现行项目计划（经费预算、进度安排、实施内容）")
def get_plan(request, pk: int):
    plan = contracts.current_plan(_project(request, pk))
    if plan is None:
        return Status(404, {"detail": "尚未填写项目计划", "errors": []})
    return Status(200, _plan_out(plan))


@router.put("/{int:pk}/plan", response={200: PlanOut, 400: ContractRefusedOut},
            summary="填写项目计划（合同签章前，承担单位经办人；禁止列支的类别与差旅比例按通知检查）")
def put_plan(request, pk: int, payload: PlanIn):
    project = _project(request, pk)
    try:
        plan = contracts.set_plan(actor=request.user, project=project, budget=[b.dict() for b in payload.budget],
                                  schedule=[s.dict() for s in payload.schedule], content=payload.content,
                                  ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _plan_out(plan))


@router.post("/{int:pk}/contract", response={200: ContractOut, 400: ContractRefusedOut}, summary="生成（或在单位签章前重新生成）合同")
def generate(request, pk: int):
    try:
        c = contracts.generate_contract(actor=request.user, project=_project(request, pk), ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _contract_out(c))


@router.get("/{int:pk}/contract", response=ContractOut, summary="合同：状态、版本指纹、二维码内容与全文")
def get_contract(request, pk: int):
    return _contract_out(_contract(_project(request, pk)))


@router.get("/{int:pk}/contract.pdf", summary="合同 PDF（每页带版本指纹与二维码）")
def contract_pdf(request, pk: int):
    c = _contract(_project(request, pk))
    response = HttpResponse(contracts.contract_pdf(c), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="contract-{c.code}-v{c.number}.pdf"'
    return response


@router.get("/{int:pk}/contract.docx", summary="合同 Word（每页带版本指纹与二维码）")
def contract_docx(request, pk: int):
    c = _contract(_project(request, pk))
    response = HttpResponse(contracts.contract_docx(c),
                            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = f'attachment; filename="contract-{c.code}-v{c.number}.docx"'
    return response


def _scan_out(scan: ContractScan, contract: Contract, message: str = "") -> dict:
    return {"id": scan.pk, "number": scan.number, "state": scan.state, "method": scan.method, "reason": scan.reason,
            "message": message, "contract_status": contract.status}


@router.post("/{int:pk}/contract/scan", response={200: ContractScanOut, 400: ContractRefusedOut},
             summary="上传签字盖章后的合同扫描件（二维码与本版一致即核验通过；未识别的待人工核验）")
def upload_scan(request, pk: int, file: UploadedFile = File(...)):  # noqa: B008 - ninja declares files so
    c = _contract(_project(request, pk))
    try:
        result = contracts.upload_scan(user=request.user, contract=c, upload=file, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _scan_out(result.scan, result.contract, result.message))


@router.post("/contract-scans/{int:scan_id}/accept", response={200: ContractOut, 400: ContractRefusedOut},
             summary="人工核验通过未识别二维码的扫描件（主办方业务人员，须写理由）")
def accept_scan(request, scan_id: int, payload: ReasonIn):
    scan = get_object_or_404(ContractScan.objects.select_related("contract__project"), pk=scan_id)
    _project(request, scan.contract.project_id)
    try:
        c = contracts.accept_scan(user=request.user, scan=scan, reason=payload.reason, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _contract_out(Contract.objects.get(pk=c.pk)))


@router.post("/{int:pk}/contract/return", response={200: ContractOut, 400: ContractRefusedOut}, summary="退回扫描件（须写理由）")
def return_scan(request, pk: int, payload: ReasonIn):
    c = _contract(_project(request, pk))
    try:
        contracts.return_scan(user=request.user, contract=c, reason=payload.reason, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _contract_out(Contract.objects.get(pk=c.pk)))


@router.post("/{int:pk}/contract/countersign", response=ContractOut, summary="主办方签署合同（此后方可拨款）")
def countersign(request, pk: int):
    c = _contract(_project(request, pk))
    contracts.countersign(user=request.user, contract=c, ip=client_ip(request))
    return _contract_out(Contract.objects.get(pk=c.pk))


def _money_out(project) -> dict:
    rows = contracts.money_rows(project)
    return {"mode": contracts.disbursement_mode(project), "ledger": _ledger(project),
            "milestones": [{"id": r.milestone.pk, "title": r.milestone.title, "amount": r.milestone.amount,
                            "condition": r.milestone.condition, "planned_on": r.milestone.planned_on,
                            "reached_at": r.milestone.reached_at, "paid": r.paid} for r in rows],
            "payments": [{"id": p.pk, "kind": p.kind, "amount": p.amount, "on": p.on, "milestone": p.milestone_id,
                          "reference": p.reference, "reason": p.reason}
                         for p in project.payments.order_by("on", "id")]}


@router.get("/{int:pk}/money", response=MoneyOut, summary="拨付计划、拨付与追回记录")
def get_money(request, pk: int):
    return _money_out(_project(request, pk))


@router.put("/{int:pk}/money/milestones", response={200: MoneyOut, 400: ContractRefusedOut},
            summary="制定拨付计划（主办方业务人员；按通知的拨付方式检查，合计不超过资助金额）")
def put_milestones(request, pk: int, payload: MilestonesIn):
    project = _project(request, pk)
    try:
        contracts.set_milestones(actor=request.user, project=project, ip=client_ip(request),
                                 rows=[m.dict(include={"title", "amount", "condition", "planned_on"})
                                       for m in payload.milestones])
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _money_out(project))


@router.post("/milestones/{int:milestone_id}/confirm", response={200: MoneyOut, 400: ContractRefusedOut},
             summary="确认工作进度或记录成果评估结果（主办方）")
def confirm(request, milestone_id: int, payload: ContractConfirmIn):
    m = get_object_or_404(Milestone, pk=milestone_id)
    project = _project(request, m.project_id)
    try:
        contracts.confirm_milestone(actor=request.user, milestone=m, note=payload.note, amount=payload.amount,
                                    ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _money_out(project))


@router.post("/{int:pk}/payments", response={200: MoneyOut, 400: ContractRefusedOut},
             summary="登记拨款（财务人员；合同签订前、条件未满足或超出计划与资助金额时拒绝并说明理由）")
def pay(request, pk: int, payload: PaymentIn):
    project = _project(request, pk)
    m = Milestone.objects.filter(project=project, pk=payload.milestone).first()
    try:
        contracts.record_payment(actor=request.user, project=project, amount=payload.amount, on=payload.on,
                                 milestone=m, reference=payload.reference, note=payload.note, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _money_out(project))


@router.post("/{int:pk}/recoveries", response={200: MoneyOut, 400: ContractRefusedOut}, summary="登记追回款项（须写理由）")
def recover(request, pk: int, payload: RecoveryIn):
    project = _project(request, pk)
    try:
        contracts.record_recovery(actor=request.user, project=project, amount=payload.amount, on=payload.on,
                                  reason=payload.reason, reference=payload.reference, ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _money_out(project))


def _final_out(project) -> dict:
    lines, total = contracts.compare_accounts(project)

    def row(r):
        return {"category": r.category, "category_label": r.category_label, "item": r.item, "budget": r.budget,
                "actual": r.actual, "difference": r.difference}
    return {"lines": [row(r) for r in lines], "total": row(total)}


@router.get("/{int:pk}/final-accounts", response=FinalOut, summary="经费决算与预算逐项对照")
def get_final(request, pk: int):
    return _final_out(_project(request, pk))


@router.put("/{int:pk}/final-accounts", response={200: FinalOut, 400: ContractRefusedOut}, summary="填写经费决算（承担单位经办人）")
def put_final(request, pk: int, payload: FinalIn):
    project = _project(request, pk)
    try:
        contracts.set_final_accounts(actor=request.user, project=project, lines=[x.dict() for x in payload.lines],
                                     ip=client_ip(request))
    except contracts.Refused as exc:
        return _refused(exc)
    return Status(200, _final_out(project))
