"""Reports for the funder (issue 9 item 10): per call, the projects by status and by type, money awarded /
paid / recovered, events held and their participants, acceptance results and volunteer service — read from
the rows of every sub-stage after the award — drawn as bar charts in server-rendered SVG (no script, no CDN)
and written as the same figures to XLSX.

A sub-stage whose model is not installed yet (the money ledger of projects/contracts.py, the acceptance of
projects/acceptance.py) gives its figure as None, shown "—" with a note saying why.

    calls_for(user) -> [Call]          the calls whose reports the user may read (its funder's)
    call_report(call) -> Report        the figures
    bar_chart(title, bars, unit) -> str  an SVG document (bars: [(label, value)])
    report_xlsx(report) -> bytes
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from shenbao.calls.models import Call
from shenbao.projects import permissions
from shenbao.projects.models import Event, Project, SignIn, Volunteer, VolunteerSignup, VolunteerTeam

DASH = "—"


def _model(name: str):
    """A model of the projects app, or None while its sub-stage has not landed."""
    try:
        return apps.get_model("projects", name)
    except LookupError:
        return None


@dataclass
class Figure:
    key: str
    label: str
    value: int | Decimal | None  # None: not available (see note)
    unit: str = ""
    note: str = ""

    @property
    def shown(self) -> str:
        if self.value is None:
            return DASH
        if isinstance(self.value, Decimal):
            return f"{self.value.normalize():f}"
        return f"{self.value:,}" if self.unit == "元" else str(self.value)


@dataclass
class ProjectRow:
    project: Project
    awarded: int
    paid: int | None
    recovered: int | None
    events: int
    participants: int
    acceptance: str | None  # the acceptance status label, "" when none yet, None when not available


@dataclass
class Report:
    call: Call
    today: dt.date
    figures: list[Figure]
    by_status: list[tuple[str, str, int]]  # (status, label, count)
    by_type: list[tuple[str, int, int]]  # (type label, projects, awarded)
    acceptance: list[tuple[str, str, int]] | None  # (status, label, count); None: not available
    acceptance_note: str
    rows: list[ProjectRow] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def calls_for(user):
    """The calls of the funders where the user is staff, leader or finance, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Call.objects.none()
    orgs = user.roles.filter(role__in=permissions.FUNDER_ROLES).values_list("organisation_id", flat=True)
    return (Call.objects.filter(issuer_id__in=list(orgs)).select_related("issuer")
            .annotate(n_projects=Count("projects")).order_by("-year", "-id"))


