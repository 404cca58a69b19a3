"""A background job's page: its progress bar (polled with htmx while it runs) and its result; the site's 400
page that says what went wrong in the user's language."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shenbao.core import audit, jobs
from shenbao.core.middleware import bad_request_response
from shenbao.core.models import Job


def _job_or_refusal(request, job_id: int):
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404
    decision = jobs.can_view(request.user, job)
    if not decision:
        audit.refused(decision.reason, job)  # access.denied with the reason (core/audit_middleware.py)
        return None, render(request, "core/job_refused.html", {"reason": decision.reason}, status=403)
    return job, None


STOP_POLLING = 286  # htmx: stop the `every 1s` trigger


@require_GET
def job_detail(request, job_id: int):
    if request.headers.get("HX-Request"):
        return _job_progress(request, job_id)
    return _job_page(request, job_id)


@never_cache
def _job_progress(request, job_id: int):
    """The polled partial. A poll that may not see the job (session ended, refused) stops the polling
    instead of swapping a login or refusal page into the bar; a reload shows why."""
    if not request.user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return HttpResponse(status=STOP_POLLING)
    decision = jobs.can_view(request.user, job)
    if not decision:
        audit.refused(decision.reason, job)
        return HttpResponse(status=STOP_POLLING)
    return render(request, "core/_job_progress.html", {"job": job})


@login_required
@never_cache
def _job_page(request, job_id: int):
    job, refusal = _job_or_refusal(request, job_id)
    if refusal:
        return refusal
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
    name = job.result_name or job.result_file.name.rsplit("/", 1)[-1]
    response = FileResponse(job.result_file.open("rb"), as_attachment=True, filename=name)
    response["Content-Disposition"] = (
        f"attachment; filename=\"job-{job.pk}\"; filename*=UTF-8''{quote(name, safe='')}")
    response.audit_object = job  # written as file.download by core/audit_middleware.py
    return response


def too_big_message() -> str:
    mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return _("提交的内容过大（超过 %(mb)s MB），没有保存：请缩短填写的内容，附件和扫描件请用上传功能") % {"mb": mb}


def bad_request(request, exception=None):
    """handler400: a body above DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields or files, or any other
    SuspiciousOperation answered with a message instead of Django's bare "Bad Request (400)"."""
    if isinstance(exception, RequestDataTooBig):
        message = too_big_message()
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = _("提交的栏目或文件过多，没有保存")
    else:
        message = _("请求有误，没有处理")
    return bad_request_response(request, message)
