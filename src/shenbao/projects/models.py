"""Projects (立项项目) and bars (取消申报资格): the history that eligibility looks back on.

A Project is an awarded project, whether it came through a call on this platform (`call` set) or was
recorded from an earlier year (`call` empty, `programme` and `year` given). Eligibility reads it for
R-E5 (unfinished projects, pending acceptance deferrals of the same programme) and R-E6 (content funded in
the past N years). A Bar keeps a unit out of a funder's calls until its last day (R-E10).
Later stages (contracts, disbursement, acceptance) grow these models.
"""

from __future__ import annotations

from django.db import models


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "实施中"
        # acceptance deferred on request (延期验收, R-P8): the unit must finish that acceptance first (R-E5)
        DEFERRED = "deferred", "延期验收"
        COMPLETED = "completed", "已验收结题"
        # left unfinished without cause (无故未完成, R-E5): the unit may not apply to the programme again
        UNFINISHED = "unfinished", "无故未完成"
        # stopped for a stated cause (force majeure, a change of plan): not held against the unit
        TERMINATED = "terminated", "已终止"

    class Kind(models.TextChoices):
        STANDARD = "standard", "一般项目"
        POST_FUNDED = "post_funded", "后资助"
        COMMISSIONED = "commissioned", "定向委托"
        CONTINUED = "continued", "连续支持"

    call = models.ForeignKey("calls.Call", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="projects", verbose_name="申报通知")
    project_type = models.ForeignKey("calls.ProjectType", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="projects", verbose_name="项目类型")
    track = models.ForeignKey("calls.Track", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="projects", verbose_name="申报类型")
    applicant = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="projects",
                                  verbose_name="项目承担单位")
    # the funder whose programme it is (the call's issuer); empty only for old records of unknown origin
    funder = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="funded_projects", verbose_name="主办方")
    # the awarded application it was created from (the award list, review/notice.py); empty for old records
    application = models.OneToOneField("applications.Application", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="project", verbose_name="申报")
    code = models.CharField("立项编号", max_length=60, blank=True)
    title = models.CharField("项目名称", max_length=300)
    # what the project does (项目内容 / 实施方案 summary): compared with new applications for R-E6
    content = models.TextField("项目内容", blank=True)
    year = models.PositiveIntegerField("立项年度")
    # the programme across years: the call's `programme_code` (gx_tzzx), whatever each year's notice calls it
    programme = models.CharField("项目计划", max_length=100)
    kind = models.CharField("项目性质", max_length=20, choices=Kind.choices, default=Kind.STANDARD)
    amount = models.PositiveIntegerField("资助金额（元）", null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField("状态说明", blank=True)
    deferred_until = models.DateField("延期验收至", null=True, blank=True)
    awarded_on = models.DateField("立项日期", null=True, blank=True)
    completed_on = models.DateField("验收日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "id"]
        indexes = [
            models.Index(fields=["applicant", "programme", "status"], name="project_applicant_prog"),
            models.Index(fields=["applicant", "year"], name="project_applicant_year"),
        ]
        verbose_name = verbose_name_plural = "立项项目"

    def __str__(self) -> str:
        return f"{self.year}年《{self.title}》"


class Bar(models.Model):
    """取消申报资格: the unit may not apply to the funder's calls from `starts_on` to `ends_on` (both
    included). `funder` empty: every call on the platform."""

    class Kind(models.TextChoices):
        FRAUD = "fraud", "弄虚作假"
        SUBCONTRACTING = "subcontracting", "项目转包"
        OTHER = "other", "其他"

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="bars",
                                     verbose_name="单位")
    funder = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="bars_issued", verbose_name="作出决定的主办方")
    kind = models.CharField("原因类别", max_length=20, choices=Kind.choices, default=Kind.OTHER)
    reason = models.CharField("原因", max_length=200)  # shown to the unit: 因{reason}被取消申报资格
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="bars",
                                verbose_name="相关项目")
    starts_on = models.DateField("起始日期")
    ends_on = models.DateField("截止日期（含）")
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="bar_ends_after_start"),
        ]
        verbose_name = verbose_name_plural = "取消申报资格"

    def __str__(self) -> str:
        return f"{self.organisation} {self.reason}（至{self.ends_on}）"


