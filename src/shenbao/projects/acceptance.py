"""After the work: spot checks (R-P5), acceptance against the evidence (R-P7), deferral (R-P8) and closure.

Reads (plain functions):

    due(project) -> Due                          the acceptance deadline: the call's date, or N working days
                                                 after each event on the official calendar (core.calendar), or
                                                 the approved deferral's date
    evidence(project) -> Evidence                what the project collected as it went: events with their
                                                 sign-in counts and countries, photos by kind, news, deliverables,
                                                 filings, final accounts (activities and contracts stages)
    minimums(project, declared) -> [TaskCheck]   each task of the type (and track) against its minimums, naming
                                                 and CEL check, with an explanation per rule
    checklist(project, acceptance) -> [Item]     the type's acceptance materials, each with the evidence attached
                                                 automatically and the files uploaded, and whether it is complete
    closed_projects(funder) -> rows              the funder's closed-project report

Changes (keyword-only, one transaction, audited):

    save_acceptance / upload_material / withdraw_material / submit_acceptance / decide_acceptance
    request_deferral / decide_deferral / withdraw_deferral
    draw_spot_check / record_finding
    start_dossier (a background job: build_dossier)

Documents: acceptance_form_pdf / acceptance_form_docx (验收表, with the final accounts when they exist).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import secrets
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.core import audit, jobs
from shenbao.core import calendar as workcal
from shenbao.core.decisions import NotAllowed, require
from shenbao.documents import attachments
from shenbao.projects import activities, contracts, permissions, services
from shenbao.projects.models import (
    Acceptance,
    AcceptanceFile,
    Deferral,
    Event,
    EventPhoto,
    Project,
    SpotCheck,
    SpotCheckItem,
)

MATERIAL_TYPES = ["pdf", "jpg", "png", "doc", "docx", "xls", "xlsx", "zip"]
MATERIAL_MAX_MB = 20
# measures counted from the evidence of each event (the rest are reported by the unit, with proof)
EVENT_MEASURES = {"participants", "countries", "countries_incl_china", "experts", "speakers", "days", "half_days"}
CLOSED = (Project.Status.COMPLETED, Project.Status.UNFINISHED, Project.Status.TERMINATED)


class Refused(Exception):
    """A change refused by a rule (not a permission): the reason in Chinese; nothing was changed."""

    def __init__(self, message: str, field: str = ""):
        self.message, self.field = str(message), field
        super().__init__(self.message)


def _today() -> dt.date:
    return timezone.localdate()


def measure_names(project: Project) -> dict[str, tuple[str, str]]:
    """key → (name, unit) of the catalogue's measures and the call's own."""
    from shenbao.calls.models import Measure

    out = {m.key: (m.name, m.unit) for m in Measure.objects.all()}
    if project.call_id:
        for m in project.call.document.measures:
            out[m.key] = (m.name, m.unit or "")
    return out


# --- the deadline (R-P7) ---------------------------------------------------------------------------------


@dataclass
class Due:
    date: dt.date | None
    text: str
    per_event: list[tuple[Event, dt.date]] = field(default_factory=list)
    problem: str = ""  # why it cannot be computed (a year the calendar does not know)
    working_days: int | None = None


def due(project: Project) -> Due:
    """When the acceptance materials are due: the notice's date, or `working_days_after_event` working days
    after the end of each event (the official calendar: weekends, holidays and the working days in lieu),
    the latest of them being the project's; an approved deferral moves it to its date."""
    acc = activities.acceptance(project)
    spec = acc.due if acc else None
    row = Acceptance.objects.filter(project=project, status=Acceptance.Status.RECTIFY).first()
    if row is not None and row.rectify_by:
        return Due(row.rectify_by, _("限期整改：须于 %(d)s 前提交整改后的验收材料") % {"d": row.rectify_by})
    if project.status == Project.Status.DEFERRED and project.deferred_until:
        return Due(project.deferred_until, _("已批准延期验收，须于 %(d)s 前提交验收材料") % {"d": project.deferred_until})
    if spec is None:
        ptype = activities._ptype_doc(project)
        by = project.call.document.effective(ptype, "completion_by") if ptype is not None else None
        if by:
            return Due(by, _("通知未规定验收材料的提交日期；项目完成时限为 %(d)s") % {"d": by})
        return Due(None, _("通知未规定验收材料的提交日期"))
    if spec.date is not None:
        return Due(spec.date, spec.text or _("须于 %(d)s 前提交验收材料") % {"d": spec.date})
    n = spec.working_days_after_event
    events = [e for e in project.events.all() if e.status == Event.Status.REGISTERED]
    text = spec.text or _("每项活动结束后 %(n)s 个工作日内提交验收材料") % {"n": n}
    if not events:
        return Due(None, text + _("（尚未登记活动，登记后计算截止日期）"), working_days=n)
    per_event = []
    try:
        cal = workcal.Calendar()
        for e in events:
            per_event.append((e, cal.add_working_days(e.ends_on, n)))
    except workcal.UnknownYear as exc:
        return Due(None, text, problem=exc.message, working_days=n)
    return Due(max(d for _e, d in per_event), text, per_event, working_days=n)


# --- the evidence collected -------------------------------------------------------------------------------


@dataclass
class EventEvidence:
    event: Event
    participants: int
    countries_incl_china: int
    speakers: int
    days: Decimal
    photos: int
    news: int

    def value(self, key: str):
        return {"participants": self.participants, "countries_incl_china": self.countries_incl_china,
                "countries": max(self.countries_incl_china - 1, 0), "experts": self.speakers,
                "speakers": self.speakers, "days": self.days, "half_days": self.days * 2}.get(key)


@dataclass
class Evidence:
    events: list[EventEvidence]
    photos: dict
    news: list
    deliverables: list
    deliverables_ok: bool
    deliverable_problems: list[str]
    filings: int
    final_accounts: list  # contracts' compared lines, when that stage has them
    final_total: object | None
    notes: list[str] = field(default_factory=list)

    @property
    def participants(self) -> int:
        return sum(e.participants for e in self.events)


def _final_accounts(project: Project):
    """The final accounts beside the budget (contracts.compare_accounts): the lines the unit entered or budgeted."""
    lines, total = contracts.compare_accounts(project)
    return [ln for ln in lines if ln.actual or ln.budget], total if lines else None


def evidence(project: Project, today: dt.date | None = None) -> Evidence:
    today = today or _today()
    events = list(project.events.filter(status=Event.Status.REGISTERED).order_by("starts_on", "id"))
    news_by_event: dict[int | None, int] = {}
    news = list(project.news.select_related("event").order_by("published_on", "id"))
    for n in news:
        news_by_event[n.event_id] = news_by_event.get(n.event_id, 0) + 1
    out = []
    for e in events:
        counts = activities.signin_counts(e)
        out.append(EventEvidence(
            event=e, participants=counts["participants"], countries_incl_china=counts["countries_incl_china"],
            speakers=len([s for s in (e.speakers or []) if (s.get("name") or "").strip()]),
            days=Decimal((e.ends_on - e.starts_on).days + 1),
            photos=EventPhoto.objects.filter(event=e, withdrawn=False).count(), news=news_by_event.get(e.pk, 0)))
    ok, problems = activities.deliverables_completed(project, today)
    lines, total = _final_accounts(project)
    return Evidence(events=out, photos=activities.photo_status(project), news=news,
                    deliverables=activities.deliverables(project, today), deliverables_ok=ok,
                    deliverable_problems=problems, filings=project.filings.count(), final_accounts=lines,
                    final_total=total)


