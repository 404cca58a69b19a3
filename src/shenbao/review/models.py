"""Review and award (评审与立项): screening, experts, conflicts, assignment, scoring, selection,
confirmation, 公示 and the award list.

The stage sits above applications: it reads applications and their submitted versions, and never changes
an application's own fields except through `applications.services` (return for revision).
Every stateful object here has its transition table in `review/workflow.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_noop


class Expert(models.Model):
    """评审专家 of a funder's pool. Bank details are never stored here."""

    funder = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="experts",
                               verbose_name="主办方")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="expert", verbose_name="登录账户")
    name = models.CharField("姓名", max_length=50)
    # the expert's employer as written, and the unit of the tree it was matched to (conflicts use the tree)
    organisation_name = models.CharField("工作单位", max_length=200)
    organisation = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="expert_members", verbose_name="所属单位（机构树）")
    title = models.CharField("职称", max_length=50, blank=True)
    fields = models.JSONField("专业领域", default=list, blank=True)
    keywords = models.JSONField("研究方向关键词", default=list, blank=True)
    region = models.CharField("所在地区", max_length=100, blank=True)
    phone = models.CharField("手机号码", max_length=30, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    active = models.BooleanField("在库", default=True)
    pledge_accepted_at = models.DateTimeField("保密承诺时间", null=True, blank=True)
    conflicts_declared_at = models.DateTimeField("回避申报时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["funder", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["funder", "phone"], condition=~models.Q(phone=""),
                                    name="expert_unique_phone_per_funder"),
        ]
        verbose_name = verbose_name_plural = "评审专家"

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation_name}）"


class ConflictOverride(models.Model):
    """A conflict of interest declared by the expert, or pinned or lifted by staff, with its reason.
    Computed conflicts (`review/conflicts.py`) are not stored; overrides are, and win over them."""

    class Kind(models.TextChoices):
        DECLARED = "declared", gettext_noop("专家申报回避")
        PINNED = "pinned", gettext_noop("工作人员设定回避")
        LIFTED = "lifted", gettext_noop("工作人员解除回避")

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="conflict_overrides")
    # a conflict with one application, or with every application of a unit
    application = models.ForeignKey("applications.Application", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="conflict_overrides")
    organisation = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="conflict_overrides")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField("理由")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)  # kept, not deleted
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application__isnull=False) | models.Q(organisation__isnull=False),
                name="conflict_override_has_target"),
        ]
        verbose_name = verbose_name_plural = "回避记录"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.expert_id} / {self.application_id or self.organisation_id}"


