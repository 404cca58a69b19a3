"""Login, lockout after 5 failures, 30-minute idle sessions, first-login password change, audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone

from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role, User

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
PASSWORD = "Shenbao#2026"
PROJECT_HASHERS = list(settings.PASSWORD_HASHERS)  # as configured, before any test overrides it


@pytest.fixture
def clerk(make_org, make_user):
    org = make_org("柳州市机械工程学会", "city_society")
    return make_user("clerk", org, roles=(Role.APPLICANT_CLERK,), password=PASSWORD)


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def actions(username):
    return list(AuditEvent.objects.filter(actor_name=username).order_by("id").values_list("action", flat=True))


# --- passwords -------------------------------------------------------------------------------------------


def test_passwords_are_argon2_and_follow_the_rules(clerk, settings, make_user):
    settings.PASSWORD_HASHERS = PROJECT_HASHERS
    user = make_user("hashed", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$") and user.check_password(PASSWORD)
    # R-S95: OWASP's minimum Argon2id configuration: 19 MiB, 2 iterations, 1 lane (orgs/hashers.py says why)
    assert "$m=19456,t=2,p=1$" in user.password


def test_a_password_hashed_with_djangos_argon2_defaults_still_logs_in_and_is_rehashed(clerk, settings, client):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    settings.PASSWORD_HASHERS = PROJECT_HASHERS  # R-S95
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    User.objects.filter(pk=clerk.pk).update(password=old)
    assert "$m=102400,t=2,p=8$" in old
    login(client, "clerk", PASSWORD)
    assert logged_in(client)
    assert "$m=19456,t=2,p=1$" in User.objects.get(pk=clerk.pk).password
    for weak, why in [("Ab1#xyz", "至少需要8个字符"), ("abcdefgh1", "至少3类"), ("ABCDEFGH", "至少3类")]:
        with pytest.raises(ValidationError) as exc:
            validate_password(weak, clerk)
        assert any(why in m for m in exc.value.messages), exc.value.messages
    validate_password("Kxq7mnzR", clerk)  # 8 characters, 3 classes
    validate_password("kxq7mn#z", clerk)  # lower, digit, symbol


def test_first_login_must_change_password(make_user, client):
    user = make_user("newbie", password=PASSWORD, must_change_password=True)
    r = login(client, "newbie", PASSWORD)
    assert r.status_code == 302
    assert client.get("/accounts/home/").url == "/accounts/password/"  # every page leads to the change page
    page = client.get("/accounts/password/").content.decode()
    assert "首次登录" in page and "原密码" in page
    r = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "abcdefgh",
                                            "new_password2": "abcdefgh"})
    assert "至少3类" in r.content.decode()
    r = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": PASSWORD,
                                            "new_password2": PASSWORD})
    assert "新密码不能与原密码相同" in r.content.decode()
    r = client.post("/accounts/password/", {"old_password": "wrong", "new_password1": "New#pass2026",
                                            "new_password2": "New#pass2026"})
    assert "原密码不正确" in r.content.decode()
    r = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "New#pass2026",
                                            "new_password2": "New#pass2026"})
    assert r.status_code == 302 and r.url == "/accounts/home/"
    user.refresh_from_db()
    assert not user.must_change_password and user.password_changed_at is not None
    assert user.check_password("New#pass2026")
    assert client.get("/accounts/home/").status_code == 200  # still logged in, free to go on
    ev = AuditEvent.objects.get(action="account.password_change", actor=user)
    assert "首次登录" in ev.note


# --- audit of logins ---------------------------------------------------------------------------------------


def test_login_failure_and_logout_are_audited(clerk, client):
    r = login(client, "clerk", "wrong-password", REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    assert "还可尝试 4 次" in r.content.decode()
    login(client, "nobody", "whatever")
    assert login(client, "clerk", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert actions("clerk") == ["account.login_failed", "account.login", "account.logout"]
    failed = AuditEvent.objects.get(action="account.login_failed", actor_name="clerk")
    assert failed.ip == "10.1.2.3" and failed.object_id == str(clerk.pk) and failed.actor is None
    assert AuditEvent.objects.filter(action="account.login_failed", actor_name="nobody").exists()


# --- lockout -----------------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_thirty_minutes(clerk, client):
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=30)
    for _ in range(4):
        assert login(client, "clerk", "wrong").status_code == 200
    r = login(client, "clerk", "wrong")  # the 5th failure locks
    assert r.status_code == 403
    page = r.content.decode()
    assert "账户已锁定" in page and "30 分钟" in page and "解锁时间" in page
    # the 6th attempt is refused even with the right password, from another address too
    r = login(client, "clerk", PASSWORD, REMOTE_ADDR="192.168.9.9")
    assert r.status_code == 403 and "账户已锁定" in r.content.decode()
    assert not logged_in(client)
    # every failure, the lock and the refused attempt are audit events (axes reports the lock first)
    assert actions("clerk") == ["account.login_failed"] * 4 + [
        "account.locked", "account.login_failed", "account.login_refused_locked", "account.login_failed"]
    notes = list(AuditEvent.objects.filter(action="account.login_failed").order_by("id").values_list("note", flat=True))
    assert notes == ["用户名或密码不正确"] * 5 + ["账户已锁定，登录被拒绝"]
    # 29 minutes later: still locked (attempts during the lock do not extend it)
    AccessAttempt.objects.filter(username="clerk").update(
        attempt_time=timezone.now() - dt.timedelta(minutes=29))
    assert login(client, "clerk", PASSWORD).status_code == 403
    # 30 minutes after the lock: the right password works again
    AccessAttempt.objects.filter(username="clerk").update(
        attempt_time=timezone.now() - dt.timedelta(minutes=30, seconds=5))
    r = login(client, "clerk", PASSWORD)
    assert r.status_code == 302 and logged_in(client)


def test_lock_counts_per_account_not_per_address(clerk, client):
    for i in range(5):
        login(client, "clerk", "wrong", REMOTE_ADDR=f"10.0.0.{i + 1}")
    assert login(client, "clerk", PASSWORD, REMOTE_ADDR="10.0.0.99").status_code == 403
    assert AuditEvent.objects.filter(action="account.locked", actor_name="clerk").count() == 1


# --- idle sessions ---------------------------------------------------------------------------------------------


def _session():
    return Session.objects.get(session_key=Session.objects.latest("expire_date").session_key)


def test_thirty_minutes_idle_ends_the_session(clerk, client):
    assert settings.SESSION_COOKIE_AGE == 30 * 60  # R-S96
    login(client, "clerk", PASSWORD)
    assert client.get("/accounts/home/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    left = session.expire_date - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)
    # 29 minutes idle: still in, and the request renews the 30 minutes
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + dt.timedelta(minutes=1))
    assert client.get("/accounts/home/").status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date - timezone.now()
    assert renewed > dt.timedelta(minutes=29)
    # 30 minutes idle: the session is over and the next page asks for a login
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    r = client.get("/accounts/home/")
    assert r.status_code == 302 and r.url.startswith("/accounts/login/")


def test_a_busy_minute_writes_the_session_once_and_an_old_renewal_is_written_again(clerk, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, "clerk", PASSWORD)  # R-S96
    client.get("/accounts/home/")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            assert client.get("/accounts/home/").status_code == 200
    writes = [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert writes == []  # renewed at log-in, less than a minute ago
    # the renewal is two minutes old: this request writes it again, 30 minutes from now
    session = Session.objects.get(session_key=client.session.session_key)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + dt.timedelta(minutes=28))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/accounts/home/").status_code == 200
    assert [q for q in ctx.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
    assert Session.objects.get(pk=session.pk).expire_date - timezone.now() > dt.timedelta(minutes=29)


def test_with_redis_a_busy_minute_neither_reads_nor_writes_the_session_table(clerk, client, settings):
    # R-S96 with SHENBAO_REDIS_URL: the cached copy carries its expiry (core/sessions_cached.py)
    import socket

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/4"}}
    settings.SESSION_ENGINE = "shenbao.core.sessions_cached"
    login(client, "clerk", PASSWORD)
    client.get("/accounts/home/")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            assert client.get("/accounts/home/").status_code == 200
    assert not [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"]]
    # the renewal is two minutes old (as the cached copy says): this request writes it again, through to the table
    from shenbao.core.sessions_cached import EXPIRES, SessionStore

    store = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    data = store._cache.get(store.cache_key)
    data[EXPIRES] = (timezone.now() + dt.timedelta(minutes=28)).timestamp()
    store._cache.set(store.cache_key, data, 600)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/accounts/home/").status_code == 200
    assert [q for q in ctx.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
    row = Session.objects.get(session_key=store.session_key)
    assert row.expire_date - timezone.now() > dt.timedelta(minutes=29)
    assert store._cache.get(store.cache_key)[EXPIRES] == pytest.approx(row.expire_date.timestamp())
    store._cache.delete(store.cache_key)


def test_inactive_account_cannot_log_in(clerk, client):
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    r = login(client, "clerk", PASSWORD)
    assert r.status_code == 200 and not logged_in(client)


# --- password rules: likeness to the user name, history, 90 days for administrators ----------------------


def test_password_like_the_user_name_is_refused(clerk):  # R-S53
    for similar in ("Clerk#2026", "clerk2026#A"):
        with pytest.raises(ValidationError) as exc:
            validate_password(similar, clerk)
        assert any("相似" in m for m in exc.value.messages), exc.value.messages
    validate_password("Kxq7mn#zR", clerk)


def test_last_five_passwords_cannot_be_chosen_again(clerk, client):  # R-S54
    from shenbao.orgs import services
    from shenbao.orgs.models import PasswordHistory

    chosen = [f"Rotate#{n}x{n}Q" for n in range(1, 7)]
    for pw in chosen:
        services.change_password(user=clerk, new_password=pw)
    assert PasswordHistory.objects.filter(user=clerk).count() == 5  # only the hashes of the last five
    assert all(h.startswith("md5$") for h in PasswordHistory.objects.values_list("password", flat=True))
    for old in chosen[1:]:  # the current one and the four before it
        with pytest.raises(ValidationError) as exc:
            validate_password(old, clerk)
        assert any("最近5次" in m for m in exc.value.messages)
    validate_password(chosen[0], clerk)  # the sixth-last may come back
    # the page says so too
    login(client, "clerk", chosen[-1])
    r = client.post("/accounts/password/", {"old_password": chosen[-1], "new_password1": chosen[-3],
                                            "new_password2": chosen[-3]})
    assert "最近5次" in r.content.decode()


def test_administrators_change_their_password_every_ninety_days(make_user, client):  # R-S55
    admin = make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,), password=PASSWORD,
                      password_changed_at=timezone.now() - dt.timedelta(days=91))
    clerk = make_user("old_clerk", password=PASSWORD, password_changed_at=timezone.now() - dt.timedelta(days=400))
    client.force_login(clerk)
    assert client.get("/accounts/home/").status_code == 200  # business accounts: no expiry
    client.force_login(admin)
    r = client.get("/accounts/home/")
    assert r.status_code == 302 and r.url == "/accounts/password/"
    assert "90" in client.get("/accounts/password/").content.decode()
    r = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Brand#new2027",
                                            "new_password2": "Brand#new2027"})
    assert r.status_code == 302
    assert client.get("/accounts/home/").status_code == 200
    User.objects.filter(pk=admin.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=89))
    assert client.get("/accounts/home/").status_code == 200