# --- the type's minimums (R-P7, R-C4) -----------------------------------------------------------------


@dataclass
class Rule:
    label: str
    ok: bool
    explanation: str
    key: str = ""
    need: object = None
    have: object = None
    source: str = "evidence"  # evidence | declared | check


@dataclass
class TaskCheck:
    index: int
    text: str
    rules: list[Rule]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rules)


def declared_key(index: int, key: str) -> str:
    return f"t{index}_{key}"


def _num(value) -> str:
    d = Decimal(str(value))
    return f"{d.normalize():f}" if d != d.to_integral() else str(int(d))


def _is_event_task(t) -> bool:
    return bool(t.naming) or "events" in t.minimums or bool(set(t.minimums) & EVENT_MEASURES)


def project_facts(project: Project, ev: Evidence, declared: dict) -> dict:
    """`project` for the CEL checks of tasks and acceptance: the application's facts (`fact: true` fields),
    the counts the evidence gives, and what the unit declared."""
    facts: dict = {}
    app = project.application
    if app is not None:
        from shenbao.review.selection import project_facts as form_facts

        doc = project.call.document
        ptype = activities._ptype_doc(project)
        snap = app.current_snapshot
        values = (snap.values or {}).get("values", {}) if snap is not None else (app.data or {})
        if ptype is not None:
            facts.update(form_facts(doc.form_for(ptype), values))
    held = [e for e in ev.events if e.event.starts_on <= _today()]
    facts["events"] = len(held)
    facts["participants"] = max((e.participants for e in held), default=0)
    facts["participants_total"] = sum(e.participants for e in held)
    facts["countries_incl_china"] = max((e.countries_incl_china for e in held), default=1)
    facts["countries"] = facts["countries_incl_china"] - 1
    facts["countries_excl_hmt"] = facts["countries_incl_china"]
    facts["news"] = len(ev.news)
    for k, v in (declared or {}).items():
        if k.startswith("t") and "_" in k:
            facts.setdefault(k.split("_", 1)[1], v)
    return facts


def _context(project: Project, facts: dict) -> dict:
    doc = project.call.document
    ptype = activities._ptype_doc(project)
    return {"project": facts, "form": {}, "type": {"code": ptype.code if ptype else "", "cap": 0},
            "track": {"code": project.track.code if project.track_id else ""},
            "call": {"code": doc.code, "year": doc.year}}


def _cel_rule(project, expr, facts: dict, label: str) -> Rule:
    from shenbao.core.expressions import ExpressionError, compile_expression

    try:
        ok = compile_expression(expr.expr).holds(_context(project, facts))
    except ExpressionError:
        return Rule(label, False, _("%(msg)s（所需数据尚未齐备，无法核验）") % {"msg": expr.message}, source="check")
    return Rule(label, ok, _("符合：%(msg)s") % {"msg": expr.message} if ok else expr.message, source="check")


def minimums(project: Project, declared: dict | None = None, ev: Evidence | None = None) -> list[TaskCheck]:
    """Each task of the project (type's, then track's) checked against the notice's minimums, with an
    explanation for each rule: the per-event measures (participants, countries, speakers) and the naming
    (R-C4) from the events held and their sign-in sheets; the number of events that meet all of them; the
    other measures as the unit declared them; the task's CEL check."""
    declared = declared or {}
    ev = ev or evidence(project)
    names = measure_names(project)
    today = _today()
    facts = project_facts(project, ev, declared)
    out = []
    for i, t in enumerate(activities.tasks(project)):
        rules: list[Rule] = []
        if _is_event_task(t):
            candidates = [e for e in ev.events if e.event.task in (i, -1)]
            held = [e for e in candidates if e.event.starts_on <= today]
            per_event = {k: v for k, v in t.minimums.items() if k in EVENT_MEASURES}
            qualifying = []
            lines = []
            for e in held:
                why = []
                if t.naming:
                    missing = [n for n in t.naming if n not in e.event.title]
                    if missing:
                        why.append(_("名称未冠“%(n)s”") % {"n": "”“".join(missing)})
                for k, need in per_event.items():
                    have = e.value(k)
                    if have is None or Decimal(str(have)) < need:
                        why.append(_("%(name)s %(have)s，不足 %(need)s") % {
                            "name": names.get(k, (k, ""))[0], "have": _num(have or 0), "need": _num(need)})
                if why:
                    lines.append(_("《%(t)s》（%(d)s）：%(why)s") % {"t": e.event.title, "d": e.event.starts_on,
                                                                  "why": "；".join(why)})
                else:
                    qualifying.append(e)
                    lines.append(_("《%(t)s》（%(d)s）：符合（签到 %(p)s 人）") % {
                        "t": e.event.title, "d": e.event.starts_on, "p": e.participants})
            not_yet = [e for e in candidates if e.event.starts_on > today]
            if not_yet:
                lines.append(_("尚未举办：%(list)s") % {"list": "、".join(f"《{e.event.title}》" for e in not_yet)})
            # the per-event measures count only events that carry the name (an unnamed one counts for nothing)
            named_held = [e for e in held if all(n in e.event.title for n in t.naming)]
            for k, need in per_event.items():
                name, unit = names.get(k, (k, ""))
                best = max((e.value(k) for e in named_held), default=0)
                meets = [e for e in named_held if Decimal(str(e.value(k))) >= need]
                if k in ("countries", "countries_incl_china"):
                    basis = _("按签到表中与会者所属国家和地区计，中国计为其一，港澳台不单独计")
                elif k in ("experts", "speakers"):
                    basis = _("按活动登记的报告专家计")
                elif k in ("days", "half_days"):
                    basis = _("按活动起止日期计")
                else:
                    basis = _("按签到表人数计")
                if t.naming:
                    basis += _("；只计冠“%(n)s”名称的活动") % {"n": "”“".join(t.naming)}
                rules.append(Rule(
                    _("%(name)s ≥ %(need)s%(unit)s（每场）") % {"name": name, "need": _num(need), "unit": unit},
                    bool(meets),
                    (_("符合：%(n)s 场活动达到，最多一场 %(best)s%(unit)s（%(basis)s）") if meets else
                     _("不符合：没有一场活动达到 %(need)s%(unit)s，最多一场 %(best)s%(unit)s（%(basis)s）")) % {
                        "n": len(meets), "best": _num(best), "need": _num(need), "unit": unit, "basis": basis},
                    key=k, need=need, have=best))
            if t.naming:
                named = [e for e in held if all(n in e.event.title for n in t.naming)]
                unnamed = [e for e in held if e not in named]
                need_n = int(t.minimums.get("events", 1))
                rules.append(Rule(
                    _("活动须冠“%(n)s”名称") % {"n": "”“".join(t.naming)}, len(named) >= need_n,
                    (_("符合：%(n)s 场活动冠名") % {"n": len(named)} if len(named) >= need_n else
                     _("不符合：冠名的活动 %(n)s 场，须 %(need)s 场；未冠名的活动不能计入（%(list)s）") % {
                         "n": len(named), "need": need_n,
                         "list": "、".join(f"《{e.event.title}》" for e in unnamed) or _("无")}),
                    key="naming", need=need_n, have=len(named)))
            need_events = t.minimums.get("events", Decimal(1))
            rules.append(Rule(
                _("活动 ≥ %(need)s 场（符合全部条件）") % {"need": _num(need_events)},
                len(qualifying) >= need_events,
                (_("符合：%(n)s 场") if len(qualifying) >= need_events else _("不符合：%(n)s 场，须 %(need)s 场"))
                % {"n": len(qualifying), "need": _num(need_events)} + ("。" + "；".join(lines) if lines else
                                                                     _("。没有可计入本任务的活动（登记时选择了本任务或未指定任务的活动才计入）")),
                key="events", need=need_events, have=len(qualifying)))
        for k, need in t.minimums.items():
            if (k == "events" and _is_event_task(t)) or (k in EVENT_MEASURES and _is_event_task(t)):
                continue
            name, unit = names.get(k, (k, ""))
            raw = declared.get(declared_key(i, k))
            label = _("%(name)s ≥ %(need)s%(unit)s") % {"name": name, "need": _num(need), "unit": unit}
            if raw in (None, ""):
                rules.append(Rule(label, False, _("单位尚未填报（平台无法从活动记录中统计，请填报并附证明材料）"),
                                  key=k, need=need, source="declared"))
                continue
            have = Decimal(str(raw))
            rules.append(Rule(label, have >= need,
                              (_("符合：单位填报 %(have)s%(unit)s（须附证明材料）") if have >= need else
                               _("不符合：单位填报 %(have)s%(unit)s，须 %(need)s%(unit)s")) % {
                                  "have": _num(have), "need": _num(need), "unit": unit},
                              key=k, need=need, have=have, source="declared"))
        if t.check is not None:
            rules.append(_cel_rule(project, t.check, facts, _("任务核验条件")))
        if rules:
            out.append(TaskCheck(i, t.text, rules))
    acc = activities.acceptance(project)
    extra = [_cel_rule(project, c, facts, _("验收条件")) for c in (acc.checks if acc else [])]
    if extra:
        out.append(TaskCheck(-1, _("通知规定的验收条件"), extra))
    return out


