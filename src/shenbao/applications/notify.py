"""Who hears of what happens to an application: a short e-mail, queued after the transaction commits and
sent by the task worker (shenbao.core.mail). A mail that cannot be sent never undoes the change.

The request only queues the notice (one task: its subject, its text and whom it is for: roles in
organisations); the worker works out the addresses (one query) and sends it (`notice`). The subject and text
are written when the change commits, so the mail tells of that change even if the worker runs later."""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef, Q
from django_tasks import TaskContext, task

from shenbao.core import jobs, mail
from shenbao.orgs.models import Role, RoleAssignment, User

log = logging.getLogger(__name__)


def _addresses(org_id: int | None, roles) -> list[str]:
    return _recipients([(org_id, roles)])


def _recipients(targets) -> list[str]:
    """The addresses of the active users who, for one of `targets` (org_id, roles), hold one of the roles in
    that organisation (as `permissions.has_role_in`: a role given for it, or given without an organisation to
    a member of it), one query for all the targets. One assignment must say both: a clerk of another unit who
    is also, say, a reviewer here does not hear what is meant for this unit's clerks."""
    who = Q()
    for org_id, roles in targets:
        if org_id is not None:
            held = RoleAssignment.objects.filter(user=OuterRef("pk"), role__in=roles)
            who |= Q(Exists(held.filter(organisation_id=org_id)))
            who |= Q(Exists(held.filter(organisation__isnull=True)), organisation_id=org_id)
    if not who:
        return []
    return sorted(set(User.objects.filter(who, is_active=True).exclude(email="").values_list("email", flat=True)))


@task(takes_context=True)
def notice(context: TaskContext, subject: str, body: str, targets: list) -> int:
    """Run by the worker: send the notice to the active users with an address who, for one of `targets`
    ([org_id, roles]), hold one of the roles in that organisation (read now, in one query). Sent
    once per task run, as `mail.send_mail` (a run again after its worker died does not send again)."""
    to = _recipients([(org_id, tuple(roles)) for org_id, roles in targets])
    return mail.deliver(key=f"mail:{context.task_result.id}", subject=subject, body=body, to=to)


def _send(subject: str, body: str, targets) -> None:
    """Queue the notice for `targets` [(org_id, roles)] (nothing when none names an organisation): one task,
    no query here."""
    targets = [[org_id, [str(r) for r in roles]] for org_id, roles in targets if org_id is not None]
    if not targets:
        return
    try:
        jobs.enqueue(notice, subject=str(subject), body=str(body), targets=targets)
    except Exception:  # a queue that is down must not break the application's change (already committed)
        log.exception("notification not queued: %s", subject)


def transition(application, t) -> None:
    """Called by workflow.perform after a status change commits."""
    name = application.title or application.number or application.project_type.name
    applicant = (application.applicant_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))
    targets = {
        "submit": [(application.call.issuer_id, (Role.FUNDER_STAFF,)), applicant],
        "resubmit": [(application.call.issuer_id, (Role.FUNDER_STAFF,)), applicant],
        "submit_routed": [(application.endorser_id, (Role.HOME_REVIEWER,)), applicant],
        "resubmit_routed": [(application.endorser_id, (Role.HOME_REVIEWER,)), applicant],
        "endorse": [(application.call.issuer_id, (Role.FUNDER_STAFF,)), applicant],
        "return": [applicant],
        "return_for_revision": [applicant],
        "withdraw": [applicant],
    }.get(t.action, [])
    _send(f"【申报】{name}：{t.label}", f"申报《{name}》状态已变为：{application.get_status_display()}。",
          targets)


def participant_invited(participant) -> None:
    app = participant.application
    to = [(participant.organisation_id, (Role.APPLICANT_CLERK, Role.UNIT_HEAD))]
    _send(f"【联合申报】{app.applicant.name}邀请贵单位参与申报",
          f"{app.applicant.name}将贵单位列为《{app.title or app.project_type.name}》的参与单位，请登录平台确认。", to)


def scan_returned(scan) -> None:
    """The funder returned a stamped scan: the applicant's clerks read why and upload again."""
    app = scan.application
    name = app.title or app.number or app.project_type.name
    to = [(app.applicant_id, (Role.APPLICANT_CLERK,))]
    _send(f"【申报】{name}：盖章扫描件被退回",
          f"主办方退回了《{name}》（申报编号 {app.number}）的盖章扫描件，理由：{scan.return_reason}。"
          "请登录平台重新上传。", to)
