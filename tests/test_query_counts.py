"""SQL statements per page of the clerk's flow (bench/bench_flow.py measures them over HTTP): the eligible-types
page runs a fixed number of queries however many calls and types are open; the other steps stay within the
counts measured when they were last reduced (a regression shows here first)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]

# the session (read; renewed at most once a minute), the user, the unit and its roles are in every count.
# measured 11 with five calls (18 before the unit, its calls and its applications were read once each, the facts
# a rule may need only when one needs them, and the session was no longer written on every request: issue 6)
ELIGIBLE_MAX = 10  # 11 before the user's roles came with the user (orgs/backends.py)
NEW_MAX = 11  # 12 before an audit event cost two statements (core/0006)  # starting a draft (the 可申报项目 page's button), its audit event included


@pytest.fixture
def clerk(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    return call, unit(make_org, make_user, name="柳州市计数学会", category="city_society", parent=call.issuer,
                      prefix="qc")[1]


def offers_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("applications:offers"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_eligible_types_page_runs_the_same_queries_for_one_call_or_many(client, clerk, load_call,
                                                                            django_assert_max_num_queries):
    call, user = clerk
    client.force_login(user)
    filled_draft(user, call, "2026-2")  # an application of its own shows beside its type
    reopen(load_call("guangxi2026"))  # a call with exclusions: the unit's past projects are read (once)
    # a call with conditions on the unit's attributes (R-C9): the attributes are read (once, when the first
    # expression needs them), so that the calls added below can add no fact read only once
    reopen(load_call("changde2022"))
    offers_queries(client)  # warm: the call documents are parsed once per content hash
    with django_assert_max_num_queries(ELIGIBLE_MAX):
        few = offers_queries(client)
    assert client.get(reverse("applications:offers")).content.decode().count("data-call=") == 3
    for name in ("hunan2024", "guangxi2023"):
        reopen(load_call(name))
    offers_queries(client)
    with django_assert_max_num_queries(ELIGIBLE_MAX):
        many = offers_queries(client)
    assert client.get(reverse("applications:offers")).content.decode().count("data-call=") == 5
    assert many == few, f"{few} queries for three calls, {many} for five"


def test_starting_a_draft_stays_within_its_count(client, clerk, django_assert_max_num_queries):
    call, user = clerk
    client.force_login(user)
    ptype = call.types.get(code="2026-2")
    client.get(reverse("applications:offers"))  # warm: the call documents are parsed once per content hash
    # measured 12 (13 before the roles came with the user): the unit with its lineage and parents in one query, the type with whether it has
    # tracks, the unit's attributes and the category names only when a rule needs them (26 in the flow before)
    with django_assert_max_num_queries(NEW_MAX):
        response = client.post(reverse("applications:create"), {"project_type": ptype.pk})
    assert response.status_code == 302
    assert user.organisation.applications.filter(project_type=ptype, status="draft").count() == 1


def test_the_application_page_and_submit_stay_within_their_counts(client, clerk, db_queue,
                                                                  django_assert_max_num_queries):
    # the database queue, as the server runs: the notice is one INSERT of its task in the request
    call, user = clerk
    app = filled_draft(user, call, "2026-2")
    client.force_login(user)
    client.get(reverse("applications:detail", args=[app.pk]))
    # measured 14 on SQLite, 15 on PostgreSQL (49 before: the roles come with the user; an audit event is two
    # statements; the row read once, locked, with the unit's lineage and parents, and on SQLite its own approval
    # (read after the lock on PostgreSQL); participants read once; the status saved with the submit's fields in
    # one UPDATE; the counter one upsert; eligibility's facts when a rule needs them; the notice one queued task,
    # its recipients read by the worker); the flow's submit is one more
    with django_assert_max_num_queries(14 if connection.vendor == "sqlite" else 15):
        response = client.post(reverse("applications:submit", args=[app.pk]), {"version": app.version})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == "submitted"
    # measured 9 (10 before the roles came with the user) since the page reads the application's scans and endorsements once each, its own approval
    # and limit acceptance with it, and takes the call, the viewer's unit and the submitter from what it read
    # (18 before, with the session written on every request 21, 27 before that)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 200
    # measured 5 (6 before the roles came with the user) since 我的申报 reads the user's roles once and the versions' scans in one query (13 before,
    # with the session written on every request 16)
    with django_assert_max_num_queries(5):
        assert client.get(reverse("applications:mine")).status_code == 200