def declared_fields(project: Project) -> list[tuple[str, str, str]]:
    """(key, label, task text) of the measures the unit reports itself."""
    names = measure_names(project)
    out = []
    for i, t in enumerate(activities.tasks(project)):
        for k, need in t.minimums.items():
            if _is_event_task(t) and (k == "events" or k in EVENT_MEASURES):
                continue
            name, unit = names.get(k, (k, ""))
            out.append((declared_key(i, k), f"{name}（≥{_num(need)}{unit}）", t.text))
    return out


# --- the checklist of materials ---------------------------------------------------------------------------


@dataclass
class Item:
    code: str
    name: str
    required: bool
    note: str
    auto: list[str]
    files: list
    ok: bool
    explanation: str
    generated: bool = False
    kind: str = "upload"  # form | photos | sign_in | news | accounts | upload


def materials(project: Project) -> list:
    acc = activities.acceptance(project)
    return [m for m in (acc.materials if acc else [])
            if not m.tracks or (project.track_id and project.track.code in m.tracks)]


def _kind_of(m) -> str:
    text = f"{m.code} {m.name}"
    if m.code == "acceptance_form" or "验收表" in m.name:
        return "form"
    if m.code == "photos" or m.kinds or "相片" in m.name or ("照片" in m.name and "佐证" not in m.name):
        return "photos"
    if m.code == "sign_in" or m.name.startswith("签到") or "签到表" == m.name:
        return "sign_in"
    if m.code in ("news", "publicity") or ("新闻稿" in m.name and "佐证" not in m.name):
        return "news"
    if m.code == "final_accounts" or "决算" in text:
        return "accounts"
    return "upload"


def checklist(project: Project, acceptance_row: Acceptance | None, ev: Evidence | None = None) -> list[Item]:
    """The type's acceptance materials (R-P7): for each, what the platform attaches by itself (photos by
    kind within the notice's limits, sign-in sheets, news, the generated 验收表, the final accounts) and the
    files the unit uploaded; complete when a required material has either."""
    ev = ev or evidence(project)
    files: dict[str, list] = {}
    if acceptance_row is not None and acceptance_row.pk:
        for f in acceptance_row.files.filter(withdrawn=False):
            files.setdefault(f.code, []).append(f)
    out = []
    for m in materials(project):
        kind, mine, auto = _kind_of(m), files.get(m.code, []), []
        ok, why, generated = bool(mine), "", False
        if kind == "form":
            generated, ok = True, True
            auto.append(_("由平台按项目信息和验收核验结果生成（可下载 PDF/DOCX，盖章后上传扫描件）"))
        elif kind == "photos":
            ph = ev.photos
            rules = ph["rules"]
            # kinds owed only where the notice names them (相片…各2张); else any photo (活动照片或影像资料记录)
            kinds_ok = all(k["ok"] for k in ph["kinds"]) if m.kinds else True
            if m.kinds and getattr(rules, "per_event", False) and ev.events:  # the kinds are owed by each event
                for e in ev.events:
                    per = activities.photo_status(project, e.event)
                    short = [f"{k['name']} {k['count']}/{k['min']}" for k in per["kinds"] if not k["ok"]]
                    if short:
                        kinds_ok = False
                        auto.append(_("《%(t)s》：%(list)s") % {"t": e.event.title, "list": "、".join(short)})
            total = ph["total"]
            auto.append(("；".join(f"{k['name']} {k['count']}/{k['min']}" for k in ph["kinds"]) if m.kinds else "")
                        + _("，共 %(n)s 张") % {"n": total})
            limits_ok = (m.max_count is None or total <= m.max_count) and (m.min_count is None or total >= m.min_count)
            ok = (kinds_ok and limits_ok and total > 0) or bool(mine)
            if not ok:
                short = [f"{k['name']}（{k['count']}/{k['min']}）" for k in ph["kinds"] if not k["ok"] and m.kinds]
                why = _("相片不足：%(list)s") % {"list": "、".join(short)} if short else _("相片数量不符合要求")
            if m.max_count is not None and total > m.max_count:
                ok, why = False, _("相片最多 %(max)s 张，现有 %(n)s 张") % {"max": m.max_count, "n": total}
            del rules
        elif kind == "sign_in":
            sheets = [e for e in ev.events if e.participants]
            auto += [_("《%(t)s》签到表：%(n)s 人") % {"t": e.event.title, "n": e.participants} for e in sheets]
            ok = bool(sheets) or bool(mine)
        elif kind == "news":
            auto += [f"{n.title}（{n.outlet}，{n.published_on}）" for n in ev.news]
            ok = bool(ev.news) or bool(mine)
        elif kind == "accounts":
            if ev.final_accounts:
                auto.append(_("经费决算已在平台填写：%(n)s 行，合计 %(total)s 元") % {
                    "n": len(ev.final_accounts), "total": getattr(ev.final_total, "actual", "")})
            ok = bool(ev.final_accounts) or bool(mine)
        if not ok and not why:
            why = _("尚未提供") if m.required else _("非必交材料")
        if not m.required and not ok:
            ok = True
        out.append(Item(m.code, m.name, m.required, m.note, auto, mine, ok, why, generated, kind))
    return out