def call_report(call: Call, today: dt.date | None = None) -> Report:
    today = today or timezone.localdate()
    projects = list(Project.objects.filter(call=call).select_related("applicant", "project_type", "track")
                    .order_by("project_type__code", "id"))
    ids = [p.pk for p in projects]

    counts = dict(Project.objects.filter(call=call).values_list("status").annotate(n=Count("id")))
    by_status = [(value, label, counts.get(value, 0)) for value, label in Project.Status.choices]

    types: dict[str, list[int]] = {}
    for p in projects:
        key = f"{p.project_type.code} {p.project_type.name}" if p.project_type else _("（未分类）")
        t = types.setdefault(key, [0, 0])
        t[0] += 1
        t[1] += p.amount or 0
    by_type = [(k, v[0], v[1]) for k, v in types.items()]
    awarded = sum(p.amount or 0 for p in projects)

    # money: the ledger of projects/contracts.py (Payment: kind payment / recovery)
    Payment = _model("Payment")
    money_note = "" if Payment else _("经费拨付模块尚未启用，暂无拨付和追回数据")
    paid_by: dict[int, int] = {}
    recovered_by: dict[int, int] = {}
    if Payment is not None:
        for row in (Payment.objects.filter(project_id__in=ids).values("project_id", "kind")
                    .annotate(total=Sum("amount"))):
            target = recovered_by if row["kind"] == "recovery" else paid_by
            target[row["project_id"]] = target.get(row["project_id"], 0) + (row["total"] or 0)
    paid = sum(paid_by.values()) if Payment else None
    recovered = sum(recovered_by.values()) if Payment else None

    # events held (registered, started by today) and their participants (sign-ins)
    held = Event.objects.filter(project_id__in=ids, status=Event.Status.REGISTERED, starts_on__lte=today)
    planned = Event.objects.filter(project_id__in=ids, status=Event.Status.REGISTERED, starts_on__gt=today).count()
    events_by = dict(held.values_list("project").annotate(n=Count("id")))
    participants_by = dict(SignIn.objects.filter(event__in=held).values_list("event__project")
                           .annotate(n=Count("id")))

    # acceptance results (projects/acceptance.py: one Acceptance per project)
    Acceptance = _model("Acceptance")
    acceptance_by: dict[int, str] = {}
    acceptance: list[tuple[str, str, int]] | None = None
    acceptance_note = "" if Acceptance else _("项目验收模块尚未启用，暂无验收结果")
    if Acceptance is not None:
        rows = list(Acceptance.objects.filter(project_id__in=ids))
        acceptance_by = {a.project_id: a.get_status_display() for a in rows}
        tally = {}
        for a in rows:
            tally[a.status] = tally.get(a.status, 0) + 1
        acceptance = [(value, label, tally.get(value, 0)) for value, label in Acceptance.Status.choices]
        acceptance.append(("none", _("尚未填报"), len(ids) - len(rows)))

    # volunteer service (projects/volunteers.py) on the call's projects
    teams = VolunteerTeam.objects.filter(project_id__in=ids)
    n_volunteers = Volunteer.objects.filter(team__in=teams, status=Volunteer.Status.APPROVED).count()
    hours = (VolunteerSignup.objects.filter(activity__team__in=teams, status=VolunteerSignup.Status.APPROVED)
             .aggregate(h=Sum("hours"))["h"]) or Decimal("0")

    figures = [
        Figure("projects", _("立项项目"), len(projects), _("项")),
        Figure("awarded", _("资助金额"), awarded, "元"),
        Figure("paid", _("已拨付"), paid, "元", money_note),
        Figure("recovered", _("已追回"), recovered, "元", money_note),
        Figure("events_held", _("已举办活动"), sum(events_by.values()), _("场")),
        Figure("events_planned", _("已登记待举办活动"), planned, _("场")),
        Figure("participants", _("活动签到人数"), sum(participants_by.values()), _("人次")),
        Figure("accepted", _("验收通过"), (next((n for s, _l, n in acceptance if s == "passed"), 0)
                                          if acceptance is not None else None), _("项"), acceptance_note),
        Figure("volunteer_teams", _("志愿者服务队伍"), teams.count(), _("支")),
        Figure("volunteers", _("在册志愿者"), n_volunteers, _("人")),
        Figure("volunteer_hours", _("志愿服务时长"), hours, _("小时")),
    ]
    rows = [ProjectRow(p, p.amount or 0,
                       paid_by.get(p.pk, 0) if Payment else None, recovered_by.get(p.pk, 0) if Payment else None,
                       events_by.get(p.pk, 0), participants_by.get(p.pk, 0),
                       acceptance_by.get(p.pk, "") if Acceptance else None) for p in projects]
    return Report(call=call, today=today, figures=figures, by_status=by_status, by_type=by_type,
                  acceptance=acceptance, acceptance_note=acceptance_note, rows=rows)


# --- charts ----------------------------------------------------------------------------------------------

_PALETTE = ["#2f6fb3", "#3d9a6d", "#c98a1b", "#b5483c", "#7a5ba8", "#4a8f9c", "#8a8a8a"]


