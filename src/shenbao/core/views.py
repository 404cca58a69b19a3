"""A background job's page: its progress bar (polled with htmx while it runs) and its result."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shenbao.core import audit, jobs
from shenbao.core.http import client_ip
from shenbao.core.models import Job


def _job_or_refusal(request, job_id: int):
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404
    decision = jobs.can_view(request.user, job)
    if not decision:
        return None, render(request, "core/job_refused.html", {"reason": decision.reason}, status=403)
    return job, None


@require_GET
@login_required
@never_cache
def job_detail(request, job_id: int):
    job, refusal = _job_or_refusal(request, job_id)
    if refusal:
        return refusal
    if request.headers.get("HX-Request"):
        return render(request, "core/_job_progress.html", {"job": job})
    return render(request, "core/job_detail.html", {"job": job})


@require_GET
@login_required
@never_cache
def job_file(request, job_id: int):
    job, refusal = _job_or_refusal(request, job_id)
    if refusal:
        return refusal
    if job.state != Job.State.DONE or not job.result_file:
        raise Http404
    audit.record(actor=request.user, action="job.download", obj=job, after={"file": job.result_name},
                 ip=client_ip(request))
    name = job.result_name or job.result_file.name.rsplit("/", 1)[-1]
    response = FileResponse(job.result_file.open("rb"), as_attachment=True, filename=name)
    response["Content-Disposition"] = (
        f"attachment; filename=\"job-{job.pk}\"; filename*=UTF-8''{quote(name, safe='')}")
    return response