# --- the acceptance: preparing, submitting, deciding -------------------------------------------------------


def _tell(project: Project, *, unit: bool, subject: str, lines: list[str]) -> None:
    """Mail the unit's clerks and head (unit=True) or the funder's staff, with the page's address; queued in
    the transaction of the change it tells of."""
    from django.conf import settings
    from django.urls import reverse

    from shenbao.applications.notify import _addresses
    from shenbao.core import mail

    roles = ["applicant_clerk", "unit_head"] if unit else ["funder_staff"]
    org_id = project.applicant_id if unit else project.funder_id
    if org_id is None:
        return
    link = getattr(settings, "SHENBAO_SITE_URL", "").rstrip("/") + reverse("projects:acceptance", args=[project.pk])
    mail.send(subject=subject, body="\n".join([f"《{project.title}》（{project.applicant.name}）", *lines, link]),
              to=_addresses(org_id, roles))


def acceptance_of(project: Project) -> Acceptance | None:
    return Acceptance.objects.filter(project=project).first()


def _get_or_make(project: Project) -> Acceptance:
    row, _created = Acceptance.objects.get_or_create(project=project)
    return row


def _clean_declared(project: Project, declared: dict) -> dict:
    allowed = {k for k, _l, _t in declared_fields(project)}
    out = {}
    for k, v in (declared or {}).items():
        if k not in allowed:
            continue
        text = str(v if v is not None else "").strip()
        if not text:
            continue
        try:
            value = Decimal(text)
        except Exception:
            raise Refused(_("“%(v)s”不是数字") % {"v": text[:20]}, k) from None
        if value < 0 or value > 10**7:
            raise Refused(_("数量须在 0 到 10000000 之间"), k)
        out[k] = int(value) if value == value.to_integral() else float(value)
    return out


@transaction.atomic
def save_acceptance(*, user, project: Project, summary: str = "", declared: dict | None = None,
                    ip: str | None = None) -> Acceptance:
    """The unit saves what it reports: the summary and the measures the platform cannot count."""
    row = _get_or_make(project)
    row = Acceptance.objects.select_for_update().get(pk=row.pk)
    require(permissions.can_prepare_acceptance(user, project, row))
    summary = (summary or "").strip()
    if len(summary) > 5000:
        raise Refused(_("项目完成情况总结不能超过5000字"), "summary")
    clean = _clean_declared(project, declared or {})
    before = {"summary": row.summary, "declared": row.declared}
    row.summary, row.declared = summary, clean
    row.save(update_fields=["summary", "declared", "updated_at"])
    audit.record(actor=user, action="project.acceptance_saved", obj=row, ip=ip, before=before,
                 after={"summary": summary, "declared": clean})
    return row


def upload_material(*, user, project: Project, code: str, upload, ip: str | None = None) -> AcceptanceFile:
    if code not in [m.code for m in materials(project)]:
        raise Refused(_("本项目的验收材料中没有这一项"), "code")
    m = next(m for m in materials(project) if m.code == code)
    with transaction.atomic():
        row = _get_or_make(project)
        row = Acceptance.objects.select_for_update().get(pk=row.pk)
        require(permissions.can_prepare_acceptance(user, project, row))
        if m.max_count and row.files.filter(code=code, withdrawn=False).count() >= m.max_count:
            raise Refused(_("“%(name)s”最多 %(max)s 个文件") % {"name": m.name, "max": m.max_count}, "file")
    try:
        kept = attachments.keep(upload, accept=MATERIAL_TYPES, max_bytes=MATERIAL_MAX_MB * 1024 * 1024,
                                label=m.name)
    except attachments.FileRefused as exc:
        raise Refused(exc.message, "file") from None
    with transaction.atomic():
        f = AcceptanceFile.objects.create(
            acceptance=row, code=code, file=kept["file"], original_name=kept["original_name"],
            file_type=kept["type"], content_type=kept["content_type"], size=kept["size"], sha256=kept["sha256"],
            uploaded_by=user)
        audit.record(actor=user, action="project.acceptance_file", obj=row, ip=ip,
                     after={"file": f.pk, "code": code, "name": f.original_name, "sha256": f.sha256})
    return f


@transaction.atomic
def withdraw_material(*, user, file: AcceptanceFile, ip: str | None = None) -> AcceptanceFile:
    f = AcceptanceFile.objects.select_for_update().select_related("acceptance__project").get(pk=file.pk)
    require(permissions.can_prepare_acceptance(user, f.acceptance.project, f.acceptance))
    if not f.withdrawn:
        f.withdrawn = True
        f.save(update_fields=["withdrawn"])
        audit.record(actor=user, action="project.acceptance_file_withdrawn", obj=f.acceptance, ip=ip,
                     after={"file": f.pk, "code": f.code})
    return f


def _snapshot(project: Project, row: Acceptance, ev: Evidence, checks: list[TaskCheck], items: list[Item],
              when: Due) -> dict:
    return {
        "due": when.date.isoformat() if when.date else None, "due_text": when.text,
        "per_event": [{"event": e.pk, "title": e.title, "ends_on": e.ends_on.isoformat(), "due": d.isoformat()}
                      for e, d in when.per_event],
        "events": [{"id": e.event.pk, "title": e.event.title, "starts_on": e.event.starts_on.isoformat(),
                    "participants": e.participants, "countries_incl_china": e.countries_incl_china,
                    "photos": e.photos, "news": e.news} for e in ev.events],
        "tasks": [{"index": t.index, "text": t.text, "ok": t.ok,
                   "rules": [{"label": r.label, "ok": r.ok, "explanation": r.explanation, "source": r.source}
                             for r in t.rules]} for t in checks],
        "materials": [{"code": i.code, "name": i.name, "required": i.required, "ok": i.ok, "auto": i.auto,
                       "files": [{"id": f.pk, "name": f.original_name, "sha256": f.sha256} for f in i.files],
                       "explanation": i.explanation} for i in items],
        "deliverables": {"ok": ev.deliverables_ok, "problems": ev.deliverable_problems},
        "declared": row.declared,
    }


