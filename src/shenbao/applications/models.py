"""Applications (申报): a draft an applicant unit fills from its type's form, the frozen snapshots it
submits, who takes part (joint applications), its own approval, endorsements on the route to the funder
and the stamped scans of the printed form.

Nothing submitted is ever deleted: snapshots cannot be updated or deleted at all (a database trigger
refuses it, see migration 0004), scans and endorsements are history rows, a participant leaving a draft is
marked removed, and a draft that was never submitted is discarded by status, not deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_noop  # choice labels: msgids, translated where shown


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", gettext_noop("草稿")
        AWAITING_ENDORSEMENT = "awaiting_endorsement", gettext_noop("待属地推荐")
        SUBMITTED = "submitted", gettext_noop("已提交")
        RETURNED = "returned", gettext_noop("退回修改")
        DISCARDED = "discarded", gettext_noop("已放弃")

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="applications")
    project_type = models.ForeignKey("calls.ProjectType", on_delete=models.PROTECT, related_name="applications")
    track = models.ForeignKey("calls.Track", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="applications")
    # the lead unit (牵头单位) of a joint application; participants are ApplicationParticipant rows
    applicant = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField("项目名称", max_length=300, blank=True)
    # 申报编号: given once at the first submission from the call's number_pattern (2026-1-0007), kept
    # through withdrawals and resubmissions; the one number people quote (internal ids stay internal)
    number = models.CharField("申报编号", max_length=40, blank=True, default="")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT)
    # the form values as typed (contract: field key → value); validated fully only at submit
    data = models.JSONField(default=dict, blank=True)
    # optimistic lock: every save of the draft increments it; a save with an older number is a conflict
    version = models.PositiveIntegerField(default=1)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    saved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # the latest submission
    current_snapshot = models.ForeignKey("Snapshot", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    # 申请经费 (whole yuan) as of the last submission, for the funder's list: formdata.amount_asked
    amount_asked = models.PositiveIntegerField("申请经费（元）", null=True, blank=True)
    # R-E9: the association that must endorse before the funder sees it (set at submit when routing applies)
    endorser = models.ForeignKey("orgs.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="applications_to_endorse", verbose_name="推荐单位")
    routing_label = models.CharField("推荐要求", max_length=300, blank=True)
    # return for revision (退回修改): the reason shown to the applicant and the new deadline
    return_reason = models.TextField("退回理由", blank=True)
    revision_deadline = models.DateTimeField("修改后提交截止时间", null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["-updated_at", "id"]
        verbose_name = verbose_name_plural = "申报"
        indexes = [models.Index(fields=["applicant", "call", "status"], name="app_applicant_call_status")]
        constraints = [models.UniqueConstraint(fields=["call", "number"], condition=~models.Q(number=""),
                                               name="uniq_application_number")]

    def __str__(self) -> str:
        return self.title or self.number or f"申报 #{self.pk}"

    @property
    def deadline(self):
        """The deadline that applies now: a return for revision's new deadline, else the type's (the call's
        unless the type has its own, as a post-funded type's results day)."""
        return self.revision_deadline or self.project_type.own_deadline or self.call.deadline

    def share_call(self) -> Application:
        """Hand the call read with the application to its project type read with it (the same row), so that
        the type's document and deadline do not read the call a second time. Returns the application."""
        fields = self._meta
        call, ptype = fields.get_field("call"), fields.get_field("project_type")
        if call.is_cached(self) and ptype.is_cached(self):
            pt = ptype.get_cached_value(self)
            if pt.call_id == self.call_id and not pt._meta.get_field("call").is_cached(pt):
                pt._meta.get_field("call").set_cached_value(pt, call.get_cached_value(self))
        return self


class ApplicationParticipant(models.Model):
    """A participant unit (参与单位) of a joint application, named by the lead; it confirms from its own
    account. Leaving a draft marks the row removed (kept for history)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="participants")
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="participations", verbose_name="参与单位")
    order = models.PositiveIntegerField(default=0)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["application", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "organisation"], condition=models.Q(removed_at__isnull=True),
                                    name="uniq_active_participant"),
        ]
        verbose_name = verbose_name_plural = "参与单位"

    def __str__(self) -> str:
        return f"{self.organisation}（{'已确认' if self.confirmed_at else '待确认'}）"


class OwnApproval(models.Model):
    """The applicant's own approval (R-E8): the meeting that approved the application and the unit
    head's acceptance of the call's commitment text (with the meeting filled in)."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="own_approval")
    meeting_kind = models.CharField("会议类型", max_length=100)
    meeting_name = models.CharField("会议名称", max_length=200, blank=True)
    meeting_date = models.DateField("会议日期")
    commitment = models.TextField("承诺内容")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="单位负责人")
    accepted_at = models.DateTimeField("负责人确认时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位内部审议"

    def __str__(self) -> str:
        return f"{self.meeting_kind} {self.meeting_date}"


class Snapshot(models.Model):
    """The submitted version, frozen: never updated or deleted (a database trigger refuses both).

    `values` is the whole frozen document (form values, applicant, participants, own approval …);
    `fingerprint` is the sha256 of its canonical JSON, printed and encoded in the QR code of every page."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="snapshots")
    number = models.PositiveIntegerField("版本")
    draft_version = models.PositiveIntegerField()  # the draft version it froze: a retried submit finds it
    values = models.JSONField()
    fingerprint = models.CharField("版本指纹", max_length=64, db_index=True)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["application", "number"]
        constraints = [models.UniqueConstraint(fields=["application", "number"], name="uniq_snapshot_number")]
        verbose_name = verbose_name_plural = "提交版本"

    def __str__(self) -> str:
        return f"申报 #{self.application_id} 第{self.number}版"

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:16]


class Scan(models.Model):
    """A stamped scan of the printed form of one snapshot. Its QR code proves the version (method qr:
    `verified`, "版本一致"), but not the stamp: funder staff confirm the stamp (state confirmed, 已核验) or
    return the scan with a reason, and the clerk uploads again. A scan without a readable QR is accepted
    by funder staff with a written reason (method manual). States: workflow.SCAN. Kept for history."""

    class Method(models.TextChoices):
        QR = "qr", gettext_noop("二维码核验")
        MANUAL = "manual", gettext_noop("人工核验")

    class State(models.TextChoices):
        UNREAD = "unread", gettext_noop("未识别二维码，待人工核验")
        MATCHED = "matched", gettext_noop("版本一致，盖章待主办方确认")
        CONFIRMED = "confirmed", gettext_noop("已核验")
        RETURNED = "returned", gettext_noop("已退回，须重新上传")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="scans")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="scans")
    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    qr_text = models.CharField(max_length=300, blank=True)
    verified = models.BooleanField("版本一致", default=False)  # the QR (or the funder, by hand) matched the version
    state = models.CharField("核验状态", max_length=20, choices=State.choices, default=State.UNREAD)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    reason = models.TextField("人工核验理由", blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    # the funder's decision on the stamp: confirmed (已核验) or returned with a reason
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = verbose_name_plural = "盖章扫描件"

    def __str__(self) -> str:
        return f"{self.snapshot} 扫描件（{self.get_state_display()}）"


class Endorsement(models.Model):
    """The home (or university) association's decision on an application routed through it (R-E9)."""

    class Decision(models.TextChoices):
        ENDORSE = "endorse", gettext_noop("同意推荐")
        RETURN = "return", gettext_noop("退回修改")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="endorsements")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="endorsements")
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="endorsements_given")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    opinion = models.TextField("意见")
    # the route said “会同财政部门” (R-E9) and the reviewer confirmed the joint summary with finance
    with_finance = models.BooleanField("已会同财政部门汇总", default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "推荐意见"

    def __str__(self) -> str:
        return f"{self.organisation} {self.get_decision_display()}"


class NumberCounter(models.Model):
    """The last sequence number given in one call (and scope: a project type when the call's pattern names
    the type, else the whole call). Allocation locks this row (select_for_update), so concurrent first
    submissions get different numbers on SQLite and PostgreSQL alike."""

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=64, blank=True, default="")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "scope"], name="uniq_number_counter")]
        verbose_name = verbose_name_plural = "申报编号计数"

    def __str__(self) -> str:
        return f"{self.call_id}/{self.scope or '*'}: {self.last}"


class LimitAcceptance(models.Model):
    """The funder accepts an application beyond the call's soft per-unit limit (原则上不超过N个), with its
    reason (R-E3). Kept for history; one per application."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="limit_acceptance")
    reason = models.TextField("同意超额受理的理由")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "超额受理"

    def __str__(self) -> str:
        return f"{self.application} 超额受理"


class Attachment(models.Model):
    """A file uploaded for an `attachment` field of the application's form, kept by its content hash
    (documents/attachments.py). The draft's value names it by id; a snapshot freezes its id and hash. Never
    deleted: a replaced file stays for the versions that name it."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="attachments")
    field_key = models.CharField(max_length=64)
    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = verbose_name_plural = "申报附件"

    def __str__(self) -> str:
        return f"{self.original_name}（{self.sha256[:12]}）"

    def ref(self) -> dict:
        """The value an attachment field holds for this file (also what a snapshot freezes)."""
        return {"name": self.original_name or f"{self.sha256[:12]}.{self.kind}", "document_id": self.pk,
                "sha256": self.sha256, "size": self.size, "pages": self.pages, "type": self.kind}