# --- contract (合同书/任务书) and money: disbursement plan, payments, recovery, budget lines ---


class ContractTemplate(models.Model):
    """The text of a funder's contract (合同书) or task book (任务书): data, edited by the funder's staff on
    /projects/contract-templates/. `funder` empty: the platform's default, else the text of
    projects/contract_default.yaml. `clauses`: one clause per paragraph (blank lines between), with
    placeholders {funder} {applicant} {title} {amount} {amount_cn} {completion_by} {call} {type}."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", "合同书"
        TASK_BOOK = "task_book", "任务书"

    funder = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="contract_templates", verbose_name="主办方")
    kind = models.CharField("文书类别", max_length=20, choices=Kind.choices)
    title = models.CharField("标题", max_length=200, blank=True)  # empty: 《{funder}项目合同书》
    clauses = models.TextField("合同条款")
    updated_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["funder", "kind"], name="uniq_contract_template")]
        verbose_name = verbose_name_plural = "合同文本模板"

    def __str__(self) -> str:
        return f"{self.funder or '平台默认'} {self.get_kind_display()}"


class Contract(models.Model):
    """The contract of a project (one per project), generated from the award and the funder's template.
    `values` is the frozen text as printed (number `number`, regenerated only while not yet signed);
    `fingerprint` the sha256 of its canonical JSON, printed and in the QR code of every page
    (`shenbao-contract:<id>:<number>:<fingerprint>`). States: workflow.CONTRACT."""

    class Status(models.TextChoices):
        GENERATED = "generated", "已生成，待单位签章"
        SIGNED_BY_UNIT = "signed_by_unit", "单位已签章，待主办方签署"
        COUNTERSIGNED = "countersigned", "已签订"

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="contract")
    kind = models.CharField("文书类别", max_length=20, choices=ContractTemplate.Kind.choices)
    number = models.PositiveIntegerField("版本", default=1)
    code = models.CharField("合同编号", max_length=60)
    values = models.JSONField()
    fingerprint = models.CharField("版本指纹", max_length=64)
    plan = models.ForeignKey("PlanVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.GENERATED)
    generated_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField()
    signed_scan = models.ForeignKey("ContractScan", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    countersigned_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    countersigned_at = models.DateTimeField("签署时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "项目合同"

    def __str__(self) -> str:
        return f"{self.code}（第{self.number}版）"

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:16]

    @property
    def kind_label(self) -> str:
        return ContractTemplate.Kind(self.kind).label


class ContractScan(models.Model):
    """A signed and stamped scan of the printed contract, kept by content hash (documents/attachments).
    The QR code proves the version (method qr); a scan without a readable QR is checked by hand by the
    funder's staff with a reason (method manual), or returned with a reason. Never deleted."""

    class Method(models.TextChoices):
        QR = "qr", "二维码核验"
        MANUAL = "manual", "人工核验"

    class State(models.TextChoices):
        UNREAD = "unread", "未识别二维码，待人工核验"
        MATCHED = "matched", "版本一致"
        RETURNED = "returned", "已退回"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="scans")
    number = models.PositiveIntegerField("合同版本")
    file = models.FileField(max_length=300)  # attachments/<sha[:2]>/<sha>.<kind> under MEDIA_ROOT
    original_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    qr_text = models.CharField(max_length=300, blank=True)
    state = models.CharField("核验状态", max_length=20, choices=State.choices, default=State.UNREAD)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    reason = models.TextField("核验或退回理由", blank=True)
    uploaded_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "-uploaded_at", "-id"]
        verbose_name = verbose_name_plural = "合同扫描件"

    def __str__(self) -> str:
        return f"{self.contract} 扫描件 #{self.pk}"

    @property
    def file_type(self) -> str:
        return self.kind


