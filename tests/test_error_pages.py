"""Branded Chinese 403 / 404 / 500 pages instead of Django's English "Not Found" (issue 7 item 7); the 500
page renders without a database or a request context."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults


@pytest.mark.django_db
def test_unknown_address_is_a_chinese_404_page(client):
    r = client.get("/no-such-page/")
    page = r.content.decode()
    assert r.status_code == 404
    assert "页面不存在" in page and 'id="error-404"' in page and "科协项目申报平台" in page
    assert "Not Found" not in page


@pytest.mark.django_db
def test_an_application_of_someone_else_is_the_same_404(client, make_user):
    client.force_login(make_user("nobody"))
    r = client.get("/apply/999999/")
    assert r.status_code == 404 and "页面不存在" in r.content.decode()


@pytest.mark.django_db
def test_permission_denied_is_a_chinese_403_page(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/x/")
    request.user = AnonymousUser()
    r = defaults.permission_denied(request, PermissionDenied())
    page = r.content.decode()
    assert r.status_code == 403 and "无权访问" in page and 'id="error-403"' in page and "403 Forbidden" not in page


def test_500_page_needs_no_database_and_no_request_context():
    # no django_db mark: any query would fail the test
    r = defaults.server_error(RequestFactory().get("/boom/"))
    page = r.content.decode()
    assert r.status_code == 500
    assert "系统出错" in page and 'id="error-500"' in page and "Server Error" not in page
    assert "科协项目申报平台" in page  # the site's frame (base.html)
