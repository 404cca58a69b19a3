"""Each role sees its own page (issue 7 item 6): the home reviewer and the funder read the application with
their decision form below the content, their own breadcrumbs and wording; the work bench shows each role's
to-do list with counts, from selectors with a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shenbao.applications import selectors, services
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

PRINT_HINT = "请打印此版本"


@pytest.fixture
def routed(load_call, make_org, make_user):
    guangxi = reopen(load_call("guangxi2026"))
    city = make_org("柳州市科学技术协会", "city_association", parent=guangxi.issuer, code=None)
    reviewer = make_user("home_role", org=city, roles=(Role.HOME_REVIEWER,))
    staff = make_user("gx_role", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    _org, clerk, _head = unit(make_org, make_user, name="柳州角色园区科协", category="enterprise_association",
                              parent=city, prefix="role")
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    return app, clerk, reviewer, staff


def _crumbs(page: str) -> str:
    start = page.index('id="crumbs"')
    return page[start:page.index("</p>", start)]


def test_the_reviewer_reads_the_form_then_decides_below_it(client, routed):
    app, clerk, reviewer, _staff = routed
    client.force_login(reviewer)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "属地推荐审核" in _crumbs(page) and "我的申报" not in _crumbs(page)
    assert PRINT_HINT not in page and 'id="next-step"' not in page
    assert "待您审核推荐" in page
    assert page.index('id="frozen"') < page.index('id="endorsement"')  # the decision below the content
    client.force_login(clerk)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "我的申报" in _crumbs(page) and PRINT_HINT in page and 'id="next-step"' in page


def test_the_funder_reads_the_form_then_decides_below_it(client, routed):
    app, _clerk, reviewer, staff = routed
    services.endorse(user=reviewer, application=app, opinion="同意推荐")
    client.force_login(staff)
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "收到的申报" in _crumbs(page) and app.number in _crumbs(page)
    assert PRINT_HINT not in page and 'id="next-step"' not in page
    assert "此申报已报送本单位" in page
    assert page.index('id="frozen"') < page.index('id="return"')


def test_work_bench_counts_for_each_role(client, routed, make_org, make_user, call_liuzhou):
    app, clerk, reviewer, staff = routed
    # the clerk: one more draft, one returned (by the funder), and the submitted one still without a scan
    filled_draft(clerk, app.call, "2026-4", "brand")
    client.force_login(clerk)
    page = client.get(reverse("orgs:home")).content.decode()
    counts = _counts(page)
    assert counts["drafts"] == 1 and counts["returned"] == 0 and counts["missing_scans"] == 1
    assert "to_accept" not in counts  # not the funder's list
    # the reviewer: 待推荐 1 and the registrations under the association
    make_org("柳州待审学会", "city_society", parent=app.endorser, status="pending")
    client.force_login(reviewer)
    counts = _counts(client.get(reverse("orgs:home")).content.decode())
    assert counts["to_endorse"] == 1 and counts["registrations"] == 1 and "drafts" not in counts
    # endorsed: the funder has one 待受理; the reviewer none
    services.endorse(user=reviewer, application=app, opinion="同意推荐")
    counts = _counts(client.get(reverse("orgs:home")).content.decode())
    assert counts["to_endorse"] == 0
    client.force_login(staff)
    counts = _counts(client.get(reverse("orgs:home")).content.decode())
    assert counts["to_accept"] == 1 and counts["registrations"] >= 1
    services.return_for_revision(user=staff, application=app, reason="请补充材料",
                                 new_deadline=timezone.now() + dt.timedelta(days=3))
    assert _counts(client.get(reverse("orgs:home")).content.decode())["to_accept"] == 0
    client.force_login(clerk)
    assert _counts(client.get(reverse("orgs:home")).content.decode())["returned"] == 1


def _counts(page: str) -> dict[str, int]:
    import re

    return {k: int(v) for k, v in re.findall(r'data-todo="(\w+)"><a [^>]*>[^<]*<strong class="count[^"]*">(\d+)<', page)}


@pytest.fixture
def call_liuzhou(load_call):
    return reopen(load_call("liuzhou2026"))


def test_todo_queries_do_not_grow_with_the_applications(call_liuzhou, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市计数学会", category="city_society",
                              parent=call_liuzhou.issuer, prefix="cnt")
    filled_draft(clerk, call_liuzhou, "2026-1")
    sub = filled_draft(clerk, call_liuzhou, "2026-2")
    services.submit(user=clerk, application=sub)
    with CaptureQueriesContext(connection) as few:
        before = {t.key: t.count for t in selectors.todo(clerk)}
    a = filled_draft(clerk, call_liuzhou, "2026-3")
    services.submit(user=clerk, application=a)
    with CaptureQueriesContext(connection) as more:
        after = {t.key: t.count for t in selectors.todo(clerk)}
    assert before == {"drafts": 1, "missing_scans": 1, "returned": 0}
    assert after == {"drafts": 1, "missing_scans": 2, "returned": 0}
    assert len(more.captured_queries) == len(few.captured_queries) <= 12