def submit_acceptance(*, user, project: Project, ip: str | None = None, now: dt.datetime | None = None) -> Acceptance:
    """提交验收: refused while a required material is missing (each named); the checklist, the minimums and
    the evidence are frozen with the submission, and whether it is late against the deadline."""
    from shenbao.projects.workflow import ACCEPTANCE

    with transaction.atomic():
        row = _get_or_make(project)
        row = Acceptance.objects.select_for_update().get(pk=row.pk)
        require(ACCEPTANCE.can(user, row, "submit"))
        ev = evidence(project)
        items = checklist(project, row, ev)
        missing = [i.name for i in items if i.required and not i.ok]
        if missing:
            raise Refused(_("以下验收材料尚未提供：%(list)s") % {"list": "；".join(missing)})
        checks = minimums(project, row.declared, ev)
        when = due(project)
        moment = now or timezone.now()
        row = ACCEPTANCE.perform(user=user, obj=row, action="submit",
                                 extra_after={"late": bool(when.date and timezone.localdate(moment) > when.date),
                                              "tasks_ok": all(t.ok for t in checks)})
        row.snapshot = _snapshot(project, row, ev, checks, items, when)
        row.due_on = when.date
        row.late = bool(when.date and timezone.localdate(moment) > when.date)
        row.submitted_at, row.submitted_by = moment, user
        row.submissions += 1
        row.save(update_fields=["snapshot", "due_on", "late", "submitted_at", "submitted_by", "submissions",
                                "updated_at"])
        _tell(project, unit=False, subject="【项目验收】单位已提交验收材料",
              lines=[f"第 {row.submissions} 次提交" + ("（逾期）" if row.late else ""), "请登录平台作出验收结论。"])
    return row


def decide_acceptance(*, user, acceptance: Acceptance, result: str, note: str = "",
                      rectify_by: dt.date | None = None, ip: str | None = None) -> Acceptance:
    """The funder's result: `pass` (the project is completed, a deferral cleared), `rectify` by a date (the
    unit submits again), `fail` (the project is left unfinished: R-E5 bars the unit where the call says)."""
    from shenbao.projects.workflow import ACCEPTANCE, DEFERRAL

    if result not in ("pass", "rectify", "fail"):
        raise Refused(_("验收结论须为：通过、限期整改或不通过"), "result")
    note = (note or "").strip()
    if result != "pass" and not note:
        raise Refused(_("限期整改或不通过须写明验收意见"), "note")
    if result == "rectify":
        if rectify_by is None:
            raise Refused(_("限期整改须给出整改期限"), "rectify_by")
        if rectify_by <= _today():
            raise Refused(_("整改期限须晚于今天"), "rectify_by")
    with transaction.atomic():
        row = ACCEPTANCE.perform(user=user, obj=acceptance, action=result, note=note,
                                 extra_after={"rectify_by": rectify_by})
        row.result_note, row.decided_at, row.decided_by = note, timezone.now(), user
        row.rectify_by = rectify_by if result == "rectify" else None
        row.save(update_fields=["result_note", "decided_at", "decided_by", "rectify_by", "updated_at"])
        project = row.project
        _tell(project, unit=True, subject=f"【项目验收】{row.get_status_display()}",
              lines=[f"验收结论：{row.get_status_display()}", *([f"验收意见：{note}"] if note else []),
                     *([f"请于 {rectify_by} 前提交整改后的验收材料。"] if result == "rectify" else [])])
        if result == "pass":
            for d in project.deferrals.filter(status=Deferral.Status.APPROVED):
                DEFERRAL.perform(user=user, obj=d, action="clear", note=_("验收通过"))
            services.set_status(actor=user, project=project, status=Project.Status.COMPLETED,
                                reason=_("验收通过") + (f"：{note}" if note else ""), completed_on=_today())
        elif result == "fail":
            services.set_status(actor=user, project=project, status=Project.Status.UNFINISHED,
                                reason=_("验收不通过：%(note)s") % {"note": note})
    return row


# --- deferral (R-P8) ---------------------------------------------------------------------------------------


@transaction.atomic
def request_deferral(*, user, project: Project, until: dt.date | None, reason: str, ip: str | None = None) -> Deferral:
    project = Project.objects.select_for_update().get(pk=project.pk)
    require(permissions.can_request_deferral(user, project))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("请写明延期验收的理由"), "reason")
    if until is None:
        raise Refused(_("请填写申请延期至的日期"), "until")
    current = due(project).date
    if until <= _today() or (current and until <= current):
        raise Refused(_("延期日期须晚于今天和现在的验收截止日期（%(d)s）") % {"d": current or "—"}, "until")
    if until > _today() + dt.timedelta(days=3 * 366):
        raise Refused(_("延期不能超过三年"), "until")
    row = Deferral.objects.create(project=project, until=until, reason=reason[:2000], requested_by=user)
    audit.record(actor=user, action="project.deferral_requested", obj=row, ip=ip,
                 after={"project": project.pk, "until": until, "reason": reason})
    return row


def decide_deferral(*, user, deferral: Deferral, approve: bool, note: str = "", ip: str | None = None) -> Deferral:
    """Approved: the project is `deferred` until the date (R-P8), which bars the unit's new applications to
    the programme until the acceptance is done (R-E5, applications/eligibility.py)."""
    from shenbao.projects.workflow import DEFERRAL

    note = (note or "").strip()
    if not approve and not note:
        raise Refused(_("不予批准须写明理由"), "note")
    with transaction.atomic():
        row = DEFERRAL.perform(user=user, obj=deferral, action="approve" if approve else "refuse", note=note)
        row.decided_by, row.decided_at, row.decision_note = user, timezone.now(), note
        row.save(update_fields=["decided_by", "decided_at", "decision_note"])
        _tell(row.project, unit=True, subject=f"【延期验收】{row.get_status_display()}",
              lines=[f"申请延期至 {row.until}：{row.get_status_display()}", *([f"意见：{note}"] if note else [])])
        if approve:
            services.set_status(actor=user, project=row.project, status=Project.Status.DEFERRED,
                                reason=_("延期验收：%(r)s") % {"r": row.reason}, deferred_until=row.until)
    return row


def withdraw_deferral(*, user, deferral: Deferral, ip: str | None = None) -> Deferral:
    from shenbao.projects.workflow import DEFERRAL

    return DEFERRAL.perform(user=user, obj=deferral, action="withdraw")


# --- spot checks (R-P5) ------------------------------------------------------------------------------------


def spot_check_rules(call) -> list[str]:
    """What the notice says of spot checks and recovery (post_award.spot_checks / recovery), for the page."""
    doc = call.document
    said = {"spot_checks": False, "recovery": False}
    for ptype in doc.project_types:
        pa = doc.effective(ptype, "post_award")
        if pa is not None:
            said["spot_checks"] |= bool(pa.spot_checks)
            said["recovery"] |= bool(pa.recovery)
    out = [_("通知规定项目实施中接受抽查") if said["spot_checks"] else _("通知未写明抽查；主办方仍可按管理办法抽查")]
    if said["recovery"]:
        out.append(_("通知规定：违规使用经费的，追回已拨付经费"))
    return out


