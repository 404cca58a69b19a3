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


def test_demo_refuses_a_database_with_real_data(make_user, make_org):  # R-S56
    from django.core.management.base import CommandError

    from shenbao.orgs.models import Organisation

    make_user("real_clerk", make_org("某真实单位", "city_society"))
    with pytest.raises(CommandError, match="非演示数据"):
        call_command("demo", no_serve=True, stdout=io.StringIO())
    assert not User.objects.filter(username="clerk").exists()  # nothing was added
    assert not Organisation.objects.filter(name="柳州市机械工程学会").exists()


def test_demo_accounts_are_marked_on_every_page(client, make_user):  # R-S57
    call_command("demo", no_serve=True, stdout=io.StringIO())
    assert User.objects.filter(username="clerk", is_demo=True).exists()
    client.post("/accounts/login/", {"username": "clerk", "password": "Demo#2026"})
    for url in ("/", "/accounts/home/", "/apply/"):
        assert 'id="demo-band"' in client.get(url).content.decode(), url
    client.post("/accounts/logout/")
    real = make_user("someone", password="Shenbao#2026")
    client.force_login(real)
    assert 'id="demo-band"' not in client.get("/accounts/home/").content.decode()


def test_demo_administrators_log_in_with_their_printed_second_factor(client, make_user):  # R-S60
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    assert "demo-otp" in out.getvalue()  # the demo says how its administrators get their code
    r = client.post("/accounts/login/", {"username": "auditor", "password": "Demo#2026"})
    assert r.status_code == 302 and r.url == "/accounts/login/verify/"
    code = io.StringIO()
    call_command("demo_otp", "auditor", stdout=code)
    r = client.post("/accounts/login/verify/", {"token": code.getvalue().strip()})
    assert r.status_code == 302
    assert client.get("/accounts/audit/").status_code == 200
    make_user("real_admin", roles=("audit_admin",))
    with pytest.raises(CommandError, match="演示账户"):
        call_command("demo_otp", "real_admin", stdout=io.StringIO())
