"""Form templates (附表 / 申报书) of a call, as loaded from its file."""

from __future__ import annotations

from functools import cached_property

from django.db import models


class FormTemplate(models.Model):
    call = models.ForeignKey("calls.Call", on_delete=models.PROTECT, related_name="form_templates")
    code = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    label = models.CharField(max_length=40, blank=True)
    spec = models.JSONField()

    class Meta:
        ordering = ["call", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "code"], name="uniq_form_code")]
        verbose_name = verbose_name_plural = "申报表模板"

    def __str__(self) -> str:
        return self.title

    @cached_property
    def document(self):
        from shenbao.calls.schema import FormTemplate as FormDoc

        return FormDoc.model_validate(self.spec)
