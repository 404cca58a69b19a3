"""Every mail the platform sends is sent by a task run by the task worker, through `deliver` (the task
`send_mail`, or a task that works out its recipients first: applications.notify's notices): a request never
waits for the mail server, and a mail server that is down never undoes a change.

    from shenbao.core import mail
    mail.send(subject=..., body=..., to=[...])    # inside the service's transaction

The mail is queued with the transaction (it is sent only if the change commits; with the database queue
the queue row is part of that transaction). The worker retries nothing by itself: a mail that fails is
a failed task, logged with its traceback.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage  # the one place that sends mail
from django.db import transaction
from django_tasks import TaskContext, task

from shenbao.core import jobs

log = logging.getLogger(__name__)


@task(takes_context=True)
def send_mail(context: TaskContext, subject: str, body: str, to: list[str], reply_to: list[str] | None = None,
              from_email: str | None = None) -> int:
    """Send one mail. A task run again after its worker died sends again only if the first run did not
    get as far as recording it (the mail server cannot take part in the database transaction)."""
    return deliver(key=f"mail:{context.task_result.id}", subject=subject, body=body, to=to, reply_to=reply_to,
                   from_email=from_email)


def deliver(*, key: str, subject: str, body: str, to: list[str] | tuple[str, ...],
            reply_to: list[str] | None = None, from_email: str | None = None) -> int:
    """Send one mail now, once per `key` (a task's f"mail:{its result id}"): for the body of a task run by the
    worker (`send_mail`, or a task that first works out its recipients, as applications.notify's), never in
    a request. Nothing is sent without recipients, or if a run with the same key recorded that it sent."""
    from shenbao.core.models import TaskEffect

    to = sorted({a.strip() for a in to if a and a.strip()})
    if not to:
        return 0
    key = key[:200]
    if TaskEffect.objects.filter(key=key).exists():
        return 0
    sent = EmailMessage(subject=subject, body=body, from_email=from_email, to=to,
                        reply_to=reply_to or None).send(fail_silently=False)
    # recorded once sent (the mail server takes no part in a transaction); a run that raced this one and
    # recorded it first leaves the record as it is
    with transaction.atomic():
        jobs.once(key)
    return sent


def send(*, subject: str, body: str, to: list[str] | tuple[str, ...], reply_to: list[str] | None = None,
         from_email: str | None = None) -> None:
    """Queue a mail (no-op without recipients). Call it inside the transaction of the change it tells of."""
    to = sorted({a.strip() for a in to if a and a.strip()})
    if not to:
        return
    jobs.enqueue(send_mail, subject=str(subject), body=str(body), to=to, reply_to=reply_to,
                 from_email=from_email)
