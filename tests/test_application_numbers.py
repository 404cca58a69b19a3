"""申报编号: every submitted application gets a number people can quote (2026-2-0001), from the call's
`number_pattern`, given once at the first submission, unique per call, safe under concurrent submits; the
internal id and the 64-character fingerprint stay off the messages (issue 7 item 5)."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from shenbao.applications import printing, services
from shenbao.applications.models import Application
from shenbao.calls.models import Call
from shenbao.orgs.models import User
from tests.conftest import CALLS
from tests.journey_support import filled_draft, reopen, unit

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.mark.django_db
def test_number_given_at_first_submission_and_kept(call, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市编号学会", category="city_society",
                              parent=call.issuer, prefix="num")
    app = filled_draft(clerk, call, "2026-2")
    assert app.number == ""  # a draft has none yet
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    # the default pattern {year}-{type_seq}-{seq:04d}: 2026-2 is the call's second type
    assert app.number == "2026-2-0001"
    assert app.current_snapshot.values["application_number"] == "2026-2-0001"
    # withdrawn and resubmitted: the same number
    services.withdraw(user=clerk, application=app)
    app.refresh_from_db()
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.number == "2026-2-0001" and app.current_snapshot.number == 2
    # another type of the call counts on its own
    other = filled_draft(clerk, call, "2026-3")
    services.submit(user=clerk, application=other)
    other.refresh_from_db()
    assert other.number == "2026-3-0001"


@pytest.mark.django_db
def test_number_on_the_page_the_message_and_the_print(call, make_org, make_user, client):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市编号学会", category="city_society",
                              parent=call.issuer, prefix="num")
    app = filled_draft(clerk, call, "2026-2")
    client.force_login(clerk)
    r = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version}, follow=True)
    app.refresh_from_db()
    page = r.content.decode()
    assert "申报编号 2026-2-0001" in page
    snap = app.current_snapshot
    assert snap.fingerprint not in page.split('id="fingerprint"')[0]  # the success message has the short form
    assert f"{snap.fingerprint[:16]}…" in page
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printing.pdf(snap))).pages)
    assert "申报编号 2026-2-0001" in text and f"版本指纹 {snap.fingerprint[:16]}" in text


@pytest.mark.django_db
def test_number_pattern_from_the_call(load_call, make_org, make_user, tmp_path):
    text = (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8")
    path = tmp_path / "lz-numbers.yaml"
    path.write_text(text.replace("\nyear: 2026\n", "\nyear: 2026\nnumber_pattern: \"LZ{year}-{type}-{seq:03d}\"\n"),
                    "utf-8")
    call = reopen(load_call(str(path)))
    assert call.document.number_pattern == "LZ{year}-{type}-{seq:03d}"
    _org, clerk, _head = unit(make_org, make_user, name="柳州市格式学会", category="city_society",
                              parent=call.issuer, prefix="fmt")
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.number == "LZ2026-2026-2-001"


def _parallel(fns):
    barrier = threading.Barrier(len(fns))
    results, errors, lock = [], [], threading.Lock()

    def run(fn):
        try:
            barrier.wait(timeout=30)
            out = fn()
            with lock:
                results.append(out)
        except Exception as exc:  # collected and asserted on below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_submissions_get_different_numbers(call, make_org, make_user):
    drafts = []
    for i in range(6):
        _org, clerk, _head = unit(make_org, make_user, name=f"柳州市并发编号学会{i}", category="city_society",
                                  parent=call.issuer, prefix=f"cn{i}", head=False)
        drafts.append((clerk.pk, filled_draft(clerk, call, "2026-2").pk))

    def submitter(user_pk, app_pk):
        def go():
            return services.submit(user=User.objects.get(pk=user_pk), application=Application.objects.get(pk=app_pk))
        return go

    results, errors = _parallel([submitter(u, a) for u, a in drafts])
    assert errors == [] and len(results) == 6
    numbers = sorted(Application.objects.filter(call=call).values_list("number", flat=True))
    assert numbers == [f"2026-2-{n:04d}" for n in range(1, 7)]
    assert Call.objects.get(pk=call.pk)  # the call row untouched