class Screening(models.Model):
    """形式审查 of one application by the funder (and its department/leadership levels, R-V3)."""

    class State(models.TextChoices):
        PENDING = "pending", gettext_noop("待审查")
        DEPARTMENT_PASSED = "department_passed", gettext_noop("初审通过，待审核")
        ACCEPTED = "accepted", gettext_noop("形式审查通过")
        RETURNED = "returned", gettext_noop("退回修改")
        REJECTED = "rejected", gettext_noop("不予受理")

    application = models.OneToOneField("applications.Application", on_delete=models.PROTECT,
                                       related_name="screening")
    state = models.CharField("审查状态", max_length=20, choices=State.choices, default=State.PENDING)
    reason = models.TextField("意见", blank=True)
    # who decided each level: a different person for each (R-V3)
    department_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    department_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # the submitted version screened: a new version (resubmission) is screened again from pending
    snapshot = models.ForeignKey("applications.Snapshot", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name="审查的版本")
    # the automatic checks (review/screening.py `run_checks`) as last computed, and when
    checks = models.JSONField("自动检查结果", default=list, blank=True)
    checked_at = models.DateTimeField("自动检查时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "形式审查"
        indexes = [models.Index(fields=["state"], name="screening_state")]

    def __str__(self) -> str:
        return f"形式审查 {self.application_id}：{self.get_state_display()}"


class Assignment(models.Model):
    """One expert assigned to score one application. Removing it keeps the row (`removed_at`)."""

    class Source(models.TextChoices):
        AUTO = "auto", gettext_noop("自动分配")
        MANUAL = "manual", gettext_noop("人工调整")

    application = models.ForeignKey("applications.Application", on_delete=models.PROTECT,
                                    related_name="assignments")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="assignments")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.AUTO)
    affinity = models.FloatField("匹配度", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    removed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["application", "expert"]
        constraints = [
            models.UniqueConstraint(fields=["application", "expert"], condition=models.Q(removed_at__isnull=True),
                                    name="assignment_unique_live"),
        ]
        indexes = [models.Index(fields=["expert", "removed_at"], name="assignment_expert_live")]
        verbose_name = verbose_name_plural = "评审分配"

    def __str__(self) -> str:
        return f"{self.expert_id} → {self.application_id}"


class ScoreSheet(models.Model):
    """An expert's 评分表 of one assigned application: a value per criterion of the type's rubric."""

    class State(models.TextChoices):
        DRAFT = "draft", gettext_noop("未提交")
        SUBMITTED = "submitted", gettext_noop("已提交")
        REOPENED = "reopened", gettext_noop("退回重评")

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="sheet")
    values = models.JSONField("各项得分", default=dict, blank=True)
    total = models.DecimalField("总分", max_digits=8, decimal_places=2, null=True, blank=True)
    comment = models.TextField("评审意见", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # staff sent the submitted sheet back to the expert (the reason is shown to the expert and audited)
    reopen_reason = models.TextField("退回重评理由", blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "评分表"

    def __str__(self) -> str:
        return f"评分表 {self.assignment_id}：{self.total}"


class Decision(models.Model):
    """The award decision on one application: proposed by the optimiser or staff, confirmed (R-V1),
    announced (公示) and awarded. `amount` is in yuan."""

    class State(models.TextChoices):
        PROPOSED = "proposed", gettext_noop("拟立项")
        NOT_SELECTED = "not_selected", gettext_noop("未入选")
        AWARDED = "awarded", gettext_noop("已立项")
        WITHDRAWN = "withdrawn", gettext_noop("撤销立项")

    application = models.OneToOneField("applications.Application", on_delete=models.PROTECT,
                                       related_name="decision")
    state = models.CharField("结果", max_length=20, choices=State.choices)
    score = models.DecimalField("评审得分", max_digits=8, decimal_places=3, null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    amount = models.PositiveIntegerField("资助金额（元）", null=True, blank=True)
    explanation = models.TextField("说明", blank=True)  # why in or out
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # selection (review/selection.py): who placed it (the optimiser's proposal, or staff moving it in or out
    # with a reason), whether it ties the last selected score of its quota group (并列), the sheets it had
    source = models.CharField("来源", max_length=10, choices=[("optimiser", gettext_noop("优化建议")),
                                                            ("staff", gettext_noop("人工调整"))],
                              default="optimiser")
    staff_reason = models.TextField("调整理由", blank=True)
    tie = models.BooleanField("并列", default=False)
    sheets = models.PositiveIntegerField("有效评分表数", default=0)
    proposed_at = models.DateTimeField("生成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "立项决定"

    def __str__(self) -> str:
        return f"{self.application_id}：{self.get_state_display()}"


class Confirmation(models.Model):
    """The funder's (and finance's) confirmation of a call's review result (R-V1), one row per party."""

    class Party(models.TextChoices):
        FUNDER = "funder", gettext_noop("主办方确认")
        FINANCE = "finance", gettext_noop("财务部门确认")

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="confirmations")
    party = models.CharField(max_length=10, choices=Party.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField("意见", blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoke_reason = models.TextField("撤销理由", blank=True)

    class Meta:
        ordering = ["call", "at"]
        verbose_name = verbose_name_plural = "评审结果确认"

    def __str__(self) -> str:
        return f"{self.get_party_display()} {self.call_id}"


class PublicNotice(models.Model):
    """公示 of a call's proposed list, then the published award list."""

    class State(models.TextChoices):
        OPEN = "open", gettext_noop("公示中")
        ENDED = "ended", gettext_noop("公示期满")
        AWARDED = "awarded", gettext_noop("已发布立项名单")

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="public_notices")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    title = models.CharField("公示标题", max_length=200)
    text = models.TextField("公示说明", blank=True)
    starts_on = models.DateField("公示开始")
    ends_on = models.DateField("公示截止（含）")
    # the period as the call set it when published (review.notice_period): N days, working or calendar
    period_days = models.PositiveIntegerField("公示期天数", default=5)
    working_days = models.BooleanField("按工作日计", default=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    awarded_at = models.DateTimeField(null=True, blank=True)
    entries = models.JSONField("公示名单", default=list)  # frozen at publication: number, title, unit, amount

    class Meta:
        ordering = ["-published_at", "id"]
        verbose_name = verbose_name_plural = "公示"

    def __str__(self) -> str:
        return self.title


class Objection(models.Model):
    """异议: anyone may file one during the 公示; staff record how it was handled."""

    class State(models.TextChoices):
        OPEN = "open", gettext_noop("待处理")
        UPHELD = "upheld", gettext_noop("异议成立")
        DISMISSED = "dismissed", gettext_noop("异议不成立")

    notice = models.ForeignKey(PublicNotice, on_delete=models.PROTECT, related_name="objections")
    application = models.ForeignKey("applications.Application", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="objections")
    name = models.CharField("姓名", max_length=50)
    contact = models.CharField("联系方式", max_length=100)
    text = models.TextField("异议内容")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    handling = models.TextField("处理结果", blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "异议"

    def __str__(self) -> str:
        return f"异议 {self.pk}（{self.get_state_display()}）"


class AssignmentRun(models.Model):
    """One automatic assignment (自动分配) of a call's applications (of one type, or all) to experts: its
    settings, what the optimiser reported (objective, bound) or why it could not assign."""

    class State(models.TextChoices):
        RUNNING = "running", gettext_noop("分配中")
        DONE = "done", gettext_noop("已完成")
        INFEASIBLE = "infeasible", gettext_noop("无法分配")
        FAILED = "failed", gettext_noop("出错")

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="assignment_runs")
    project_type = models.ForeignKey("calls.ProjectType", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="assignment_runs")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the settings used
    experts_per_application = models.PositiveIntegerField(default=0)
    max_load = models.PositiveIntegerField(default=0)
    outside_region = models.BooleanField(default=False)
    # what it found
    applications = models.PositiveIntegerField(default=0)
    experts = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)  # conflicted pairs left out
    candidates = models.PositiveIntegerField(default=0)  # allowed pairs offered to the optimiser
    kept = models.PositiveIntegerField(default=0)  # live assignments kept (manual, or already scored)
    assigned = models.PositiveIntegerField(default=0)  # new automatic assignments
    replaced = models.PositiveIntegerField(default=0)  # earlier automatic assignments removed
    objective = models.FloatField("总匹配度", null=True, blank=True)
    bound = models.FloatField("上界", null=True, blank=True)
    topk_bound = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)  # why it could not assign, in the starter's language
    problem_applications = models.JSONField(default=list, blank=True)  # ids named by the reason

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "自动分配记录"

    def __str__(self) -> str:
        return f"自动分配 {self.call_id}/{self.project_type_id or '*'}：{self.get_state_display()}"

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, self.bound - self.objective)
