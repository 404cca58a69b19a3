"""`shenbao demo` prepares everything the README promises: the five calls, practice calls, demo logins."""

import io

import pytest
from django.core.management import call_command

from shenbao.calls.models import Call
from shenbao.orgs.models import User

pytestmark = pytest.mark.django_db


def test_demo_prepares_calls_and_logins_and_is_idempotent(client):
    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    call_command("demo", no_serve=True, stdout=out)  # a second start changes nothing
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    assert "clerk            Demo#2026" in text
    published = Call.objects.filter(status=Call.Status.PUBLISHED)
    codes = set(published.values_list("code", flat=True))
    assert {"liuzhou-2026-kcfn", "guangxi-2026-tzzx", "guangxi-2023-tzzx", "hunan-2024-kjcx",
            "changde-2022-xhfw"} <= codes
    practice = published.get(code="liuzhou-2026-kcfn-practice")
    assert practice.phase == "open" and practice.title.startswith("【演练】")
    assert Call.objects.filter(code="liuzhou-2026-kcfn-practice").count() == 1
    response = client.post("/accounts/login/", {"username": "clerk", "password": "Demo#2026"}, follow=True)
    assert response.wsgi_request.user.username == "clerk"
    assert not User.objects.get(username="clerk").must_change_password  # demo logins go straight in
    page = client.get("/").content.decode()
    assert "关于申报2026年柳州市科协“科创赋能”项目的通知" in page
    # every role finds something: the home association's endorsement queue, the funder's received list
    from shenbao.applications.models import Application

    assert Application.objects.filter(status="awaiting_endorsement").count() == 1
    assert Application.objects.filter(status="submitted").count() == 1
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "home", "password": "Demo#2026"})
    assert "校企协同“专家助企赋能”系列活动" in client.get("/apply/endorse/").content.decode()
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "funder", "password": "Demo#2026"})
    assert "“龙城科创大讲堂”智能网联汽车专场" in client.get("/apply/received/").content.decode()