def spot_population(call) -> list[int]:
    """The projects a sample is drawn from: the call's projects under way, by id."""
    return list(Project.objects.filter(call=call, status__in=permissions.OPEN_STATUSES)
                .order_by("pk").values_list("pk", flat=True))


def draw_sample(population: list[int], size: int, seed: str) -> list[int]:
    """The same population, size and seed always give the same sample (anyone can repeat the draw)."""
    return sorted(random.Random(f"shenbao-spot:{seed}").sample(population, size))


@transaction.atomic
def draw_spot_check(*, user, call, mode: str, size: int | None = None, seed: str = "",
                    project_ids: list[int] | None = None, reason: str = "", ip: str | None = None) -> SpotCheck:
    """抽查: `random` draws `size` of the call's ongoing projects with a recorded seed (given, or made
    here); `targeted` takes the projects named, with the reason."""
    require(permissions.can_spot_check(user, call))
    population = spot_population(call)
    reason = (reason or "").strip()
    if mode == SpotCheck.Mode.RANDOM:
        if not population:
            raise Refused(_("该通知没有实施中的项目可供抽查"))
        if size is None or size < 1 or size > len(population):
            raise Refused(_("抽取数量须在 1 到 %(n)s 之间（实施中的项目共 %(n)s 个）") % {"n": len(population)}, "size")
        seed = (seed or "").strip()[:64] or secrets.token_hex(8)
        chosen = draw_sample(population, size, seed)
    elif mode == SpotCheck.Mode.TARGETED:
        chosen = sorted(set(int(p) for p in (project_ids or [])))
        if not chosen:
            raise Refused(_("请选择要抽查的项目"), "projects")
        outside = [p for p in chosen if p not in population]
        if outside:
            raise Refused(_("所选项目不属于该通知实施中的项目"), "projects")
        if not reason:
            raise Refused(_("定向抽查须写明抽查理由"), "reason")
        seed, size = "", len(chosen)
    else:
        raise Refused(_("抽取方式须为随机抽取或定向抽查"), "mode")
    check = SpotCheck.objects.create(call=call, mode=mode, seed=seed, size=size, population=population,
                                     reason=reason, drawn_by=user)
    SpotCheckItem.objects.bulk_create([SpotCheckItem(spot_check=check, project_id=p) for p in chosen])
    audit.record(actor=user, action="project.spot_check_drawn", obj=check, ip=ip,
                 after={"call": call.pk, "mode": mode, "seed": seed, "size": size, "population": population,
                        "sample": chosen, "reason": reason})
    return check


def _ledger_recovery(*, user, project: Project, amount: int, reason: str, ip):
    """The money stage's recovery (追回), when it exists: returns its row id, or None when that stage is not
    installed; its refusals (more than was paid …) are the user's."""
    try:
        from shenbao.projects import contracts
    except ImportError:
        return None
    record = getattr(contracts, "record_recovery", None)
    if record is None:
        return None
    try:
        row = record(actor=user, project=project, amount=amount, on=_today(), reason=reason,
                     reference="", ip=ip)
    except NotAllowed:
        return None  # the money ledger is finance's: the spot check keeps the amount and the reason itself
    except Exception as exc:  # contracts.Refused: more than was paid, …
        message = getattr(exc, "message", None)
        if message is None:
            raise
        raise Refused(_("追回经费未能登记：%(why)s") % {"why": message}, "recovery_amount") from None
    return row.pk


def record_finding(*, user, item: SpotCheckItem, findings: str, consequence: str,
                   recovery_amount: int | None = None, recovery_reason: str = "", rectify_by: dt.date | None = None,
                   ip: str | None = None) -> SpotCheckItem:
    """The findings on one sampled project and the consequence. A recovery needs its amount (at most the
    award) and reason; it is entered in the money ledger when the contracts stage keeps one (R-P5)."""
    with transaction.atomic():
        item = SpotCheckItem.objects.select_for_update().select_related(
            "spot_check__call__issuer", "project").get(pk=item.pk)
        require(permissions.can_spot_check(user, item.spot_check.call))
        findings = (findings or "").strip()
        if not findings:
            raise Refused(_("请填写检查发现"), "findings")
        if consequence not in SpotCheckItem.Consequence.values:
            raise Refused(_("请选择处理结果"), "consequence")
        if item.recorded_at is not None:
            raise Refused(_("该项目的抽查结果已记录（%(at)s），不重复记录") % {
                "at": timezone.localtime(item.recorded_at).strftime("%Y-%m-%d %H:%M")})
        recovery_reason = (recovery_reason or "").strip()
        payment_id = None
        if consequence == SpotCheckItem.Consequence.RECOVERY:
            if not recovery_amount or recovery_amount < 1:
                raise Refused(_("追回经费须填写追回金额"), "recovery_amount")
            award = item.project.amount or 0
            if recovery_amount > award:
                raise Refused(_("追回金额 %(a)s 元超过资助金额 %(b)s 元") % {"a": recovery_amount, "b": award},
                              "recovery_amount")
            if not recovery_reason:
                raise Refused(_("追回经费须写明原因"), "recovery_reason")
            payment_id = _ledger_recovery(user=user, project=item.project, amount=recovery_amount,
                                          reason=recovery_reason, ip=ip)
        else:
            recovery_amount, recovery_reason = None, ""
        if consequence == SpotCheckItem.Consequence.RECTIFY:
            if rectify_by is None or rectify_by <= _today():
                raise Refused(_("限期整改须给出晚于今天的整改期限"), "rectify_by")
        else:
            rectify_by = None
        item.findings, item.consequence, item.rectify_by = findings, consequence, rectify_by
        item.recovery_amount, item.recovery_reason, item.recovery_payment_id = (
            recovery_amount, recovery_reason, payment_id)
        item.recorded_by, item.recorded_at = user, timezone.now()
        item.save()
        audit.record(actor=user, action="project.spot_check_finding", obj=item.project, ip=ip,
                     after={"spot_check": item.spot_check_id, "findings": findings, "consequence": consequence,
                            "recovery_amount": recovery_amount, "recovery_reason": recovery_reason,
                            "ledger_recovery": payment_id, "rectify_by": rectify_by})
        if consequence == SpotCheckItem.Consequence.TERMINATE:
            services.set_status(actor=user, project=item.project, status=Project.Status.TERMINATED,
                                reason=_("抽查：%(f)s") % {"f": findings})
        if not item.spot_check.items.filter(recorded_at__isnull=True).exists():
            SpotCheck.objects.filter(pk=item.spot_check_id).update(status=SpotCheck.Status.CLOSED)
    return item


# --- the acceptance form (验收表) ----------------------------------------------------------------------------


