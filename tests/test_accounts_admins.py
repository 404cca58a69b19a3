"""三权分立: the system, security and audit administrators each do their own job and no other's."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt

from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs import permissions, services
from shenbao.orgs.models import Category, Organisation, Role, RoleAssignment, User

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
PASSWORD = "Shenbao#2026"

PAGES = {
    Role.SYSTEM_ADMIN: "/accounts/system/",
    Role.SECURITY_ADMIN: "/accounts/security/",
    Role.AUDIT_ADMIN: "/accounts/audit/",
}


@pytest.fixture
def people(make_org, make_user):
    lz = make_org("柳州市科学技术协会", "city_association", code=None)
    society = make_org("柳州市机械工程学会", "city_society", lz)
    return {
        "lz": lz, "society": society,
        Role.SYSTEM_ADMIN: make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,)),
        Role.SECURITY_ADMIN: make_user("secadmin", roles=(Role.SECURITY_ADMIN,)),
        Role.AUDIT_ADMIN: make_user("auditor", roles=(Role.AUDIT_ADMIN,)),
        "clerk": make_user("clerk", society, roles=(Role.APPLICANT_CLERK,)),
        "funder": make_user("funder", lz, roles=(Role.FUNDER_STAFF,)),
    }


@pytest.mark.parametrize("me", list(PAGES))
def test_each_administrator_has_their_page_and_is_refused_the_others(people, client, me):
    client.force_login(people[me])
    assert client.get(PAGES[me]).status_code == 200
    for other, url in PAGES.items():
        if other == me:
            continue
        r = client.get(url)
        assert r.status_code == 403
        reason = r.content.decode()
        # the reason names who the user is and whose job this is
        assert f"三权分立：您是{Role(me).label}" in reason and f"由{Role(other).label}负责" in reason


def test_business_users_are_refused_every_admin_page(people, client):
    client.force_login(people["clerk"])
    for role, url in PAGES.items():
        r = client.get(url)
        assert r.status_code == 403 and f"只有{Role(role).label}可以" in r.content.decode()


def test_only_the_system_administrator_manages_organisations(people, client):
    data = {"name": "柳州市柳江区科学技术协会", "category": Category.objects.get(code="county_association").pk,
            "parent": people["lz"].pk, "status": "active"}
    for role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        client.force_login(people[role])
        r = client.post("/accounts/system/", data)
        assert r.status_code == 403 and "三权分立" in r.content.decode()
        with pytest.raises(NotAllowed, match="由系统管理员负责"):
            services.create_organisation(actor=people[role], name="x", category=Category.objects.first())
    assert not Organisation.objects.filter(name=data["name"]).exists()
    client.force_login(people[Role.SYSTEM_ADMIN])
    r = client.post("/accounts/system/", data)
    assert r.status_code == 302
    org = Organisation.objects.get(name=data["name"])
    assert org.parent == people["lz"]
    assert AuditEvent.objects.filter(action="org.create", actor=people[Role.SYSTEM_ADMIN], object_id=str(org.pk)).exists()
    # a parent that sits below the organisation is refused (the tree stays a tree)
    r = client.post(f"/accounts/system/orgs/{people['lz'].pk}/",
                    {"name": people["lz"].name, "category": people["lz"].category.pk, "parent": org.pk,
                     "status": "active"})
    assert r.status_code == 200 and "上级单位不能是本单位或其下级单位" in r.content.decode()


def test_only_the_security_administrator_resets_passwords(people, client):
    clerk = people["clerk"]
    url = f"/accounts/security/users/{clerk.pk}/"
    for role in (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        client.force_login(people[role])
        assert client.post(url, {"action": "reset"}).status_code == 403
        with pytest.raises(NotAllowed, match="由安全管理员负责"):
            services.reset_password(actor=people[role], user=clerk)
    clerk.refresh_from_db()
    assert clerk.check_password(PASSWORD) and not clerk.must_change_password
    client.force_login(people[Role.SECURITY_ADMIN])
    page = client.post(url, {"action": "reset"}).content.decode()
    temp = re.search(r'id="temp-password">([^<]+)<', page).group(1)
    clerk.refresh_from_db()
    assert clerk.check_password(temp) and clerk.must_change_password
    assert AuditEvent.objects.filter(action="account.password_reset", object_id=str(clerk.pk)).exists()
    assert temp not in str(list(AuditEvent.objects.values_list("before", "after", "note")))  # never logged


def test_security_administrator_unlocks_a_locked_account(people, client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "clerk", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}).status_code == 403
    url = f"/accounts/security/users/{people['clerk'].pk}/"
    client.force_login(people[Role.AUDIT_ADMIN])
    assert client.post(url, {"action": "unlock"}).status_code == 403
    assert AccessAttempt.objects.filter(username="clerk").exists()
    client.force_login(people[Role.SECURITY_ADMIN])
    assert "锁定至" in client.get(url).content.decode()
    assert client.post(url, {"action": "unlock"}).status_code == 302
    assert not AccessAttempt.objects.filter(username="clerk").exists()
    client.logout()
    assert client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}).status_code == 302
    assert AuditEvent.objects.filter(action="account.unlock", actor=people[Role.SECURITY_ADMIN]).exists()


def test_security_administrator_creates_accounts_that_must_change_password(people, client):
    client.force_login(people[Role.SECURITY_ADMIN])
    r = client.post("/accounts/security/", {"username": "lz_home2", "display_name": "覃审核", "role": Role.HOME_REVIEWER,
                                            "organisation": people["lz"].pk})
    page = r.content.decode()
    temp = re.search(r'class="secret">([^<]+)<', page).group(1)
    user = User.objects.get(username="lz_home2")
    assert user.must_change_password and user.has_role(Role.HOME_REVIEWER)
    client.logout()
    client.post("/accounts/login/", {"username": "lz_home2", "password": temp})
    assert client.get("/accounts/registrations/").url == "/accounts/password/"


def test_only_the_audit_administrator_reads_the_log(people, client):
    services.create_organisation(actor=people[Role.SYSTEM_ADMIN], name="审计可见的单位",
                                 category=Category.objects.get(code="journal"))
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
        client.force_login(people[role])
        r = client.get("/accounts/audit/")
        assert r.status_code == 403 and "查看审计日志由安全审计员负责" in r.content.decode()
    client.force_login(people[Role.AUDIT_ADMIN])
    page = client.get("/accounts/audit/", {"action": "org."}).content.decode()
    assert "审计可见的单位" in page and "org.create" in page
    # the audit administrator changes nothing: no form on the page posts anywhere
    assert 'method="post"' not in page.split("<main", 1)[1]


def test_no_account_holds_two_administrator_roles_nor_changes_itself(people):
    sec = people[Role.SECURITY_ADMIN]
    with pytest.raises(NotAllowed, match="已是系统管理员"):
        services.grant_role(actor=sec, user=people[Role.SYSTEM_ADMIN], role=Role.AUDIT_ADMIN)
    with pytest.raises(NotAllowed, match="不能修改自己"):
        services.grant_role(actor=sec, user=sec, role=Role.SYSTEM_ADMIN)
    with pytest.raises(NotAllowed, match="不能修改自己"):
        services.reset_password(actor=sec, user=sec)
    with pytest.raises(NotAllowed, match="已有业务角色"):
        services.grant_role(actor=sec, user=people["clerk"], role=Role.AUDIT_ADMIN)
    with pytest.raises(NotAllowed, match="管理员账户须专用"):
        services.grant_role(actor=sec, user=people[Role.AUDIT_ADMIN], role=Role.FUNDER_STAFF,
                            organisation=people["lz"])
    assert RoleAssignment.objects.filter(user=people[Role.SYSTEM_ADMIN]).count() == 1
    # a second security administrator may act on the first
    other = User.objects.create_user(username="secadmin2", password=PASSWORD, must_change_password=False)
    RoleAssignment.objects.create(user=other, role=Role.SECURITY_ADMIN)
    assert permissions.can_manage_account(other, sec)


def test_home_page_shows_organisation_roles_and_links(people, client):
    client.force_login(people["funder"])
    page = client.get("/accounts/home/").content.decode()
    assert "柳州市科学技术协会" in page and "主办方业务人员" in page
    assert "申报通知管理" in page and "/accounts/registrations/" in page
    from django.urls import NoReverseMatch, reverse

    try:
        manage = reverse("calls:manage")
    except NoReverseMatch:
        manage = "/manage/calls/"
    assert f'href="{manage}"' in page
    client.force_login(people[Role.AUDIT_ADMIN])
    page = client.get("/accounts/home/").content.decode()
    assert "/accounts/audit/" in page and "/accounts/system/" not in page
