"""One click submits once: twenty submits of one draft at the same instant, each in its own thread with
its own database connection, make exactly one snapshot and one submission event (SQLite: WAL and
IMMEDIATE transactions; PostgreSQL: the row lock). Run on both databases (SHENBAO_DATABASE_URL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from shenbao.applications import services
from shenbao.applications.models import Application, Snapshot
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import User
from tests.journey_support import filled_draft, reopen, unit

N = 20


def _parallel(fn, n: int = N):
    barrier = threading.Barrier(n)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            out = fn()
            with lock:
                results.append(out)
        except Exception as exc:  # collected and asserted on below
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_submits_make_one_submission(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市并发学会", category="city_society",
                              parent=call.issuer, prefix="race")
    app = filled_draft(clerk, call, "2026-2")
    version = app.version

    def submit_once():
        user = User.objects.get(pk=clerk.pk)  # as a request would load it
        return services.submit(user=user, application=Application.objects.get(pk=app.pk), expected_version=version)

    results, errors = _parallel(submit_once)
    assert errors == []
    assert len(results) == N
    assert sum(r.created for r in results) == 1
    assert len({r.snapshot.pk for r in results}) == 1
    assert Snapshot.objects.filter(application=app).count() == 1
    events = AuditEvent.objects.filter(object_type="applications.application", object_id=str(app.pk),
                                       action__startswith="application.submit")
    assert events.count() == 1
    app.refresh_from_db()
    assert app.status == "submitted"
    # a retried request later (same version, or none given) returns the same snapshot and creates nothing
    again = services.submit(user=clerk, application=app, expected_version=version)
    assert not again.created and again.snapshot.pk == results[0].snapshot.pk
    assert Snapshot.objects.filter(application=app).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_conflicting_saves_one_wins_the_others_are_told(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市并发学会", category="city_society",
                              parent=call.issuer, prefix="race")
    app = filled_draft(clerk, call, "2026-2")
    version = app.version
    counter = iter(range(1000))
    texts = {}

    def save_once():
        n = next(counter)
        text = f"第{n}位经办人写的目标"
        texts[n] = text
        user = User.objects.get(pk=clerk.pk)
        try:
            services.save_draft(user=user, application=Application.objects.get(pk=app.pk),
                                values={**app.data, "goals": text}, expected_version=version)
            return ("saved", text)
        except services.Conflict as exc:
            return ("conflict", exc.theirs["goals"])

    results, errors = _parallel(save_once, 8)
    assert errors == []
    saved = [t for kind, t in results if kind == "saved"]
    told = [t for kind, t in results if kind == "conflict"]
    assert len(saved) == 1 and len(told) == 7
    app.refresh_from_db()
    assert app.data["goals"] == saved[0] and app.version == version + 1
    assert set(told) == {saved[0]}  # each refused clerk is shown the text that was saved