def _form_rows(project: Project, row: Acceptance | None) -> dict:
    ev = evidence(project)
    checks = minimums(project, row.declared if row else {}, ev)
    items = checklist(project, row, ev)
    when = due(project)
    head = [
        (_("项目名称"), project.title),
        (_("立项编号"), project.code or "—"),
        (_("项目承担单位"), project.applicant.name),
        (_("项目类型"), f"{project.project_type.code} {project.project_type.name}" if project.project_type else "—"),
        (_("资助金额（元）"), f"{project.amount:,}" if project.amount else "—"),
        (_("主办方"), project.funder.name if project.funder else "—"),
        (_("验收材料提交截止"), f"{when.date or '—'}　{when.text}"),
    ]
    events = [[e.event.title, f"{e.event.starts_on}", e.event.place, str(e.participants),
               str(e.countries_incl_china) if e.event.international else "—", str(e.photos), str(e.news)]
              for e in ev.events]
    tasks = [[t.text, "\n".join(f"{'✓' if r.ok else '✗'} {r.label}：{r.explanation}" for r in t.rules),
              _("符合") if t.ok else _("不符合")] for t in checks]
    mats = [[i.name, "；".join(i.auto + [f.original_name for f in i.files]) or "—",
             _("齐全") if i.ok else (i.explanation or _("缺"))] for i in items]
    accounts = [[str(ln.category_label), ln.item or "", f"{ln.budget:,}", f"{ln.actual:,}", f"{ln.difference:,}"]
                for ln in ev.final_accounts]
    if ev.final_total is not None and accounts:
        t = ev.final_total
        accounts.append([_("合计"), "", f"{t.budget:,}", f"{t.actual:,}", f"{t.difference:,}"])
    result = ""
    if row and row.status in ("passed", "rectify", "failed"):
        result = f"{row.get_status_display()}　{row.result_note}" + (
            f"（{_('整改期限')} {row.rectify_by}）" if row.rectify_by else "")
    title = _("%(funder)s项目验收表") % {"funder": project.funder.name if project.funder else ""}
    if project.call_id:
        named = next((m.name for m in materials(project) if m.code == "acceptance_form"), None)
        title = named or title
    return {"title": title, "head": head, "events": events, "tasks": tasks, "materials": mats,
            "accounts": accounts, "summary": (row.summary if row else "") or "", "result": result,
            "notes": ev.notes + ev.deliverable_problems}


EVENT_HEAD = ["活动名称", "日期", "地点", "签到人数", "国家和地区数", "相片", "新闻"]
TASK_HEAD = ["任务", "核验（依据）", "结论"]
MATERIAL_HEAD = ["验收材料", "已提供", "情况"]
ACCOUNT_HEAD = ["支出类别", "项目", "预算（元）", "决算（元）", "差额（元）"]


