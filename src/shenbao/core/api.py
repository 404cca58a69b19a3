"""GET /api/v1/jobs/{id}: a background job's progress, for the person who started it (or the system
administrator); anyone else gets 403 with the reason."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from ninja import Router, Schema
from ninja.security import django_auth

from shenbao.core import jobs
from shenbao.core.decisions import require
from shenbao.core.models import Job

router = Router(tags=["jobs"], auth=django_auth)


class JobOut(Schema):
    id: int
    label: str
    state: str
    state_label: str
    done: int
    total: int
    percent: int
    message: str
    error: str
    result_url: str | None
    result_name: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def job_out(job: Job) -> dict:
    result = None
    if job.state == Job.State.DONE:
        if job.result_file:
            result = reverse("jobs:file", args=[job.pk])
        elif job.result_url:
            result = job.result_url
    return {
        "id": job.pk, "label": job.label, "state": job.state, "state_label": gettext(job.get_state_display()),
        "done": job.done, "total": job.total, "percent": job.percent, "message": job.message,
        "error": job.error, "result_url": result, "result_name": job.result_name,
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
    }


@router.get("/{int:job_id}", response=JobOut)
def get_job(request, job_id: int):
    job = get_object_or_404(Job, pk=job_id)
    require(jobs.can_view(request.user, job))
    return job_out(job)