class Milestone(models.Model):
    """One instalment of the disbursement plan (拨付计划). `condition`: what must hold before it is paid
    (the contract signed, progress confirmed by the funder, the evaluation recorded)."""

    class Condition(models.TextChoices):
        CONTRACT = "contract", "合同签订后"
        PROGRESS = "progress", "工作进度经主办方确认后"
        EVALUATION = "evaluation", "成果评估后"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="milestones")
    order = models.PositiveIntegerField(default=1)
    title = models.CharField("拨付节点", max_length=200)
    amount = models.PositiveIntegerField("计划金额（元）")
    condition = models.CharField("拨付条件", max_length=20, choices=Condition.choices, default=Condition.CONTRACT)
    planned_on = models.DateField("计划日期", null=True, blank=True)
    reached_at = models.DateTimeField("进度确认时间", null=True, blank=True)
    reached_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reached_note = models.TextField("确认说明", blank=True)
    cancelled = models.BooleanField(default=False)  # replaced by a new plan: kept for history

    class Meta:
        ordering = ["project", "order", "id"]
        verbose_name = verbose_name_plural = "拨付节点"

    def __str__(self) -> str:
        return f"{self.title}（{self.amount} 元）"


class Payment(models.Model):
    """A line of the project's ledger, recorded by finance: a payment (拨付) or a recovery (追回, R-P5) with
    its reason. Never updated or deleted: a mistake is corrected by a further line."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "拨付"
        RECOVERY = "recovery", "追回"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField("类别", max_length=20, choices=Kind.choices, default=Kind.PAYMENT)
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField("金额（元）")
    on = models.DateField("日期")
    reference = models.CharField("凭证号", max_length=100, blank=True)
    reason = models.TextField("事由", blank=True)
    recorded_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")]
        verbose_name = verbose_name_plural = "拨付与追回"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} 元（{self.on}）"


class FinalAccountLine(models.Model):
    """经费决算: what was spent, per category and item, compared with the budget of the current plan."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="final_accounts")
    category = models.CharField("支出类别", max_length=30)
    item = models.CharField("支出项目", max_length=200, blank=True)
    amount = models.PositiveIntegerField("决算金额（元）")
    note = models.CharField("说明", max_length=300, blank=True)
    entered_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)  # a later entry replaced it: kept for history

    class Meta:
        ordering = ["project", "id"]
        verbose_name = verbose_name_plural = "经费决算"

    def __str__(self) -> str:
        return f"{self.category} {self.item} {self.amount} 元"


# --- change requests and plan versions ---


class PlanVersion(models.Model):
    """The project's plan (实施计划): budget lines, schedule and content. Version 1 is the unit's plan at the
    contract; every approved change request makes the next version (R-P4). Versions are never changed once
    a later one exists; the history is the list of versions."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="plan_versions")
    number = models.PositiveIntegerField("版本")
    content = models.TextField("实施内容", blank=True)
    # [{"task": …, "start": "2026-05-01", "end": "2026-06-30"}]
    schedule = models.JSONField("进度安排", default=list, blank=True)
    change_request = models.ForeignKey("ChangeRequest", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    created_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="uniq_plan_version")]
        verbose_name = verbose_name_plural = "项目计划版本"

    def __str__(self) -> str:
        return f"{self.project} 计划第{self.number}版"


class BudgetLine(models.Model):
    """A line of a plan version's budget (资助经费预算) by spending category (projects/contracts.CATEGORIES)."""

    plan = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="budget_lines")
    category = models.CharField("支出类别", max_length=30)
    item = models.CharField("支出项目", max_length=200, blank=True)
    amount = models.PositiveIntegerField("金额（元）")
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = verbose_name_plural = "预算明细"

    def __str__(self) -> str:
        return f"{self.category} {self.item} {self.amount} 元"


