"""Issue 7 item 1 on the server side: an autosave after the session expired answers JSON 401 (never a login
page the form would take for a save), and the form's login dialog logs in through a JSON endpoint that uses
the normal authentication (axes lockout included) and hands back a fresh CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shenbao.applications import services
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]


@pytest.fixture
def app(load_call, make_org, make_user):
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市对话框学会", category="city_society",
                              parent=call.issuer, prefix="dlg")
    return services.create_draft(user=clerk, project_type=call.types.get(code="2026-2"))


def test_autosave_after_expiry_answers_401_json_and_stores_nothing(client, app):
    r = client.post(reverse("applications:autosave", args=[app.pk]),
                    {"f-project_name": "过期后输入", "version": str(app.version), "autosave": "1"})
    assert r.status_code == 401
    body = r.json()
    assert body["ok"] is False and body["login"] is True and "登录已过期" in body["message"]
    assert "已自动保存" not in body["message"]
    app.refresh_from_db()
    assert app.data.get("project_name") in (None, "")


def test_json_login_checks_csrf_and_rotates_the_token(app):
    client = Client(enforce_csrf_checks=True)
    url = reverse("orgs:login_json")
    assert client.post(url, {"username": "dlg_clerk", "password": "Shenbao#2026"}).status_code == 403  # no token
    first = client.get(url).json()
    assert first["authenticated"] is False and first["csrf"]
    bad = client.post(url, {"username": "dlg_clerk", "password": "nope"}, HTTP_X_CSRFTOKEN=first["csrf"])
    assert bad.status_code == 400 and "用户名或密码不正确" in bad.json()["message"]
    assert bad.json()["attempts_left"] == 4
    ok = client.post(url, {"username": "dlg_clerk", "password": "Shenbao#2026"}, HTTP_X_CSRFTOKEN=first["csrf"])
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["user"] == "dlg_clerk"
    # logged in: the autosave goes through with the new token
    r = client.post(reverse("applications:autosave", args=[app.pk]),
                    {"f-project_name": "登录后保存", "version": str(app.version), "autosave": "1"},
                    HTTP_X_CSRFTOKEN=ok.json()["csrf"])
    assert r.status_code == 200 and r.json()["ok"] is True
    app.refresh_from_db()
    assert app.data["project_name"] == "登录后保存"


def test_json_login_is_locked_like_the_login_page(app):
    client = Client()
    url = reverse("orgs:login_json")
    for _ in range(5):
        client.post(url, {"username": "dlg_clerk", "password": "wrong"})
    r = client.post(url, {"username": "dlg_clerk", "password": "Shenbao#2026"})
    assert r.status_code == 403
    assert r.json()["locked"] is True and "锁定" in r.json()["message"]
    assert "_auth_user_id" not in client.session


def test_json_login_refuses_administrators(make_user):
    """The dialog is for the application form: the three administrators log in on the login page only
    (its second factor), never through the JSON endpoint."""
    from shenbao.orgs.models import Role

    make_user("dlg_sec", roles=(Role.SECURITY_ADMIN,))
    client = Client()
    r = client.post(reverse("orgs:login_json"), {"username": "dlg_sec", "password": "Shenbao#2026"})
    assert r.status_code == 403 and r.json()["ok"] is False
    assert "_auth_user_id" not in client.session
    from shenbao.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="account.login_failed", actor_name="dlg_sec").exists()
