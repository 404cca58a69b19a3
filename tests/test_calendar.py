"""The working-day calendar (core/calendar.py): the official holidays of the years chinese-calendar knows,
the Holiday table for later years and corrections, and a refusal for a year neither knows."""

from __future__ import annotations

import datetime as dt

import pytest

from shenbao.core import calendar
from shenbao.core.models import AuditEvent, Holiday
from shenbao.orgs.models import Role

D = dt.date


def test_the_facts_the_expectations_rest_on():
    # Independent of chinese-calendar: the weekdays of the days in question (the Gregorian calendar).
    assert D(2025, 9, 28).weekday() == 6 and D(2025, 10, 11).weekday() == 5   # Sun, Sat: worked in 2025
    assert D(2026, 9, 20).weekday() == 6 and D(2026, 10, 10).weekday() == 5   # Sun, Sat: worked in 2026
    assert D(2025, 9, 29).weekday() == 0 and D(2026, 9, 30).weekday() == 2    # Mon, Wed


@pytest.mark.django_db
def test_national_day_2025():
    # 国务院办公厅关于2025年部分节假日安排的通知：国庆节、中秋节 10月1日至8日放假调休，
    # 共8天；9月28日（周日）、10月11日（周六）上班.
    for day in range(1, 9):
        assert not calendar.is_workday(D(2025, 10, day))
    assert calendar.is_workday(D(2025, 9, 28)) and calendar.is_workday(D(2025, 10, 11))
    assert not calendar.is_workday(D(2025, 10, 12))  # an ordinary Sunday
    # 5 working days from Mon 29 Sep: 29, 30 Sep, (1–8 Oct off), 9, 10, 11 (Sat, worked) Oct → ends 11 Oct
    assert calendar.end_of_period(D(2025, 9, 29), 5, working=True) == D(2025, 10, 11)
    # 5 calendar days from the same day: 29, 30 Sep, 1, 2, 3 Oct
    assert calendar.end_of_period(D(2025, 9, 29), 5, working=False) == D(2025, 10, 3)
    # the first working day after 30 Sep is 9 Oct; a period starting on a holiday starts on 9 Oct
    assert calendar.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert calendar.end_of_period(D(2025, 10, 1), 1) == D(2025, 10, 9)
    assert calendar.add_working_days(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert calendar.working_days_between(D(2025, 9, 29), D(2025, 10, 11)) == 5


@pytest.mark.django_db
def test_national_day_2026():
    # 国务院办公厅关于2026年部分节假日安排的通知：中秋节 9月25日至27日放假；国庆节 10月1日至7日放假调休，共7天；
    # 9月20日（周日）、10月10日（周六）上班.
    assert [calendar.is_workday(D(2026, 10, d)) for d in range(1, 13)] == [
        False, False, False, False, False, False, False, True, True, True, False, True]
    assert calendar.is_workday(D(2026, 9, 20)) and not calendar.is_workday(D(2026, 9, 25))
    # 5 working days from Wed 30 Sep: 30 Sep, (1–7 Oct off), 8, 9, 10 (Sat, worked), (11 Sun), 12 Oct → 12 Oct
    assert calendar.end_of_period(D(2026, 9, 30), 5) == D(2026, 10, 12)
    # 10 working days from Fri 18 Sep: 18, (19 Sat), 20 (Sun, worked), 21, 22, 23, 24, (25–27 中秋), 28, 29, 30,
    # (1–7 Oct) 8 Oct → the ninth is 30 Sep, the tenth 8 Oct
    assert calendar.end_of_period(D(2026, 9, 18), 9) == D(2026, 9, 30)
    assert calendar.end_of_period(D(2026, 9, 18), 10) == D(2026, 10, 8)


@pytest.mark.django_db
def test_a_year_nobody_knows_is_refused_with_the_reason():
    _first, last = calendar.library_years()
    # a period that crosses from the last known year into the next one
    with pytest.raises(calendar.UnknownYear) as e:
        calendar.end_of_period(D(last, 12, 24), 10)
    assert e.value.year == last + 1
    assert f"{last + 1}年的法定节假日安排尚未录入" in str(e.value) and "系统管理员" in str(e.value)
    # calendar days need no holidays
    assert calendar.end_of_period(D(last, 12, 24), 10, working=False) == D(last + 1, 1, 2)
    with pytest.raises(calendar.UnknownYear):
        calendar.is_workday(D(2099, 1, 5))


@pytest.mark.django_db
def test_the_holiday_table_makes_a_later_year_known():
    # 2099 (no package knows it): 1 January (Thu) and 2 January (Fri) off, Saturday 3 January worked
    with pytest.raises(calendar.UnknownYear):
        calendar.end_of_period(D(2099, 1, 1), 3)
    days, errors = calendar.parse_days("2099-01-01 放假 元旦\n2099-01-02 放假 元旦\n2099年1月3日 上班 元旦调休\n")
    assert errors == []
    assert calendar.set_days(actor=None, days=days) == 3
    assert 2099 in calendar.known_years()
    # 1, 2 Jan off; 3 (Sat, worked), (4 Sun), 5 Mon, 6 Tue → the third working day is 6 Jan
    assert calendar.end_of_period(D(2099, 1, 1), 3) == D(2099, 1, 6)
    assert calendar.is_workday(D(2099, 1, 3)) and not calendar.is_workday(D(2099, 1, 10))  # a Saturday
    assert AuditEvent.objects.filter(action="calendar.set_day").count() == 3
    # the same lines again change nothing
    assert calendar.set_days(actor=None, days=days) == 0


@pytest.mark.django_db
def test_a_table_row_corrects_a_known_year():
    assert calendar.is_workday(D(2026, 10, 9))
    calendar.set_days(actor=None, days=[calendar.Day(D(2026, 10, 9), False, "更正")])
    assert not calendar.is_workday(D(2026, 10, 9))
    assert calendar.end_of_period(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert calendar.remove_day(actor=None, date=D(2026, 10, 9))
    assert calendar.is_workday(D(2026, 10, 9))


def test_bad_lines_are_named():
    days, errors = calendar.parse_days("2099-02-30 放假 x\n明天放假\n\n2099-03-01 上班")
    assert [d.date for d in days] == [D(2099, 3, 1)] and days[0].is_workday
    assert errors[0].startswith("第1行") and "不存在" in errors[0]
    assert errors[1].startswith("第2行")


@pytest.mark.django_db
def test_the_system_administrator_enters_holidays_on_a_page(client, make_user):
    admin = make_user("sysadmin", roles=(Role.SYSTEM_ADMIN,))
    clerk = make_user("someone")
    client.force_login(clerk)
    assert client.get("/accounts/system/holidays/").status_code == 403
    assert client.post("/accounts/system/holidays/", {"days": "2099-01-01 放假 元旦"}).status_code == 403
    assert not Holiday.objects.exists()
    client.force_login(admin)
    r = client.post("/accounts/system/holidays/", {"days": "2099-01-01 放假 元旦\n2099-13-01 放假"})
    assert r.status_code == 400 and "第2行" in r.content.decode()
    assert not Holiday.objects.exists()  # nothing stored with a bad line
    r = client.post("/accounts/system/holidays/", {"days": "2099-01-01 放假 元旦\n2099-01-03 上班 元旦调休"})
    assert r.status_code == 302
    assert list(Holiday.objects.values_list("date", "is_workday")) == [(D(2099, 1, 1), False), (D(2099, 1, 3), True)]
    assert AuditEvent.objects.filter(action="calendar.set_day", actor=admin).count() == 2
    page = client.get("/accounts/system/holidays/").content.decode()
    assert "元旦调休" in page and "2099" in page
    assert "/accounts/system/holidays/" in client.get("/accounts/system/").content.decode()
    r = client.post("/accounts/system/holidays/", {"action": "remove", "date": "2099-01-03"})
    assert r.status_code == 302 and not Holiday.objects.filter(date=D(2099, 1, 3)).exists()
    assert AuditEvent.objects.filter(action="calendar.remove_day", actor=admin).exists()