class ChangeRequest(models.Model):
    """变更申请 (R-P4): filed before the fact by the unit with a reason and the proposed plan; approved
    (a new plan version) or refused by the funder. States: workflow.CHANGE_REQUEST."""

    class Status(models.TextChoices):
        FILED = "filed", "待审批"
        APPROVED = "approved", "已批准"
        REFUSED = "refused", "未批准"
        WITHDRAWN = "withdrawn", "已撤回"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="change_requests")
    based_on = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    # what it changes: any of budget, schedule, content
    changes = models.JSONField("变更事项", default=list)
    reason = models.TextField("变更理由")
    effective_on = models.DateField("拟生效日期")
    proposed = models.JSONField("变更后内容")  # {"budget": [...], "schedule": [...], "content": "..."}
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.FILED)
    filed_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    result = models.ForeignKey(PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["project", "-filed_at", "-id"]
        verbose_name = verbose_name_plural = "变更申请"

    def __str__(self) -> str:
        return f"{self.project} 变更申请 #{self.pk}"


# --- activities (events), sign-in, photos, news ---
# (projects/activities.py: registration with the naming and country checks of R-C4 and the filings of R-P6;
# the public sign-in page by QR; photos within the limits of R-P7; news items of R-P9; deliverables of R-C8)


class Event(models.Model):
    """项目活动: an event a project holds (a lecture, a forum, an 专家助企赋能 visit). `task` is the index of
    the task it fulfils among the project's tasks (type's, then track's; -1: none named), whose naming rule
    its title must meet (R-C4). Its sign-in page is public at /projects/signin/<signin_token>/."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记"
        CANCELLED = "cancelled", "已取消"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="events", verbose_name="项目")
    title = models.CharField("活动名称", max_length=200)
    task = models.IntegerField("对应任务", default=-1)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    place = models.CharField("活动地点", max_length=200)
    expected_participants = models.PositiveIntegerField("预计参加人数")
    # [{"name": …, "organisation": …, "topic": …}]
    speakers = models.JSONField("主讲专家及报告主题", default=list, blank=True)
    international = models.BooleanField("国际性会议", default=False)
    # the countries and regions of foreign participants, as entered (香港/澳门/台湾 count as China)
    countries = models.JSONField("境外参会者所属国家（地区）", default=list, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.REGISTERED)
    signin_token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="event_ends_after_start"),
        ]
        verbose_name = verbose_name_plural = "项目活动"

    def __str__(self) -> str:
        return f"{self.title}（{self.starts_on}）"


class Filing(models.Model):
    """A filing (备案/报批) of R-P6 recorded as done: with which authority, when, under which reference.
    `event` empty: a filing of the project as a whole (scope `project`). `key` is the filing's index in the
    type's `post_award.filings`."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="filings", verbose_name="项目")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.PROTECT, related_name="filings",
                              verbose_name="活动")
    key = models.PositiveIntegerField("备案事项序号")
    applies_to = models.CharField("备案事项", max_length=300)
    authority = models.CharField("备案机关", max_length=100)
    approval = models.BooleanField("须报批", default=False)
    filed_on = models.DateField("备案日期")
    reference = models.CharField("文号或回执编号", max_length=100, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    recorded_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filed_on", "id"]
        verbose_name = verbose_name_plural = "活动备案"

    def __str__(self) -> str:
        return f"{self.authority}：{self.applies_to}（{self.filed_on}）"


class SignIn(models.Model):
    """One participant's sign-in (签到) on the event's public page; one per phone number."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="signins", verbose_name="活动")
    name = models.CharField("姓名", max_length=50)
    organisation = models.CharField("工作单位", max_length=100)
    phone = models.CharField("手机号码", max_length=30)
    country = models.CharField("国家（地区）", max_length=50, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField("签到时间", auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "phone"], name="signin_one_per_phone")]
        verbose_name = verbose_name_plural = "签到"

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）"


class StoredFile(models.Model):
    """What every uploaded file of this stage carries: kept by content hash (documents/attachments.py)."""

    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class EventPhoto(StoredFile):
    """活动相片 of a kind (全景, 领导发言近景 …: the call's photo material kinds). Withdrawn, not deleted."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="photos", verbose_name="活动")
    kind = models.CharField("相片类别", max_length=50)
    caption = models.CharField("说明", max_length=200, blank=True)
    withdrawn = models.BooleanField("已撤下", default=False)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = verbose_name_plural = "活动相片"

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"


class NewsItem(models.Model):
    """新闻稿 sent to the funder's site or public account (R-P9), with its link and a screenshot."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="news", verbose_name="项目")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.PROTECT, related_name="news",
                              verbose_name="活动")
    title = models.CharField("标题", max_length=200)
    outlet = models.CharField("刊登平台", max_length=100)
    url = models.URLField("链接", max_length=500)
    published_on = models.DateField("刊登日期")
    screenshot = models.FileField("截图", max_length=300, blank=True)
    screenshot_sha256 = models.CharField(max_length=64, blank=True)
    screenshot_type = models.CharField(max_length=10, blank=True)
    created_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["published_on", "id"]
        verbose_name = verbose_name_plural = "新闻报道"

    def __str__(self) -> str:
        return f"{self.title}（{self.outlet}）"


class DeliverableRecord(models.Model):
    """An intermediate deliverable of the type (R-C8) with its own due date, copied from the call when the
    project's deliverables are first read; the unit marks it delivered with a file. Delivered late, or not
    by the due date, it counts as not completed."""

    class Status(models.TextChoices):
        PENDING = "pending", "待交付"
        DELIVERED = "delivered", "已交付"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="deliverables",
                                verbose_name="项目")
    key = models.PositiveIntegerField("序号")  # the index in the type's `deliverables`
    name = models.CharField("名称", max_length=200)
    due = models.DateField("截止日期")
    hard = models.BooleanField("不能延期", default=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    delivered_on = models.DateField("交付日期", null=True, blank=True)
    seconds = models.PositiveIntegerField("时长（秒）", null=True, blank=True)
    link = models.URLField("链接", max_length=500, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    file = models.FileField(max_length=300, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=10, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    delivered_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["due", "key"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="deliverable_once_per_project")]
        verbose_name = verbose_name_plural = "阶段性成果"

    def __str__(self) -> str:
        return f"{self.name}（{self.due}）"



# --- deliverables, spot checks, acceptance, deferral, closure ---
# (projects/acceptance.py: spot checks with recovery (R-P5); acceptance against the type's materials and
# minimums with the evidence collected (R-P7), its deadline on the official calendar and the funder's result;
# deferral on request (R-P8, barring new applications by R-E5 while pending); the closed project's dossier)


class SpotCheck(models.Model):
    """抽查 (R-P5): a sample of a call's ongoing projects drawn by the funder's staff, at random (the seed
    and the population recorded, so the draw can be repeated) or chosen (targeted, with the reason)."""

    class Mode(models.TextChoices):
        RANDOM = "random", "随机抽取"
        TARGETED = "targeted", "定向抽查"

    class Status(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="spot_checks",
                             verbose_name="申报通知")
    mode = models.CharField("抽取方式", max_length=20, choices=Mode.choices)
    seed = models.CharField("随机种子", max_length=64, blank=True)
    size = models.PositiveIntegerField("抽取数量")
    # the ids of the projects the sample was drawn from, in the order the draw used (by id)
    population = models.JSONField("抽取范围", default=list)
    reason = models.TextField("抽查说明", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    drawn_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = verbose_name_plural = "项目抽查"

    def __str__(self) -> str:
        return f"{self.call} {self.get_mode_display()} {self.size}项"


class SpotCheckItem(models.Model):
    """One sampled project: the findings and the consequence; a recovery of funds carries its amount and
    reason (and the recovery row of the money ledger when the contracts stage keeps one)."""

    class Consequence(models.TextChoices):
        NONE = "none", "未发现问题"
        RECTIFY = "rectify", "限期整改"
        RECOVERY = "recovery", "追回经费"
        TERMINATE = "terminate", "终止项目"

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.PROTECT, related_name="items",
                                   verbose_name="抽查")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="spot_checks",
                                verbose_name="项目")
    findings = models.TextField("检查发现", blank=True)
    consequence = models.CharField("处理结果", max_length=20, choices=Consequence.choices, blank=True)
    rectify_by = models.DateField("整改期限", null=True, blank=True)
    recovery_amount = models.PositiveIntegerField("追回金额（元）", null=True, blank=True)
    recovery_reason = models.TextField("追回原因", blank=True)
    # the recovery row of the money ledger (contracts' Payment of kind recovery), when one was made
    recovery_payment_id = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("记录时间", null=True, blank=True)

    class Meta:
        ordering = ["spot_check", "project_id"]
        constraints = [models.UniqueConstraint(fields=["spot_check", "project"], name="spotcheck_project_once")]
        verbose_name = verbose_name_plural = "抽查项目"

    def __str__(self) -> str:
        return f"{self.project}：{self.get_consequence_display() or '待检查'}"


class Acceptance(models.Model):
    """验收 (R-P7): one per project. The unit fills it (declared measures, summary, materials) and submits it;
    the funder decides: passed, rectify by a date (the unit submits again), or failed. `snapshot` freezes the
    checklist, the minimums and the evidence as they were at the last submission."""

    class Status(models.TextChoices):
        DRAFT = "draft", "填写中"
        SUBMITTED = "submitted", "已提交待验收"
        RECTIFY = "rectify", "限期整改"
        PASSED = "passed", "验收通过"
        FAILED = "failed", "验收不通过"

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="acceptance",
                                   verbose_name="项目")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField("项目完成情况总结", blank=True)
    # what the unit reports for the measures the platform cannot count itself (student_teams: 22, …)
    declared = models.JSONField("单位填报的任务完成数", default=dict, blank=True)
    snapshot = models.JSONField("提交时的核验结果", default=dict, blank=True)
    due_on = models.DateField("提交截止日期", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submissions = models.PositiveIntegerField("提交次数", default=0)
    late = models.BooleanField("逾期提交", default=False)
    result_note = models.TextField("验收意见", blank=True)
    rectify_by = models.DateField("整改期限", null=True, blank=True)
    decided_at = models.DateTimeField("验收时间", null=True, blank=True)
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "项目验收"

    def __str__(self) -> str:
        return f"{self.project.title} {self.get_status_display()}"


class AcceptanceFile(StoredFile):
    """A file the unit uploads for one acceptance material (`code`: the call's material code). Withdrawn,
    never deleted."""

    acceptance = models.ForeignKey(Acceptance, on_delete=models.PROTECT, related_name="files",
                                   verbose_name="验收")
    code = models.CharField("验收材料", max_length=60)
    withdrawn = models.BooleanField("已撤下", default=False)

    class Meta:
        ordering = ["code", "uploaded_at", "id"]
        verbose_name = verbose_name_plural = "验收材料文件"

    def __str__(self) -> str:
        return f"{self.code} {self.original_name}"


class Deferral(models.Model):
    """延期验收 on request (R-P8): approved, the project is `deferred` until `until` and the unit may not
    apply again to the programme (R-E5) until its acceptance is done (the deferral is then cleared)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "待审批"
        APPROVED = "approved", "已批准延期"
        REFUSED = "refused", "不予批准"
        WITHDRAWN = "withdrawn", "已撤回"
        CLEARED = "cleared", "已完成验收"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="deferrals", verbose_name="项目")
    until = models.DateField("申请延期至")
    reason = models.TextField("延期理由")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = verbose_name_plural = "延期验收申请"

    def __str__(self) -> str:
        return f"{self.project.title} 延期至{self.until}（{self.get_status_display()}）"



# --- volunteer service (R-P10) ---
# (projects/volunteers.py: a unit's team with its leader, volunteers who join it on the leader's approval,
# activities published at least a day ahead (附件4 of 常德 2022), sign-ups the leader approves, service hours)


class VolunteerTeam(models.Model):
    """科技志愿者服务队伍: a unit's team, registered by its clerk or head, with a leader (队伍负责人, a user of
    the unit) who approves who joins and who serves. `project` is the project whose task asks for the team
    (常德 2022 2-6: 市级学会10人以上、高校科协50人以上). Volunteers join through /projects/volunteers/join/<join_token>/."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在册"
        DISSOLVED = "dissolved", "已撤销"

    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="volunteer_teams",
                                     verbose_name="所属单位")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="volunteer_teams", verbose_name="项目")
    name = models.CharField("队伍名称", max_length=100)
    leader = models.ForeignKey("orgs.User", on_delete=models.PROTECT, related_name="volunteer_teams_led",
                               verbose_name="队伍负责人")
    leader_phone = models.CharField("负责人手机号码", max_length=30)
    description = models.TextField("队伍简介", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    join_token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation_id", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="volunteer_team_name_once")]
        verbose_name = verbose_name_plural = "志愿者服务队伍"

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """科技志愿者: a person who registered on the team's join page (no account: a personal link, `token`, is
    their page) and waits for the leader's approval. One per phone in a team."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已加入"
        REJECTED = "rejected", "未通过"
        LEFT = "left", "已退出"

    team = models.ForeignKey(VolunteerTeam, on_delete=models.PROTECT, related_name="volunteers",
                             verbose_name="队伍")
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("手机号码", max_length=30)
    workplace = models.CharField("工作单位", max_length=100, blank=True)
    speciality = models.CharField("专业特长", max_length=200, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    token = models.CharField(max_length=64, unique=True)
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    note = models.CharField("审核意见", max_length=300, blank=True)
    created_at = models.DateTimeField("注册时间", auto_now_add=True)

    class Meta:
        ordering = ["team_id", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "phone"], name="volunteer_one_per_phone")]
        verbose_name = verbose_name_plural = "科技志愿者"

    def __str__(self) -> str:
        return f"{self.name}（{self.team}）"


