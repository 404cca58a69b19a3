"""The login reads and writes less (issue 6) and locks as before: axes' clean-ups are one DELETE each
(orgs.lockout.LockoutHandler), axes keeps no access log of its own (the audit log has every login with its
address and user agent), and the account is read with whether it needs the second factor."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shenbao.core.models import AuditEvent
from shenbao.orgs import otp
from shenbao.orgs.models import Role, User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]
PASSWORD = "Shenbao#2026"


@pytest.fixture
def clerk(make_org, make_user):
    return make_user("rl_clerk", make_org("柳州市登录学会", "city_society"), roles=(Role.APPLICANT_CLERK,),
                     password=PASSWORD)


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def attempt(username: str, *, minutes_ago: int, failures: int = 1, ip: str = "10.1.1.1",
            user_agent: str = "ua") -> AccessAttempt:
    row = AccessAttempt.objects.create(username=username, ip_address=ip, user_agent=user_agent, get_data="",
                                       post_data="", http_accept="", path_info="/accounts/login/",
                                       failures_since_start=failures)
    AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return row


def test_a_login_clears_its_own_and_expired_attempts_in_one_statement(clerk, client):
    assert login(client, "rl_clerk", "wrong").status_code == 200
    own_old = attempt("rl_clerk", minutes_ago=5, ip="10.9.9.9")
    expired = attempt("somebody", minutes_ago=31)
    recent = attempt("somebody_else", minutes_ago=3, failures=2)
    with CaptureQueriesContext(connection) as ctx:
        r = login(client, "rl_clerk", PASSWORD, HTTP_USER_AGENT="Firefox/140 登录")
    assert r.status_code == 302
    deletes = [q["sql"] for q in ctx.captured_queries if "axes_accessattempt" in q["sql"] and "DELETE" in q["sql"]]
    assert len(deletes) == 1 and not any('FROM "axes_accessattempt"' in q["sql"] and q["sql"].startswith("SELECT \"axes")
                                         for q in ctx.captured_queries)
    # AXES_RESET_ON_SUCCESS: the user's failures go (from every address), and the expired ones of anybody
    assert not AccessAttempt.objects.filter(username="rl_clerk").exists()
    assert not AccessAttempt.objects.filter(pk__in=[own_old.pk, expired.pk]).exists()
    assert AccessAttempt.objects.filter(pk=recent.pk).exists()
    # no access log of axes': the audit log has the login, where from and with what
    assert not AccessLog.objects.exists()
    event = AuditEvent.objects.filter(action="account.login", actor_name="rl_clerk").get()
    assert event.ip == "127.0.0.1" and event.user_agent == "Firefox/140 登录"


def test_failures_after_a_login_count_from_zero_and_lock_at_five(clerk, client):
    for _ in range(4):
        login(client, "rl_clerk", "wrong")
    assert login(client, "rl_clerk", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, "rl_clerk", "wrong").status_code == 200  # reset at the login: 4, not 8
    assert login(client, "rl_clerk", "wrong").status_code == 403  # the 5th since locks
    assert login(client, "rl_clerk", PASSWORD).status_code == 403


def test_an_expired_attempt_is_not_counted_again(clerk, client):
    # a failure's clean-up (one DELETE) still runs before axes counts: 4 old failures and 1 new are not 5
    attempt("rl_clerk", minutes_ago=31, failures=4, ip="127.0.0.1", user_agent="<unknown>")  # the test client's
    assert login(client, "rl_clerk", "wrong").status_code == 200
    assert AccessAttempt.objects.get(username="rl_clerk").failures_since_start == 1
    assert settings.AXES_FAILURE_LIMIT == 5


def test_the_login_reads_whether_the_account_needs_its_second_factor(clerk, make_user):
    # R-S60 administrators log in with their second factor: the login reads it with the account
    admin = make_user("rl_admin", roles=(Role.SECURITY_ADMIN,), password=PASSWORD)
    read = User.objects.get_by_natural_key("rl_admin")
    assert read.holds_admin_role is True and otp.needs_second_factor(read)
    read = User.objects.get_by_natural_key("rl_clerk")
    assert read.holds_admin_role is False and not otp.needs_second_factor(read)
    # an account read otherwise is asked
    assert otp.needs_second_factor(User.objects.get(pk=admin.pk)) and not otp.needs_second_factor(clerk)


def test_an_administrator_still_goes_to_the_second_factor(client, make_user):
    make_user("rl_admin2", roles=(Role.AUDIT_ADMIN,), password=PASSWORD)
    r = login(client, "rl_admin2", PASSWORD)
    assert r.status_code == 302 and r.url == "/accounts/login/verify/" and "_auth_user_id" not in client.session


def test_a_login_stores_the_session_under_a_new_key(client, clerk):
    # against session fixation: a cookie naming no stored session, or an anonymous session stored before the
    # login, never becomes the logged-in session's key; what the anonymous session held is kept
    from django.contrib.sessions.models import Session

    from shenbao.core.sessions import SessionStore

    name = settings.SESSION_COOKIE_NAME
    client.cookies[name] = "planted0planted0planted0planted0"
    assert login(client, "rl_clerk", PASSWORD).status_code == 302
    key = client.cookies[name].value
    assert key != "planted0planted0planted0planted0" and not Session.objects.filter(session_key__startswith="planted")
    assert SessionStore(key).get("_auth_user_id") == str(clerk.pk)
    client.logout()
    before = SessionStore()
    before["kept"] = "是"
    before.create()
    client.cookies[name] = before.session_key
    assert login(client, "rl_clerk", PASSWORD).status_code == 302
    key = client.cookies[name].value
    assert key != before.session_key and not Session.objects.filter(session_key=before.session_key).exists()
    after = SessionStore(key)
    assert after.get("_auth_user_id") == str(clerk.pk) and after.get("kept") == "是"
