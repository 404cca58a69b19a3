"""Background jobs of the applications stage (core.jobs): the ZIP of the printed PDFs and stamped scans of
a selection on the funder's desk, with a progress bar the funder watches on /jobs/<id>/."""

from __future__ import annotations

import tempfile

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.core import jobs


@task()
@jobs.tracked
def documents_zip(job, *, user_id: int, query: dict, ids: list[int] | None = None) -> int:
    """Build the ZIP of the applications the desk's filter `query` selects (only `ids` among them when
    given), as the user who asked sees them; the file is the job's result, downloaded by that user only."""
    from shenbao.applications import exports, selectors
    from shenbao.orgs.models import User

    user = User.objects.get(pk=user_id)
    apps = selectors.desk(user, selectors.DeskFilter.from_query(query))
    if ids is not None:
        apps = apps.filter(pk__in=ids)
    apps = list(apps)
    jobs.report(job, 0, len(apps), _("正在打包 %(n)d 份申报") % {"n": len(apps)})
    if not apps:
        raise jobs.JobError(_("没有可打包的申报"))

    def progress(done: int, total: int) -> None:
        jobs.report(job, done, total, _("已打包 %(done)d / %(total)d 份") % {"done": done, "total": total})

    with tempfile.TemporaryFile() as out:
        try:
            n = exports.documents_zip(user=user, applications=apps, out=out, progress=progress)
        except ValueError as exc:
            raise jobs.JobError(str(exc)) from None
        out.seek(0)
        jobs.finish(job, file=File(out, name=f"申报材料-{timezone.localtime():%Y%m%d-%H%M}.zip"),
                    message=_("已打包 %(n)d 份申报的 PDF 与盖章扫描件") % {"n": n})
    return n