class VolunteerActivity(models.Model):
    """志愿服务活动, published by the team's leader at least a day before it starts (附件4; the call's
    `publish_days_ahead` minimum when a task sets one); volunteers of the team sign up while it is open."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "报名中"
        CANCELLED = "cancelled", "已取消"

    team = models.ForeignKey(VolunteerTeam, on_delete=models.PROTECT, related_name="activities",
                             verbose_name="队伍")
    title = models.CharField("活动名称", max_length=200)
    place = models.CharField("活动地点", max_length=200)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    positions = models.PositiveIntegerField("招募人数")
    description = models.TextField("活动内容", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    published_by = models.ForeignKey("orgs.User", null=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField("发布时间", auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="volunteer_activity_ends_after_start"),
        ]
        verbose_name = verbose_name_plural = "志愿服务活动"

    def __str__(self) -> str:
        return f"{self.title}（{self.starts_at:%Y-%m-%d}）"


class VolunteerSignup(models.Model):
    """A volunteer's sign-up (报名) for an activity, approved or refused by the leader; after the activity the
    leader records the service hours (服务时长) of each approved volunteer."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"

    activity = models.ForeignKey(VolunteerActivity, on_delete=models.PROTECT, related_name="signups",
                                 verbose_name="活动")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups",
                                  verbose_name="志愿者")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    note = models.CharField("审核意见", max_length=300, blank=True)
    hours = models.DecimalField("服务时长（小时）", max_digits=5, decimal_places=1, null=True, blank=True)
    hours_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hours_at = models.DateTimeField("时长记录时间", null=True, blank=True)
    created_at = models.DateTimeField("报名时间", auto_now_add=True)

    class Meta:
        ordering = ["activity_id", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="volunteer_signup_once")]
        verbose_name = verbose_name_plural = "志愿服务报名"

    def __str__(self) -> str:
        return f"{self.volunteer.name} → {self.activity.title}"
