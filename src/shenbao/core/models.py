"""Audit events: who did what, when, from where, to what, with what changed. Never deleted, never changed.

Each event carries the hash of the one before it (`prev_hash`) and its own (`hash`, over a canonical
serialisation of its fields and `prev_hash`, see `core/chain.py`): editing or removing an event breaks the
chain at that point, which `shenbao audit-verify` reports. `AuditChainHead` is the one row that holds the
last sequence number and hash; writers lock it, so the chain stays linear on PostgreSQL too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy, gettext_noop


class AuditEventRefused(Exception):
    """Audit events are kept (≥ 180 days, docs/security.md): no code path deletes or changes one."""


class AuditEventQuerySet(models.QuerySet):
    def delete(self):
        raise AuditEventRefused(gettext_lazy("审计事件不可删除"))

    delete.queryset_only = True

    def update(self, **kwargs):
        raise AuditEventRefused(gettext_lazy("审计事件不可修改"))

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEventRefused(gettext_lazy("审计事件不可修改"))


class AuditEvent(models.Model):
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)  # kept even if the user is renamed
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # the hash chain: position, the previous event's hash, this event's hash
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AuditEventRefused(gettext_lazy("审计事件不可修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventRefused(gettext_lazy("审计事件不可删除"))


class AuditChainHead(models.Model):
    """The last link of the audit chain (one row, id 1): locked by every writer of an event."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class Job(models.Model):
    """A long piece of work run by a task worker, watched by the person who started it (core/jobs.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", gettext_noop("排队中")
        RUNNING = "running", gettext_noop("进行中")
        DONE = "done", gettext_noop("已完成")
        FAILED = "failed", gettext_noop("失败")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=200)
    task_path = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)  # the django-tasks result id
    language = models.CharField(max_length=10, default="zh-hans")  # messages and errors in the starter's language
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    result_file = models.FileField(upload_to="jobs/%Y/%m/", blank=True, max_length=300)
    result_url = models.CharField(max_length=300, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "后台任务"

    def __str__(self) -> str:
        return f"{self.label} #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("jobs:detail", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


class TaskWorker(models.Model):
    """A running `shenbao worker` and its last heartbeat: a running task whose worker has not beaten for
    SHENBAO_TASKS_LEASE seconds is queued again (core/worker.py)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "任务处理进程"

    def __str__(self) -> str:
        return self.worker_id


class TaskEffect(models.Model):
    """A task's effect, recorded in the same transaction as the effect itself: a task run again after its
    worker died skips what the first run already did (core/jobs.py `once`)."""

    key = models.CharField(max_length=200, unique=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "任务效果"

    def __str__(self) -> str:
        return self.key


class Holiday(models.Model):
    """A day of the official calendar (法定节假日安排) as the system administrator entered it: a holiday
    (`is_workday` false) or a working day in lieu (调休上班, `is_workday` true). It completes the
    chinese-calendar package for the years that package does not know yet and wins over it where both speak
    (core/calendar.py). A year with at least one row is a year the platform knows."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("调休上班", default=False)
    name = models.CharField("名称", max_length=50, blank=True)  # 国庆节, 春节…
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = verbose_name_plural = "节假日安排"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}"
