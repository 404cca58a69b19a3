"""The working-day calendar (工作日) of the Chinese official calendar: weekends, public holidays and the
working days in lieu (调休上班) the State Council announces each year.

    from shenbao.core import calendar
    calendar.is_workday(d)                              # bool
    calendar.add_working_days(start, n)                 # the n-th working day after `start`
    calendar.end_of_period(start, days, working=True)   # the last day of a period that begins on `start`

Two sources: the chinese-calendar package for the years it knows, and the `Holiday` table the system
administrator fills (the page 系统管理 › 节假日安排) for later years, or to correct a day. A row of the table wins
over the package; a year the package does not know is known once the table has a row in it (the other days
of that year follow the week: Monday to Friday work). A computation that reaches a year neither knows is
refused with `UnknownYear` (its message says which year and what to do): the platform never guesses a
holiday. Used by the 公示 period (review/notice.py) and acceptance deadlines.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import chinese_calendar
from django.db import transaction
from django.utils.translation import gettext as _

from shenbao.core import audit
from shenbao.core.models import Holiday

MAX_DAYS = 3660  # no period is longer than ten years


class UnknownYear(ValueError):
    """The computation reaches a year whose official holidays are not known."""

    def __init__(self, year: int):
        self.year = year
        first, last = library_years()
        self.message = _("%(year)s年的法定节假日安排尚未录入（chinese-calendar 只收录 %(first)s–%(last)s 年），"
                         "无法按工作日计算：请系统管理员在“节假日安排”中录入%(year)s年的安排后再试。") % {
            "year": year, "first": first, "last": last}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@functools.cache
def library_years() -> tuple[int, int]:
    """The first and last year the chinese-calendar package knows."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


class Calendar:
    """One computation's view of the calendar: the table's rows read once per year met."""

    def __init__(self):
        self._rows: dict[int, dict[dt.date, bool]] = {}

    def _year(self, year: int) -> dict[dt.date, bool]:
        if year not in self._rows:
            self._rows[year] = dict(Holiday.objects.filter(date__year=year).values_list("date", "is_workday"))
        return self._rows[year]

    def knows(self, year: int) -> bool:
        first, last = library_years()
        return first <= year <= last or bool(self._year(year))

    def is_workday(self, d: dt.date) -> bool:
        rows = self._year(d.year)
        if d in rows:
            return rows[d]
        first, last = library_years()
        if first <= d.year <= last:
            return chinese_calendar.is_workday(d)
        if rows:
            return d.weekday() < 5
        raise UnknownYear(d.year)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        if n < 0 or n > MAX_DAYS:
            raise ValueError(_("工作日数须在 0 到 %(max)s 之间") % {"max": MAX_DAYS})
        d = start
        while n:
            d += dt.timedelta(days=1)
            if self.is_workday(d):
                n -= 1
        return d

    def end_of_period(self, start: dt.date, days: int, working: bool = True) -> dt.date:
        if days < 1 or days > MAX_DAYS:
            raise ValueError(_("期限天数须在 1 到 %(max)s 之间") % {"max": MAX_DAYS})
        if not working:
            end = start + dt.timedelta(days=days - 1)
            return end
        return self.add_working_days(start - dt.timedelta(days=1), days)


def is_workday(d: dt.date) -> bool:
    """A working day (Monday to Friday unless a holiday; a weekend day in lieu works)."""
    return Calendar().is_workday(d)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The `n`-th working day after `start` (`start` itself not counted; n = 0 gives `start`): a deadline
    "N working days after" a date."""
    return Calendar().add_working_days(start, n)


def end_of_period(start: dt.date, days: int, working: bool = True) -> dt.date:
    """The last day (included) of a period of `days` days that begins on `start`: calendar days (start is
    day 1), or working days (day 1 is the first working day on or after `start`)."""
    return Calendar().end_of_period(start, days, working)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days from `start` to `end`, both included."""
    cal = Calendar()
    return sum(1 for i in range((end - start).days + 1) if cal.is_workday(start + dt.timedelta(days=i)))


def known_years() -> list[int]:
    """The years the platform can compute working days in: the package's and those of the table."""
    first, last = library_years()
    table = {d.year for d in Holiday.objects.dates("date", "year")}
    return sorted(set(range(first, last + 1)) | table)


# --- the system administrator's changes ------------------------------------------------------------------

@dataclass(frozen=True)
class Day:
    date: dt.date
    is_workday: bool
    name: str = ""


LINE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*(放假|休|上班|班)\s*(.*?)\s*$")


def parse_days(text: str) -> tuple[list[Day], list[str]]:
    """Lines `2027-10-01 放假 国庆节` / `2027-09-26 上班 国庆节调休`: the days, and an error per bad line
    (line number and problem)."""
    days: list[Day] = []
    errors: list[str] = []
    for i, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        m = LINE.match(line)
        if not m:
            errors.append(_("第%(n)s行：格式应为“2027-10-01 放假 国庆节”或“2027-09-26 上班 国庆节调休”") % {"n": i})
            continue
        try:
            d = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            errors.append(_("第%(n)s行：日期不存在") % {"n": i})
            continue
        name = m[5][:50]
        days.append(Day(d, m[4] in ("上班", "班"), name))
    return days, errors


@transaction.atomic
def set_days(*, actor, days: list[Day]) -> int:
    """Enter or correct days of the table (audited each); returns how many changed."""
    changed = 0
    for day in days:
        row = Holiday.objects.select_for_update().filter(date=day.date).first()
        before = {"is_workday": row.is_workday, "name": row.name} if row else None
        after = {"date": day.date, "is_workday": day.is_workday, "name": day.name}
        if row is not None and (row.is_workday, row.name) == (day.is_workday, day.name):
            continue
        if row is None:
            row = Holiday.objects.create(date=day.date, is_workday=day.is_workday, name=day.name,
                                         created_by=actor if getattr(actor, "is_authenticated", False) else None)
        else:
            row.is_workday, row.name = day.is_workday, day.name
            row.save(update_fields=["is_workday", "name"])
        audit.record(actor=actor, action="calendar.set_day", obj=row, before=before, after=after)
        changed += 1
    return changed


@transaction.atomic
def remove_day(*, actor, date: dt.date) -> bool:
    """Take a day out of the table (audited): the package or the week decide it again."""
    row = Holiday.objects.select_for_update().filter(date=date).first()
    if row is None:
        return False
    audit.record(actor=actor, action="calendar.remove_day", obj=row,
                 before={"date": row.date, "is_workday": row.is_workday, "name": row.name})
    row.delete()
    return True
