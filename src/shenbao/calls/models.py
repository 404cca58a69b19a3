"""Calls as loaded from their YAML: the validated document is kept whole (`spec`), and the columns that
pages and queries need are copied out of it."""

from __future__ import annotations

from functools import cached_property

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_noop  # choice labels: msgids, translated where shown

from shenbao.orgs.models import Organisation

_DOCUMENTS: dict[str, object] = {}


def _document(content_hash: str, spec: dict):
    """schema.Call for a stored spec, validated once per process and content hash. Each ProjectType row
    reaches its call through its own Call instance; without this every one of them re-validated the
    whole call (tens of milliseconds each on the 可申报项目 page)."""
    from shenbao.calls.schema import Call as CallDoc

    doc = _DOCUMENTS.get(content_hash)
    if doc is None:
        if len(_DOCUMENTS) >= 256:
            _DOCUMENTS.clear()
        doc = _DOCUMENTS[content_hash] = CallDoc.model_validate(spec)
    return doc


class Call(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", gettext_noop("未发布")
        PUBLISHED = "published", gettext_noop("已发布")
        UNPUBLISHED = "unpublished", gettext_noop("已撤回")

    code = models.CharField(max_length=40, unique=True)
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="calls")
    document_number = models.CharField("文号", max_length=100, blank=True)
    title = models.CharField("标题", max_length=300)
    programme = models.CharField("项目计划", max_length=100)
    programme_code = models.CharField("项目计划代码", max_length=64, db_index=True, default="")
    year = models.PositiveIntegerField("年度")
    published_on = models.DateField("发布日期", null=True, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField("截止时间")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    spec = models.JSONField()  # the validated document (schema.Call, JSON mode)
    source_yaml = models.TextField()
    source_name = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64)
    revision = models.PositiveIntegerField(default=1)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-deadline", "id"]
        verbose_name = verbose_name_plural = "申报通知"

    def __str__(self) -> str:
        return self.title

    @cached_property
    def document(self):
        """The typed call (schema.Call) this row was loaded from: validated once per content, shared by
        every row instance that carries it (documents are frozen)."""
        return _document(self.content_hash, self.spec)

    @property
    def phase(self) -> str:
        """upcoming / open / closed, by the clock (the status says whether the public sees it at all)."""
        now = timezone.now()
        if self.opens_at and now < self.opens_at:
            return "upcoming"
        return "open" if now < self.deadline else "closed"


class ProjectType(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="types")
    code = models.CharField("项目编号", max_length=40)
    name = models.CharField("项目类型", max_length=200)
    group = models.CharField("项目类别", max_length=100, blank=True)
    kind = models.CharField(max_length=20, default="standard")
    order = models.PositiveIntegerField(default=0)
    quota_text = models.CharField("计划立项数量", max_length=100, blank=True)
    funding_text = models.CharField("经费额度", max_length=200, blank=True)
    cap = models.PositiveIntegerField("单项经费上限（元）", null=True, blank=True)
    form_code = models.CharField(max_length=40, blank=True)
    retired = models.BooleanField(default=False)  # removed from the file but kept for its applications
    # the type's own submission deadline when it is not the call's (a post-funded type's results day)
    own_deadline = models.DateTimeField("本类型申报截止时间", null=True, blank=True)

    class Meta:
        ordering = ["call", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "code"], name="uniq_type_code")]
        verbose_name = verbose_name_plural = "项目类型"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @cached_property
    def document(self):
        return self.call.document.project_type(self.code)

    @property
    def deadline(self):
        """When applications of this type must be in: the type's own deadline, else the call's (both the rows'
        instants, which every rule reads)."""
        return self.own_deadline or self.call.deadline


class Track(models.Model):
    project_type = models.ForeignKey(ProjectType, on_delete=models.PROTECT, related_name="tracks")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    quota_text = models.CharField(max_length=100, blank=True)
    funding_text = models.CharField(max_length=200, blank=True)
    cap = models.PositiveIntegerField(null=True, blank=True)
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["project_type", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["project_type", "code"], name="uniq_track_code")]
        verbose_name = verbose_name_plural = "申报类型"

    def __str__(self) -> str:
        return self.name


class Measure(models.Model):
    """A task measure (活动场次, 参加人数 …) from the catalogue or a call file: its display name."""

    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    unit = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "任务指标"

    def __str__(self) -> str:
        return self.name