def bar_chart(title: str, bars: list[tuple[str, int | float | Decimal | None]], unit: str = "",
              width: int = 560) -> str:
    """A horizontal bar chart as an SVG document: one row per (label, value), the value written at the end of
    its bar; None is drawn as "—" with no bar. Labels and values are escaped."""
    row, top, label_w, value_w = 30, 34, 170, 90
    plot_w = width - label_w - value_w
    numbers = [float(v) for _l, v in bars if v is not None]
    peak = max(numbers, default=0) or 1
    height = top + row * max(len(bars), 1) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="18" font-size="15" font-weight="600" fill="#222">{escape(title)}</text>']
    if not bars:
        parts.append(f'<text x="0" y="{top + 18}" font-size="13" fill="#666">{escape(_("暂无数据"))}</text>')
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" font-size="13" text-anchor="end" fill="#333">'
                     f"{escape(label)}</text>")
        if value is None:
            shown = DASH
            end = label_w
        else:
            w = round(plot_w * float(value) / peak, 1)
            end = label_w + w
            shown = f"{value:,}" if isinstance(value, int) else f"{Decimal(str(value)).normalize():f}"
            parts.append(f'<rect class="bar" x="{label_w}" y="{y + 5}" width="{w}" height="{row - 10}" '
                         f'fill="{_PALETTE[i % len(_PALETTE)]}" data-value="{escape(str(value))}"/>')
        parts.append(f'<text x="{end + 6}" y="{y + 19}" font-size="13" fill="#222">{escape(shown)}'
                     f"{escape(unit) if value is not None else ''}</text>")
    parts.append("</svg>")
    return "".join(parts)


def charts(report: Report) -> dict[str, str]:
    """The dashboard's charts, by name."""
    money = [(_("资助金额"), report.figure("awarded").value), (_("已拨付"), report.figure("paid").value),
             (_("已追回"), report.figure("recovered").value)]
    out = {
        "status": bar_chart(_("项目状态"), [(label, n) for _v, label, n in report.by_status], _("项")),
        "money": bar_chart(_("经费（元）"), money),
        "types": bar_chart(_("各类型立项数"), [(label, n) for label, n, _a in report.by_type], _("项")),
        "events": bar_chart(_("活动与参与"), [(_("已举办活动"), report.figure("events_held").value),
                                              (_("待举办活动"), report.figure("events_planned").value),
                                              (_("签到人次"), report.figure("participants").value)]),
    }
    if report.acceptance is not None:
        out["acceptance"] = bar_chart(_("验收结果"), [(label, n) for _v, label, n in report.acceptance], _("项"))
    return out


# --- XLSX ------------------------------------------------------------------------------------------------


def report_xlsx(report: Report) -> bytes:
    """The same figures as the dashboard: 汇总 (each figure, "—" where not available, with its note), 项目状态,
    项目类型, 验收结果 and one row per project."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([f"{report.call.title}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("统计日期"), report.today.isoformat()])
    ws.append([_("指标"), _("数值"), _("单位"), _("说明")])
    for f in report.figures:
        value = DASH if f.value is None else (float(f.value) if isinstance(f.value, Decimal) else f.value)
        ws.append([f.label, value, f.unit, f.note])

    st = wb.create_sheet("项目状态")
    st.append([_("状态"), _("项目数")])
    for _v, label, n in report.by_status:
        st.append([label, n])

    ty = wb.create_sheet("项目类型")
    ty.append([_("项目类型"), _("项目数"), _("资助金额（元）")])
    for label, n, amount in report.by_type:
        ty.append([label, n, amount])

    ac = wb.create_sheet("验收结果")
    if report.acceptance is None:
        ac.append([DASH, report.acceptance_note])
    else:
        ac.append([_("验收状态"), _("项目数")])
        for _v, label, n in report.acceptance:
            ac.append([label, n])

    pr = wb.create_sheet("项目明细")
    pr.append([_("立项编号"), _("项目名称"), _("承担单位"), _("项目类型"), _("状态"), _("资助金额（元）"),
               _("已拨付（元）"), _("已追回（元）"), _("已举办活动"), _("签到人次"), _("验收")])
    for r in report.rows:
        p = r.project
        pr.append([p.code, p.title, p.applicant.name, p.project_type.code if p.project_type else "",
                   p.get_status_display(), r.awarded, DASH if r.paid is None else r.paid,
                   DASH if r.recovered is None else r.recovered, r.events, r.participants,
                   DASH if r.acceptance is None else r.acceptance])
    for sheet in wb.worksheets:
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
