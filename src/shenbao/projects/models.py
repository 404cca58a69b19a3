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


# --- change requests and plan versions ---


# --- activities (events), sign-in, photos, news ---


# --- deliverables, spot checks, acceptance, deferral, closure ---


# --- volunteer service (R-P10) ---
