"""The request's user comes with its role assignments in one statement (orgs/backends.py): pages ask no
separate question about roles, and a role revoked between two requests is gone at the second."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shenbao.orgs.backends import parse_roles, user_with_roles
from shenbao.orgs.models import Role, RoleAssignment
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]


def test_the_user_is_read_with_every_role_and_its_organisation(make_org, make_user):
    org = make_org("柳州市角色学会", "city_society")
    other = make_org("柳州市另一学会", "city_society")
    user = make_user("two_roles", org=org, roles=(Role.APPLICANT_CLERK,))
    RoleAssignment.objects.create(user=user, role=Role.UNIT_HEAD, organisation=other)
    RoleAssignment.objects.create(user=user, role=Role.HOME_REVIEWER, organisation=None)
    with CaptureQueriesContext(connection) as ctx:
        loaded = user_with_roles(user.pk)
    assert len(ctx.captured_queries) == 1
    expected = set(RoleAssignment.objects.filter(user=user).values_list("role", "organisation_id"))
    assert set(loaded._sb_role_pairs) == expected and len(expected) == 3
    assert user_with_roles(10**9) is None
    nobody = make_user("no_roles", org=org)
    assert user_with_roles(nobody.pk)._sb_role_pairs == []
    assert parse_roles("applicant_clerk:12,home_reviewer:") == [("applicant_clerk", 12), ("home_reviewer", None)]


def test_pages_ask_no_separate_role_question_and_a_revoked_role_is_gone_at_the_next_request(
        client, load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市角色计数学会", category="city_society",
                              parent=call.issuer, prefix="rw", head=False)
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("applications:offers")).status_code == 200
    roles = [q["sql"] for q in ctx.captured_queries if "orgs_roleassignment" in q["sql"]]
    assert len(roles) == 1 and 'FROM "orgs_user"' in roles[0]  # only inside the user's own statement
    assert client.get(reverse("applications:offers")).content.decode().count("data-call=") == 1
    RoleAssignment.objects.filter(user=clerk, role=Role.APPLICANT_CLERK).delete()
    response = client.get(reverse("applications:offers"))
    assert response.status_code == 403, response.status_code