def acceptance_form_pdf(project: Project, row: Acceptance | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from shenbao.documents.fonts import cjk_font

    data = _form_rows(project, row)
    font = cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=24, alignment=TA_CENTER, wordWrap="CJK")
    h2 = ParagraphStyle("h", fontName=font, fontSize=12, leading=18, wordWrap="CJK", spaceBefore=6)
    cell = ParagraphStyle("c", fontName=font, fontSize=9, leading=12, wordWrap="CJK")

    def p(text):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), cell)

    def table(head, rows, widths):
        t = Table([[p(h) for h in head]] + [[p(v) for v in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return t

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=data["title"], author=project.applicant.name)
    story = [Paragraph(escape(data["title"]), title), Spacer(1, 4 * mm),
             table(["", ""], data["head"], [40 * mm, 140 * mm])]
    story += [Paragraph(escape(_("一、活动与证据")), h2),
              table(EVENT_HEAD, data["events"] or [["—"] * 7], [50 * mm, 20 * mm, 36 * mm, 16 * mm, 20 * mm, 18 * mm,
                                                               20 * mm])]
    story += [Paragraph(escape(_("二、任务指标核验")), h2),
              table(TASK_HEAD, data["tasks"] or [["—", "—", "—"]], [50 * mm, 110 * mm, 20 * mm])]
    story += [Paragraph(escape(_("三、验收材料")), h2),
              table(MATERIAL_HEAD, data["materials"] or [["—", "—", "—"]], [55 * mm, 95 * mm, 30 * mm])]
    if data["accounts"]:
        story += [Paragraph(escape(_("四、经费决算（与预算逐项比较）")), h2),
                  table(ACCOUNT_HEAD, data["accounts"], [40 * mm, 50 * mm, 30 * mm, 30 * mm, 30 * mm])]
    story += [Paragraph(escape(_("项目完成情况总结")), h2), p(data["summary"] or "—")]
    for n in data["notes"]:
        story.append(p(n))
    story += [Spacer(1, 6 * mm), table([_("单位意见（盖章）"), _("主办方验收意见")],
                                       [["\n\n\n" + _("负责人签字：　　　　年　月　日"), data["result"] or "\n\n\n"]],
                                       [90 * mm, 90 * mm])]
    doc.build(story)
    return buf.getvalue()


def acceptance_form_docx(project: Project, row: Acceptance | None = None) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    data = _form_rows(project, row)
    d = Document()
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10.5)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    par = d.add_paragraph()
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = par.add_run(data["title"])
    run.font.size, run.font.bold = Pt(16), True

    def table(head, rows):
        t = d.add_table(rows=0, cols=len(head))
        t.style = "Table Grid"
        if any(head):
            for c, h in zip(t.add_row().cells, head, strict=True):
                c.text = h
        for r in rows:
            for c, v in zip(t.add_row().cells, r, strict=True):
                c.text = str(v)

    table(["", ""], data["head"])
    d.add_paragraph(_("一、活动与证据"))
    table(EVENT_HEAD, data["events"] or [["—"] * 7])
    d.add_paragraph(_("二、任务指标核验"))
    table(TASK_HEAD, data["tasks"] or [["—", "—", "—"]])
    d.add_paragraph(_("三、验收材料"))
    table(MATERIAL_HEAD, data["materials"] or [["—", "—", "—"]])
    if data["accounts"]:
        d.add_paragraph(_("四、经费决算（与预算逐项比较）"))
        table(ACCOUNT_HEAD, data["accounts"])
    d.add_paragraph(_("项目完成情况总结"))
    d.add_paragraph(data["summary"] or "—")
    for n in data["notes"]:
        d.add_paragraph(n)
    table([_("单位意见（盖章）"), _("主办方验收意见")], [[_("负责人签字：　　　　年　月　日"), data["result"]]])
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# --- closure: the dossier and the closed-project report --------------------------------------------------


def _safe(name: str) -> str:
    keep = "".join(ch if ch not in '\\/:*?"<>|\n\r\t' else "_" for ch in (name or "").strip())
    return keep[:80] or "file"


def _media_bytes(f) -> bytes | None:
    try:
        with f.open("rb") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def dossier_parts(project: Project):
    """(path in the ZIP, bytes-or-callable) of every document the project has, section by section: the
    application, the contract, the money, the changes, the activities, the evidence, spot checks and the
    acceptance. A part whose stage is not installed is left out (the manifest says what is in)."""
    parts: list[tuple[str, object]] = []
    app = project.application
    if app is not None and app.current_snapshot_id:
        from shenbao.applications import printing

        parts.append(("01-申报书/申报书.pdf", lambda: printing.pdf(app.current_snapshot)))
        for a in app.attachments.all():
            if a.file:
                parts.append((f"01-申报书/附件-{a.pk}-{_safe(a.original_name)}", lambda a=a: _media_bytes(a.file)))
    try:
        from shenbao.projects import contracts
        from shenbao.projects.models import Contract, Payment
    except ImportError:
        contracts = None
    if contracts is not None:
        contract = Contract.objects.filter(project=project).first()
        if contract is not None:
            parts.append(("02-合同/合同.pdf", lambda: contracts.contract_pdf(contract)))
            scan = getattr(contract, "signed_scan", None)
            if scan is not None and getattr(scan, "file", None):
                ext = getattr(scan, "kind", "") or getattr(scan, "file_type", "") or "pdf"
                parts.append((f"02-合同/签章扫描件.{ext}",
                              lambda: _media_bytes(scan.file)))
        pays = list(Payment.objects.filter(project=project).order_by("on", "id"))
        if pays:
            lines = ["日期,类别,金额（元）,凭证号,说明"]
            lines += [f"{x.on},{x.get_kind_display()},{x.amount},{x.reference},{(x.reason or '').replace(',', '，')}"
                      for x in pays]
            parts.append(("03-经费/拨付与追回.csv", "\n".join(lines).encode("utf-8-sig")))
        try:
            from shenbao.projects.models import ChangeRequest

            changes = list(ChangeRequest.objects.filter(project=project).order_by("pk"))
        except ImportError:
            changes = []
        if changes:
            text = "\n\n".join(
                "\n".join(f"{f.verbose_name}：{getattr(c, f.attname)}" for f in c._meta.concrete_fields
                          if f.attname not in ("id", "project_id"))
                for c in changes)
            parts.append(("04-变更/变更申请.txt", text.encode("utf-8")))
    for e in project.events.order_by("starts_on", "id"):
        base = f"05-活动/{e.starts_on}-{_safe(e.title)}"
        info = {"活动名称": e.title, "日期": f"{e.starts_on}—{e.ends_on}", "地点": e.place,
                "状态": e.get_status_display(), "报告专家": e.speakers, "国际性": e.international,
                "境外国家（地区）": e.countries}
        parts.append((f"{base}/活动信息.json", json.dumps(info, ensure_ascii=False, indent=2).encode("utf-8")))
        parts.append((f"{base}/签到表.xlsx", lambda e=e: activities.signin_xlsx(e, masked=True)))
        for ph in e.photos.filter(withdrawn=False):
            parts.append((f"{base}/相片/{_safe(ph.kind)}-{ph.pk}.{ph.file_type}", lambda ph=ph: _media_bytes(ph.file)))
    for n in project.news.all():
        parts.append((f"06-新闻/{n.published_on}-{n.pk}-{_safe(n.title)}.txt",
                      f"{n.title}\n{n.outlet}\n{n.url}\n{n.published_on}\n".encode()))
        if n.screenshot:
            parts.append((f"06-新闻/{n.published_on}-{n.pk}-截图.{n.screenshot_type or 'png'}",
                          lambda n=n: _media_bytes(n.screenshot)))
    for r in project.deliverables.all():
        if r.file:
            parts.append((f"07-阶段性成果/{r.key + 1}-{_safe(r.name)}.{r.file_type}", lambda r=r: _media_bytes(r.file)))
    items = list(SpotCheckItem.objects.filter(project=project).select_related("spot_check"))
    if items:
        text = "\n\n".join(
            f"抽查 {i.spot_check.drawn_at:%Y-%m-%d}（{i.spot_check.get_mode_display()}，种子 {i.spot_check.seed or '—'}）\n"
            f"检查发现：{i.findings}\n处理结果：{i.get_consequence_display()}\n"
            + (f"追回：{i.recovery_amount} 元，原因：{i.recovery_reason}\n" if i.recovery_amount else "")
            for i in items)
        parts.append(("08-抽查/抽查记录.txt", text.encode("utf-8")))
    row = acceptance_of(project)
    parts.append(("09-验收/验收表.pdf", lambda: acceptance_form_pdf(project, row)))
    if row is not None:
        for f in row.files.filter(withdrawn=False):
            parts.append((f"09-验收/材料/{_safe(f.code)}-{f.pk}-{_safe(f.original_name)}", lambda f=f: _media_bytes(f.file)))
        if row.snapshot:
            parts.append(("09-验收/核验结果.json", json.dumps(row.snapshot, ensure_ascii=False, indent=2).encode("utf-8")))
    for d in project.deferrals.all():
        parts.append((f"09-验收/延期申请-{d.pk}.txt",
                      f"申请延期至：{d.until}\n理由：{d.reason}\n状态：{d.get_status_display()}\n意见：{d.decision_note}\n"
                      .encode()))
    return parts


def build_dossier_zip(project: Project, progress=None) -> bytes:
    parts = dossier_parts(project)
    buf = io.BytesIO()
    manifest = [f"项目档案：{project.title}（{project.code or project.pk}）", f"生成时间：{timezone.localtime():%Y-%m-%d %H:%M}", ""]
    seen = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (path, content) in enumerate(parts, 1):
            data = content() if callable(content) else content
            if data is None:
                manifest.append(f"（缺失）{path}")
                continue
            name, n = path, 1
            while name in seen:
                n += 1
                name = f"{path}-{n}"
            seen.add(name)
            z.writestr(name, data)
            manifest.append(f"{name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
            if progress:
                progress(i, len(parts))
        z.writestr("目录.txt", "\n".join(manifest).encode("utf-8"))
    return buf.getvalue()


@task()
@jobs.tracked
def build_dossier(job, *, project_id: int) -> None:
    from django.core.files.base import ContentFile

    project = Project.objects.select_related("call", "project_type", "applicant", "funder").get(pk=project_id)

    def progress(done, total):
        jobs.report(job, done, total, _("已打包 %(n)s / %(t)s 份文件") % {"n": done, "t": total})

    data = build_dossier_zip(project, progress)
    jobs.finish(job, file=ContentFile(data), name=f"项目档案-{_safe(project.code or str(project.pk))}.zip",
                message=_("项目档案已生成"))


def start_dossier(*, user, project: Project):
    require(permissions.can_build_dossier(user, project))
    job = jobs.start(build_dossier, user=user, label=_("项目档案：%(t)s") % {"t": project.title[:80]},
                     project_id=project.pk)
    audit.record(actor=user, action="project.dossier_started", obj=project, after={"job": job.pk})
    return job


def closed_projects(funder, call=None):
    """The funder's closed projects (completed, unfinished, terminated) with their acceptance result."""
    qs = (Project.objects.filter(funder=funder, status__in=CLOSED)
          .select_related("call", "project_type", "applicant").order_by("-completed_on", "-year", "-id"))
    if call is not None:
        qs = qs.filter(call=call)
    rows = []
    results = {a.project_id: a for a in Acceptance.objects.filter(project__in=qs)}
    for p in qs:
        a = results.get(p.pk)
        rows.append({"project": p, "acceptance": a,
                     "result": a.get_status_display() if a else "—",
                     "closed_on": p.completed_on or (a.decided_at.date() if a and a.decided_at else None)})
    return rows
