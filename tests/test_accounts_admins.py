"""三权分立: the system, security and audit administrators each do their own job and no other's."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError

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


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): …` runs what waits for the commit (mail is sent after the change commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _link(outbox, to: str) -> str:
    """The one-time link of the last mail sent to `to` (its path)."""
    mail = [m for m in outbox if to in m.to][-1]
    return re.search(r"https?://[^/\s]+(/accounts/password/set/\S+/)", mail.body).group(1)


def test_only_the_security_administrator_resets_passwords(people, client, mailoutbox, committed):  # R-S50
    clerk = people["clerk"]
    User.objects.filter(pk=clerk.pk).update(email="clerk@unit.example")
    clerk.refresh_from_db()
    url = f"/accounts/security/users/{clerk.pk}/"
    for role in (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        client.force_login(people[role])
        assert client.post(url, {"action": "reset"}).status_code == 403
        with pytest.raises(NotAllowed, match="由安全管理员负责"):
            services.reset_password(actor=people[role], user=clerk)
    clerk.refresh_from_db()
    assert clerk.check_password(PASSWORD) and not clerk.must_change_password
    client.force_login(people[Role.SECURITY_ADMIN])
    with committed():
        page = client.post(url, {"action": "reset"}, follow=True).content.decode()
    # the resetter's page says where the link went and that nobody else sees a password; it shows none
    assert "c***@unit.example" in page and "安全管理员看不到新密码" in page
    assert "temp-password" not in page and 'class="secret"' not in page
    clerk.refresh_from_db()
    assert not clerk.has_usable_password()  # the old password is gone; nobody knows a new one
    assert AuditEvent.objects.filter(action="account.password_reset", object_id=str(clerk.pk)).exists()
    link = _link(mailoutbox, "clerk@unit.example")
    assert link.split("/")[-3] not in str(list(AuditEvent.objects.values_list("before", "after", "note")))
    # the account holder opens the link and chooses a password; the link works once
    client.logout()
    assert "设置新密码" in client.get(link).content.decode()
    r = client.post(link, {"new_password1": "Fresh#pass2026", "new_password2": "Fresh#pass2026"})
    assert r.status_code == 302 and r.url == "/accounts/login/"
    clerk.refresh_from_db()
    assert clerk.check_password("Fresh#pass2026") and not clerk.must_change_password
    assert "链接无效或已过期" in client.get(link).content.decode()
    assert client.post("/accounts/login/", {"username": "clerk", "password": "Fresh#pass2026"}).status_code == 302


def test_reset_link_expires_and_needs_an_email_address(people, client, mailoutbox, settings, committed):  # R-S50
    import datetime as dt

    sec, clerk = people[Role.SECURITY_ADMIN], people["clerk"]
    with pytest.raises(ValidationError, match="没有登记电子邮箱"):
        services.reset_password(actor=sec, user=clerk)
    clerk.refresh_from_db()
    assert clerk.check_password(PASSWORD)  # nothing changed
    User.objects.filter(pk=clerk.pk).update(email="clerk@unit.example")
    clerk.refresh_from_db()
    with committed():
        services.reset_password(actor=sec, user=clerk)
    clerk.refresh_from_db()
    link = _link(mailoutbox, "clerk@unit.example")
    assert settings.PASSWORD_RESET_TIMEOUT <= 60 * 60  # a short expiry
    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)  # Django's naive clock
    token = link.rstrip("/").split("/")[-1]
    gen = PasswordResetTokenGenerator()
    gen._now = lambda: later
    assert not gen.check_token(clerk, token)
    assert PasswordResetTokenGenerator().check_token(clerk, token)


def test_an_administrator_account_takes_a_maker_and_a_checker(people, client, mailoutbox, committed):  # R-S51
    from shenbao.orgs.models import AdminRequest

    sec, sysadmin, auditor = people[Role.SECURITY_ADMIN], people[Role.SYSTEM_ADMIN], people[Role.AUDIT_ADMIN]
    client.force_login(sec)
    r = client.post("/accounts/security/", {"username": "auditor2", "display_name": "韦审计", "role": Role.AUDIT_ADMIN,
                                            "email": "auditor2@kx.example"}, follow=True)
    page = r.content.decode()
    assert "须由另一名管理员复核" in page
    assert not User.objects.filter(username="auditor2").exists()  # nothing yet
    req = AdminRequest.objects.get(details__username="auditor2")
    assert req.status == "pending" and req.requested_by == sec
    # the maker cannot approve their own request; the auditor changes nothing
    with pytest.raises(NotAllowed, match="另一名管理员"):
        services.decide_admin_request(actor=sec, request=req, approve=True)
    with pytest.raises(NotAllowed):
        services.decide_admin_request(actor=auditor, request=req, approve=True)
    assert client.post(f"/accounts/admin-requests/{req.pk}/", {"action": "approve"}).status_code == 403
    # the system administrator checks it: the account exists, with one role, and the link goes to its e-mail
    client.force_login(sysadmin)
    assert "auditor2" in client.get("/accounts/admin-requests/").content.decode()
    with committed():
        assert client.post(f"/accounts/admin-requests/{req.pk}/", {"action": "approve"}).status_code == 302
    req.refresh_from_db()
    new = User.objects.get(username="auditor2")
    assert req.status == "approved" and req.decided_by == sysadmin and req.target == new
    assert new.role_codes() == {Role.AUDIT_ADMIN} and not new.has_usable_password()
    assert _link(mailoutbox, "auditor2@kx.example")
    assert AuditEvent.objects.filter(action="admin_request.submit", actor=sec).exists()
    assert AuditEvent.objects.filter(action="admin_request.approve", actor=sysadmin).exists()
    assert AuditEvent.objects.filter(action="account.create", actor=sysadmin, object_id=str(new.pk)).exists()
    # granting or revoking an administrator role directly is refused: it too goes through a request
    with pytest.raises(NotAllowed, match="复核"):
        services.grant_role(actor=sec, user=people["funder"], role=Role.SYSTEM_ADMIN)
    with pytest.raises(NotAllowed, match="复核"):
        services.revoke_role(actor=sec, assignment=auditor.roles.get())
    with pytest.raises(NotAllowed, match="复核"):
        services.create_account(actor=sec, username="x", display_name="x", role=Role.SYSTEM_ADMIN,
                                organisation=None, email="x@kx.example")
    client.force_login(sec)
    client.post(f"/accounts/security/users/{auditor.pk}/",
                {"action": "revoke", "assignment": auditor.roles.get().pk})
    assert auditor.has_role(Role.AUDIT_ADMIN)  # still: a request waits
    revoke = AdminRequest.objects.get(kind="revoke", target=auditor)
    # the target of a request cannot check it either
    with pytest.raises(NotAllowed):
        services.decide_admin_request(actor=auditor, request=revoke, approve=True)
    services.decide_admin_request(actor=sysadmin, request=revoke, approve=False, note="无需撤销")
    revoke.refresh_from_db()
    assert revoke.status == "rejected" and auditor.has_role(Role.AUDIT_ADMIN)


def test_deactivating_an_administrator_takes_a_maker_and_a_checker(people, client):  # R-S88
    from shenbao.orgs.models import AdminRequest

    sec, sysadmin, auditor = people[Role.SECURITY_ADMIN], people[Role.SYSTEM_ADMIN], people[Role.AUDIT_ADMIN]
    # one administrator alone cannot: the service refuses the direct way, the page files a request
    with pytest.raises(NotAllowed, match="停用管理员账户须由另一名管理员复核"):
        services.set_account_active(actor=sec, user=auditor, active=False)
    client.force_login(sec)
    url = f"/accounts/security/users/{auditor.pk}/"
    assert "停用账户（须复核）" in client.get(url).content.decode()
    page = client.post(url, {"action": "deactivate"}, follow=True).content.decode()
    assert "已提交停用管理员账户的申请" in page
    auditor.refresh_from_db()
    assert auditor.is_active  # nothing yet
    req = AdminRequest.objects.get(kind="deactivate", target=auditor)
    assert req.status == "pending" and req.requested_by == sec
    assert not AuditEvent.objects.filter(action="account.deactivate").exists()
    # neither the maker nor the account concerned checks it
    with pytest.raises(NotAllowed, match="另一名管理员"):
        services.decide_admin_request(actor=sec, request=req, approve=True)
    with pytest.raises(NotAllowed):
        services.decide_admin_request(actor=auditor, request=req, approve=True)
    auditor.refresh_from_db()
    assert auditor.is_active
    # the second administrator's approval does it, audited
    client.force_login(sysadmin)
    assert client.post(f"/accounts/admin-requests/{req.pk}/", {"action": "approve"}).status_code == 302
    req.refresh_from_db()
    auditor.refresh_from_db()
    assert req.status == "approved" and req.decided_by == sysadmin and not auditor.is_active
    assert AuditEvent.objects.filter(action="admin_request.submit", actor=sec, object_id=str(req.pk)).exists()
    assert AuditEvent.objects.filter(action="admin_request.approve", actor=sysadmin).exists()
    event = AuditEvent.objects.get(action="account.deactivate", object_id=str(auditor.pk))
    assert event.actor == sysadmin and event.before == {"is_active": True}
    assert event.after == {"is_active": False, "request": req.pk}
    # activating it again takes two as well; a business account is still deactivated directly
    with pytest.raises(NotAllowed, match="启用管理员账户须由另一名管理员复核"):
        services.set_account_active(actor=sec, user=auditor, active=True)
    again = services.request_admin_change(actor=sec, kind="activate", target=auditor)
    services.decide_admin_request(actor=sysadmin, request=again, approve=True)
    auditor.refresh_from_db()
    assert auditor.is_active
    with pytest.raises(ValidationError, match="不是管理员账户"):
        services.request_admin_change(actor=sec, kind="deactivate", target=people["clerk"])
    services.set_account_active(actor=sec, user=people["clerk"], active=False)
    assert not User.objects.get(pk=people["clerk"].pk).is_active


def test_no_account_holds_two_administrator_roles_in_the_data(people):  # R-S52
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=people[Role.SECURITY_ADMIN], role=Role.AUDIT_ADMIN)
    sec2 = User.objects.create_user(username="sec2", password=PASSWORD, must_change_password=False)
    RoleAssignment.objects.create(user=sec2, role=Role.SECURITY_ADMIN)
    from shenbao.orgs.models import AdminRequest

    # refused when asked for, and again when approved (a request written into the table by other means)
    with pytest.raises(NotAllowed, match="已是安全管理员"):
        services.request_admin_change(actor=people[Role.SECURITY_ADMIN], kind="grant", target=sec2,
                                      role=Role.SYSTEM_ADMIN)
    req = AdminRequest.objects.create(kind="grant", target=sec2, role=Role.SYSTEM_ADMIN,
                                      requested_by=people[Role.SECURITY_ADMIN])
    with pytest.raises(NotAllowed, match="已是安全管理员"):
        services.decide_admin_request(actor=people[Role.SYSTEM_ADMIN], request=req, approve=True)
    assert sec2.role_codes() == {Role.SECURITY_ADMIN}


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


def test_security_administrator_creates_accounts_that_set_their_password(people, client, mailoutbox, committed):  # R-S50
    client.force_login(people[Role.SECURITY_ADMIN])
    with committed():
        r = client.post("/accounts/security/", {"username": "lz_home2", "display_name": "覃审核",
                                                "role": Role.HOME_REVIEWER, "organisation": people["lz"].pk,
                                                "email": "qin@lz.example"}, follow=True)
    page = r.content.decode()
    assert 'class="secret"' not in page and "q***@lz.example" in page
    user = User.objects.get(username="lz_home2")
    assert not user.has_usable_password() and user.has_role(Role.HOME_REVIEWER)
    client.logout()
    link = _link(mailoutbox, "qin@lz.example")
    client.post(link, {"new_password1": "Tan#review2026", "new_password2": "Tan#review2026"})
    assert client.post("/accounts/login/", {"username": "lz_home2", "password": "Tan#review2026"}).status_code == 302
    assert client.get("/accounts/registrations/").status_code == 200


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
        services.request_admin_change(actor=sec, kind="grant", target=people[Role.SYSTEM_ADMIN],
                                      role=Role.AUDIT_ADMIN)
    with pytest.raises(NotAllowed, match="不能修改自己"):
        services.request_admin_change(actor=sec, kind="grant", target=sec, role=Role.SYSTEM_ADMIN)
    with pytest.raises(NotAllowed, match="不能修改自己"):
        services.reset_password(actor=sec, user=sec)
    with pytest.raises(NotAllowed, match="已有业务角色"):
        services.request_admin_change(actor=sec, kind="grant", target=people["clerk"], role=Role.AUDIT_ADMIN)
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
