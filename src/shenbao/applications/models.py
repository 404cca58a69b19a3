"""Applications (申报). This stage's issue builds the journey; the model exists now because a call that
has applications must refuse changes that would invalidate them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        ENDORSED = "endorsed", "已推荐"
        RETURNED = "returned", "退回修改"
        WITHDRAWN = "withdrawn", "已撤回"

    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="applications")
    project_type = models.ForeignKey("calls.ProjectType", on_delete=models.PROTECT, related_name="applications")
    track = models.ForeignKey("calls.Track", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="applications")
    applicant = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField("项目名称", max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]
        verbose_name = verbose_name_plural = "申报"

    def __str__(self) -> str:
        return self.title or f"申报 #{self.pk}"
