"""Activities of a project (项目活动): events registered with the checks of R-C4 (naming, countries of an
international event) and the filings of R-P6; the public sign-in page reached by a QR code and its sheet;
photos within the limits of R-P7; news items of R-P9; intermediate deliverables of R-C8 with their daily
reminders. Services take keyword arguments, run in a transaction and audit every change; reads are plain
functions.

    tasks(project) -> list[Task]                   the type's tasks, then the track's (an event names one)
    naming_problems(project, title, task)          R-C4: what the title must carry and does not
    country_problems(project, …)                   R-C4: an international event from too few countries
    filings_for(project, event) -> [FilingDue]     R-P6: what is filed with whom before the event, and done
    event_warnings(event) -> [str]                 all of the above, as shown at registration
    register_event / rename_event / cancel_event / record_filing
    signin_open(event) / sign_in / signin_xlsx     the public sign-in page and its sheet (phones masked)
    event_evidence(project)                        what each event proves, for acceptance
    photo_rules(project) / upload_photo / withdraw_photo
    add_news
    deliverables(project) / deliver / send_deliverable_reminders (daily)
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from shenbao.core import audit, jobs, mail
from shenbao.core.decisions import ALLOW, Decision, deny, require
from shenbao.core.privacy import mask_text
from shenbao.documents import attachments
from shenbao.projects import permissions
from shenbao.projects.models import DeliverableRecord, Event, EventPhoto, Filing, NewsItem, Project, SignIn

# R-C4: an international meeting has participants from at least 3 countries and regions, China counting as
# one, Hong Kong, Macao and Taiwan not counted separately. Used when the project's tasks set no minimum.
INTERNATIONAL_MIN_COUNTRIES = 3
CHINA = "中国"
_CHINA_NAMES = {"中国", "中华人民共和国", "中国大陆", "中国香港", "香港", "中国澳门", "澳门", "中国台湾", "台湾",
                "china", "prc", "hong kong", "hongkong", "macao", "macau", "taiwan"}
# R-P7: 相片…各2张，最多不超过20张 — the photo rules when the call's acceptance names no photo material
DEFAULT_PHOTO_KINDS = [("全景", 2), ("领导发言近景", 2), ("专家报告近景", 2), ("会场花絮", 2)]
DEFAULT_PHOTO_MAX = 20
PHOTO_TYPES = ["jpg", "png"]
SCREENSHOT_TYPES = ["jpg", "png", "pdf"]
DELIVERABLE_TYPES = ["pdf", "jpg", "png", "docx", "doc", "xlsx", "zip", "mp4"]
REMIND_DAYS = 7  # deliverables due and events starting within this many days are reminded each morning


class Refused(Exception):
    """A change refused with a reason the user reads (Chinese); nothing was changed."""

    def __init__(self, message: str, field: str = ""):
        self.message, self.field = message, field
        super().__init__(message)


def _today() -> dt.date:
    return timezone.localdate()


# --- the call's rules for this project -----------------------------------------------------------------


def _ptype_doc(project: Project):
    if project.call_id is None or project.project_type_id is None:
        return None
    try:
        return project.call.document.project_type(project.project_type.code)
    except KeyError:
        return None


def tasks(project: Project) -> list:
    """The project's tasks (schema.Task): its type's, then its track's. An event names one by its index."""
    ptype = _ptype_doc(project)
    if ptype is None:
        return []
    out = list(ptype.tasks)
    if project.track_id:
        out += next((list(t.tasks) for t in ptype.tracks if t.code == project.track.code), [])
    return out


def task_choices(project: Project) -> list[tuple[int, str]]:
    """(index, text) of the tasks an event may fulfil, the naming rule shown first."""
    out = []
    for i, t in enumerate(tasks(project)):
        text = t.text if len(t.text) <= 60 else t.text[:58] + "…"
        if t.naming:
            text = _("须冠“%(names)s”名称：") % {"names": "”“".join(t.naming)} + text
        out.append((i, text))
    return out


def post_award(project: Project):
    ptype = _ptype_doc(project)
    return project.call.document.effective(ptype, "post_award") if ptype is not None else None


def acceptance(project: Project):
    ptype = _ptype_doc(project)
    return project.call.document.effective(ptype, "acceptance") if ptype is not None else None


def naming_problems(project: Project, title: str, task: int = -1) -> list[str]:
    """R-C4: the names the event's title must carry. With a task named: each of its names. Without: the
    title carries none of the names of the project's tasks that set one (it can then count for none)."""
    all_tasks = tasks(project)
    title = title or ""
    if 0 <= task < len(all_tasks):
        missing = [n for n in all_tasks[task].naming if n not in title]
        return [_("活动名称须冠“%(name)s”名称，未冠名的活动不能通过项目验收") % {"name": n} for n in missing]
    names = [n for t in all_tasks for n in t.naming]
    if names and not any(n in title for n in names):
        return [_("活动名称未冠“%(names)s”中的任何一个名称：不能计入须冠名的任务，未冠名的活动不能通过项目验收")
                % {"names": "”“".join(dict.fromkeys(names))}]
    return []


def normalise_country(name: str) -> str:
    """A country as counted by R-C4: Hong Kong, Macao and Taiwan are China."""
    text = re.sub(r"\s+", " ", (name or "").strip())
    return CHINA if text.lower() in _CHINA_NAMES else text


def count_countries(countries: list[str]) -> int:
    """Countries and regions of the participants, China counting as one (the organiser's) and HK/Macao/
    Taiwan not separately."""
    return len({normalise_country(c) for c in countries if (c or "").strip()} | {CHINA})


def min_countries(project: Project, task: int = -1) -> tuple[int, str]:
    """The least number of countries (China included) an international event must reach, and where it
    comes from: the named task's minimum, else any task's, else R-C4's definition of an international
    meeting. A `countries` minimum counts foreign countries only (one more with China)."""
    all_tasks = tasks(project)
    chosen = [all_tasks[task]] if 0 <= task < len(all_tasks) else all_tasks
    for t in chosen:
        if "countries_incl_china" in t.minimums:
            return int(t.minimums["countries_incl_china"]), t.text
        if "countries" in t.minimums:
            return int(t.minimums["countries"]) + 1, t.text
    return INTERNATIONAL_MIN_COUNTRIES, _("国际性会议：与会者来自3个或3个以上国家和地区（不含港澳台）")


def country_problems(project: Project, *, international: bool, countries: list[str], task: int = -1) -> list[str]:
    if not international:
        return []
    need, _source = min_countries(project, task)
    have = count_countries(countries)
    if have < need:
        return [_("国际性活动的与会者须来自%(need)s个或以上国家和地区（中国计为其一，港澳台不单独计），"
                  "现为%(have)s个") % {"need": need, "have": have}]
    return []


@dataclass
class FilingDue:
    key: int
    applies_to: str
    authority: str
    approval: bool
    note: str
    scope: str
    done: Filing | None = None

    @property
    def verb(self) -> str:
        return _("报批") if self.approval else _("备案")

    @property
    def state_label(self) -> str:
        if self.done is not None:
            return _("已报批") if self.approval else _("已备案")
        return _("待报批") if self.approval else _("待备案")


def filings_for(project: Project, event: Event | None) -> list[FilingDue]:
    """R-P6: the filings owed, each authority apart, with the record of each done. For an event: those of
    scope `event`, and `international_event` when it is international; for the project (event None): those
    of scope `project`."""
    pa = post_award(project)
    if pa is None or not pa.filings:
        return []
    if event is None:
        scopes = {"project"}
        done = {(f.key, f.authority): f for f in Filing.objects.filter(project=project, event__isnull=True)}
    else:
        scopes = {"event", "international_event"} if event.international else {"event"}
        done = {(f.key, f.authority): f for f in event.filings.all()}
    out = []
    for i, f in enumerate(pa.filings):
        if f.scope not in scopes:
            continue
        for a in f.authorities:
            out.append(FilingDue(key=i, applies_to=f.applies_to, authority=a, approval=f.approval, note=f.note,
                                 scope=f.scope, done=done.get((i, a))))
    return out


def filing_reminders(project: Project, event: Event | None) -> list[str]:
    return [_("活动前须向%(authority)s%(verb)s：%(what)s") % {"authority": f.authority, "verb": f.verb,
                                                            "what": f.applies_to}
            for f in filings_for(project, event) if f.done is None]


def event_warnings(event: Event) -> list[str]:
    """What the unit is told at registration and on the event page: the naming rule, the countries of an
    international event (R-C4), the filings not yet recorded (R-P6)."""
    project = event.project
    return (naming_problems(project, event.title, event.task)
            + country_problems(project, international=event.international, countries=event.countries,
                               task=event.task)
            + filing_reminders(project, event))


# --- events ---------------------------------------------------------------------------------------------


def _clean_speakers(speakers) -> list[dict]:
    out = []
    for s in speakers or []:
        if isinstance(s, str):
            name, _sep, topic = s.partition("：") if "：" in s else s.partition(":")
            s = {"name": name, "topic": topic}
        row = {k: str((s or {}).get(k, "") or "").strip()[:200] for k in ("name", "organisation", "topic")}
        if row["name"] or row["topic"]:
            out.append(row)
    return out


def _clean_countries(countries) -> list[str]:
    if isinstance(countries, str):
        countries = re.split(r"[,，、;；\n]+", countries)
    seen: dict[str, None] = {}
    for c in countries or []:
        c = re.sub(r"\s+", " ", str(c or "").strip())[:50]
        if c:
            seen.setdefault(c)
    return list(seen)


def _check_event_fields(project, *, title, starts_on, ends_on, place, expected_participants, task) -> dict:
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("请填写活动名称")
    elif len(title.strip()) > 200:
        errors["title"] = _("活动名称不能超过200字")
    if starts_on is None:
        errors["starts_on"] = _("请填写开始日期")
    if ends_on is None:
        ends_on = starts_on
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期")
    if not (place or "").strip():
        errors["place"] = _("请填写活动地点")
    if expected_participants is None or expected_participants < 1:
        errors["expected_participants"] = _("请填写预计参加人数（正整数）")
    if task != -1 and not (0 <= task < len(tasks(project))):
        errors["task"] = _("没有这项任务")
    return errors


class EventInvalid(Exception):
    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@transaction.atomic
def register_event(*, user, project: Project, title: str, starts_on: dt.date, ends_on: dt.date | None = None,
                   place: str, expected_participants: int, speakers=None, international: bool = False,
                   countries=None, task: int = -1, ip: str | None = None) -> tuple[Event, list[str]]:
    """登记活动. The warnings of R-C4 and R-P6 are returned (and shown), not refused: the unit may rename the
    event or record its filings later; acceptance counts only what passes."""
    require(permissions.can_manage_activities(user, project))
    task = -1 if task is None else int(task)
    errors = _check_event_fields(project, title=title, starts_on=starts_on, ends_on=ends_on, place=place,
                                 expected_participants=expected_participants, task=task)
    if errors:
        raise EventInvalid(errors)
    countries = _clean_countries(countries) if international else []
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if Event.objects.filter(project=project, title=title.strip(), starts_on=starts_on,
                            status=Event.Status.REGISTERED).exists():  # a double submit registers one event
        raise EventInvalid({"title": _("该活动（同名、同一天）已登记")})
    event = Event.objects.create(
        project=project, title=title.strip(), task=task, starts_on=starts_on, ends_on=ends_on or starts_on,
        place=place.strip()[:200], expected_participants=expected_participants,
        speakers=_clean_speakers(speakers), international=bool(international), countries=countries,
        signin_token=secrets.token_urlsafe(24), created_by=user)
    warnings = event_warnings(event)
    audit.record(actor=user, action="project.event_registered", obj=event, ip=ip,
                 after={"project": project.pk, "title": event.title, "starts_on": starts_on, "ends_on": event.ends_on,
                        "international": event.international, "countries": countries, "task": task,
                        "warnings": warnings})
    return event, warnings


@transaction.atomic
def rename_event(*, user, event: Event, title: str, task: int = -1, ip: str | None = None) -> tuple[Event, list[str]]:
    """改名 (or name the task it fulfils) after a naming warning; the new warnings are returned."""
    require(permissions.can_manage_activities(user, event.project))
    event = Event.objects.select_for_update().select_related("project").get(pk=event.pk)
    task = -1 if task is None else int(task)
    title = (title or "").strip()
    errors = _check_event_fields(event.project, title=title, starts_on=event.starts_on, ends_on=event.ends_on,
                                 place=event.place, expected_participants=event.expected_participants, task=task)
    if errors:
        raise EventInvalid(errors)
    if event.status != Event.Status.REGISTERED:
        raise Refused(_("该活动已取消，不能修改"))
    before = {"title": event.title, "task": event.task}
    event.title, event.task = title, task
    event.save(update_fields=["title", "task", "updated_at"])
    warnings = event_warnings(event)
    audit.record(actor=user, action="project.event_renamed", obj=event, ip=ip, before=before,
                 after={"title": title, "task": task, "warnings": warnings})
    return event, warnings


def cancel_event(*, user, event: Event, reason: str, ip: str | None = None) -> Event:
    """取消活动: kept with its sign-ins and photos; its sign-in page closes."""
    from shenbao.projects.workflow import EVENT

    if not (reason or "").strip():
        raise Refused(_("请说明取消的原因"), "reason")
    return EVENT.perform(user=user, obj=event, action="cancel", note=reason.strip()[:300])


@transaction.atomic
def record_filing(*, user, project: Project, event: Event | None, key: int, authority: str,
                  filed_on: dt.date | None, reference: str = "", note: str = "", ip: str | None = None) -> Filing:
    """R-P6: record a filing as done (date, reference). Again for the same filing and authority: refused."""
    require(permissions.can_manage_activities(user, project))
    Project.objects.select_for_update().filter(pk=project.pk).first()  # one record per filing, even when raced
    due = next((f for f in filings_for(project, event) if f.key == key and f.authority == authority), None)
    if due is None:
        raise Refused(_("该项目（活动）没有这项备案事项"), "key")
    if due.done is not None:
        raise Refused(_("已登记向%(authority)s%(verb)s（%(day)s）") % {
            "authority": authority, "verb": due.verb, "day": due.done.filed_on.isoformat()}, "key")
    if filed_on is None:
        raise Refused(_("请填写备案日期"), "filed_on")
    if filed_on > _today():
        raise Refused(_("备案日期不能晚于今天"), "filed_on")
    row = Filing.objects.create(project=project, event=event, key=key, applies_to=due.applies_to[:300],
                                authority=authority, approval=due.approval, filed_on=filed_on,
                                reference=(reference or "").strip()[:100], note=(note or "").strip()[:300],
                                recorded_by=user)
    late = event is not None and filed_on >= event.starts_on
    audit.record(actor=user, action="project.filing_recorded", obj=event or project, ip=ip,
                 after={"filing": row.pk, "applies_to": row.applies_to, "authority": authority,
                        "filed_on": filed_on, "reference": row.reference, "not_before_event": late})
    return row


# --- sign-in -------------------------------------------------------------------------------------------


def signin_open(event: Event, now: dt.datetime | None = None) -> Decision:
    """The public sign-in page takes sign-ins from the first day of the event to the end of its last day
    (local time); a cancelled event takes none."""
    day = timezone.localdate(now) if now else _today()
    if event.status == Event.Status.CANCELLED:
        return deny(_("该活动已取消，不能签到"))
    if day < event.starts_on:
        return deny(_("签到将于 %(day)s 活动当天开放") % {"day": event.starts_on.isoformat()})
    if day > event.ends_on:
        return deny(_("活动已结束，签到已关闭"))
    return ALLOW


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ANY_PHONE = re.compile(r"^\+?\d{6,20}$")


def normalise_phone(phone: str) -> str:
    text = re.sub(r"[\s\-－()（）]", "", str(phone or ""))
    if text.startswith("+86") and _MOBILE.match(text[3:]):
        return text[3:]
    return text


class SignInRefused(Refused):
    pass


def sign_in(*, event: Event, name: str, organisation: str, phone: str, country: str = "",
            ip: str | None = None, now: dt.datetime | None = None) -> SignIn:
    """签到 from the public page: name, organisation, phone (and country at an international event). One
    sign-in per phone number; a second is refused with a message, whatever the timing."""
    open_ = signin_open(event, now)
    if not open_:
        raise SignInRefused(open_.reason)
    name, organisation = (name or "").strip(), (organisation or "").strip()
    phone = normalise_phone(phone)
    country = re.sub(r"\s+", " ", (country or "").strip())
    if not name:
        raise SignInRefused(_("请填写姓名"), "name")
    if len(name) > 50:
        raise SignInRefused(_("姓名不能超过50字"), "name")
    if not organisation:
        raise SignInRefused(_("请填写工作单位"), "organisation")
    if len(organisation) > 100:
        raise SignInRefused(_("工作单位不能超过100字"), "organisation")
    if event.international:
        if not _ANY_PHONE.match(phone):
            raise SignInRefused(_("请填写有效的电话号码（可带国际区号，如 +84…）"), "phone")
        if not country:
            raise SignInRefused(_("请填写您所属的国家（地区）"), "country")
        if len(country) > 50:
            raise SignInRefused(_("国家（地区）不能超过50字"), "country")
    else:
        country = ""
        if not _MOBILE.match(phone):
            raise SignInRefused(_("请填写11位手机号码"), "phone")
    duplicate = SignInRefused(_("该手机号码已签到，无需重复签到"), "phone")
    if SignIn.objects.filter(event=event, phone=phone).exists():
        raise duplicate
    try:
        with transaction.atomic():
            row = SignIn.objects.create(event=event, name=name, organisation=organisation, phone=phone,
                                        country=country, ip=ip)
            audit.record(action="project.signed_in", obj=event, actor_name="signin", ip=ip,
                         after={"signin": row.pk, "name": name, "organisation": organisation, "phone": phone,
                                "country": country})
    except IntegrityError:  # the same phone at the same moment: the unique constraint decides
        raise duplicate from None
    return row


def signin_counts(event: Event) -> dict:
    rows = list(event.signins.values_list("country", flat=True))
    return {"participants": len(rows),
            "countries_incl_china": count_countries(rows) if event.international else 1,
            "countries": (count_countries(rows) - 1) if event.international else 0}


def signin_rows(event: Event, *, masked: bool) -> list[dict]:
    out = []
    for i, s in enumerate(event.signins.order_by("created_at", "id"), 1):
        out.append({"n": i, "name": s.name, "organisation": s.organisation,
                    "phone": mask_text(s.phone) if masked else s.phone, "country": s.country,
                    "at": timezone.localtime(s.created_at)})
    return out


def signin_xlsx(event: Event, *, masked: bool) -> bytes:
    """签到表 as XLSX: one row per participant; phones masked unless the reader needs them."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws.append([f"{event.title}　签到表"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"{event.starts_on.isoformat()}" + (f" 至 {event.ends_on.isoformat()}" if event.ends_on != event.starts_on
                                                   else "") + f"　{event.place}"])
    head = ["序号", "姓名", "工作单位", "手机号码"] + (["国家（地区）"] if event.international else []) + ["签到时间"]
    ws.append(head)
    for c in ws[3]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center")
    for r in signin_rows(event, masked=masked):
        ws.append([r["n"], r["name"], r["organisation"], r["phone"]]
                  + ([r["country"]] if event.international else []) + [r["at"].strftime("%Y-%m-%d %H:%M")])
    for col, width in zip("ABCDEF", [6, 12, 30, 16, 14 if event.international else 18, 18], strict=False):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- what acceptance reads ---------------------------------------------------------------------------------


def event_evidence(project: Project, today: dt.date | None = None) -> list[dict]:
    """For acceptance (R-P7, R-C4): each registered event with what it proves — held or not, the task it
    fulfils, its sign-in counts, whether its title meets the naming rule and, if international, the
    countries; its photos, news and the filings not recorded. The acceptance stage checks these against the
    type's minimums."""
    today = today or _today()
    out = []
    events = (project.events.filter(status=Event.Status.REGISTERED).order_by("starts_on", "id")
              .prefetch_related("filings", "signins", "news"))
    photos: dict[int, dict[str, int]] = {}
    for event_id, kind in EventPhoto.objects.filter(event__project=project, withdrawn=False).values_list(
            "event_id", "kind"):
        photos.setdefault(event_id, {}).setdefault(kind, 0)
        photos[event_id][kind] += 1
    for e in events:
        countries = [s.country for s in e.signins.all()]
        out.append({
            "event": e, "held": e.starts_on <= today, "task": e.task, "participants": len(countries),
            "countries_incl_china": count_countries(countries) if e.international else 1,
            "naming_ok": not naming_problems(project, e.title, e.task),
            "countries_ok": not country_problems(project, international=e.international,
                                                 countries=countries or e.countries, task=e.task),
            "photos": photos.get(e.pk, {}), "news": len(e.news.all()),
            "filings_pending": [f"{f.authority}：{f.applies_to}" for f in filings_for(project, e) if f.done is None],
        })
    return out


# --- photos (R-P7) ---------------------------------------------------------------------------------------


@dataclass
class PhotoRules:
    kinds: list[tuple[str, int]]
    max_count: int | None
    min_count: int | None
    per_event: bool
    source: str  # the material's name, or the platform's default
    counts: dict = field(default_factory=dict)


def photo_rules(project: Project) -> PhotoRules:
    """The photo material of the type's acceptance (code `photos`, or the first with kinds): its kinds with
    their least counts, the most photos, whether per event; else the platform's default of R-P7."""
    acc = acceptance(project)
    materials = [m for m in (acc.materials if acc else []) if not m.tracks or
                 (project.track_id and project.track.code in m.tracks)]
    m = next((m for m in materials if m.code == "photos"), None) or next((m for m in materials if m.kinds), None)
    if m is None:
        return PhotoRules(DEFAULT_PHOTO_KINDS, DEFAULT_PHOTO_MAX, None, False, _("平台默认（R-P7）"))
    kinds = [(k.name, k.min) for k in m.kinds] or DEFAULT_PHOTO_KINDS
    return PhotoRules(kinds, m.max_count, m.min_count, m.per_event, m.name)


def _photo_max_bytes() -> int:
    return int(getattr(settings, "SHENBAO_PHOTO_MAX_MB", 10)) * 1024 * 1024


def photos_counted(project: Project, event: Event | None, rules: PhotoRules):
    qs = EventPhoto.objects.filter(event__project=project, withdrawn=False)
    return qs.filter(event=event) if rules.per_event and event is not None else qs


def photo_status(project: Project, event: Event | None = None) -> dict:
    """Per kind: how many, the least asked; in all: how many of at most how many (R-P7)."""
    rules = photo_rules(project)
    qs = photos_counted(project, event, rules)
    by_kind: dict[str, int] = {}
    for k in qs.values_list("kind", flat=True):
        by_kind[k] = by_kind.get(k, 0) + 1
    return {"rules": rules, "total": sum(by_kind.values()),
            "kinds": [{"name": n, "min": m, "count": by_kind.get(n, 0), "ok": by_kind.get(n, 0) >= m}
                      for n, m in rules.kinds]}


def upload_photo(*, user, event: Event, kind: str, upload, caption: str = "", ip: str | None = None) -> EventPhoto:
    """R-P7: a photo of one of the material's kinds, a JPG or PNG within the size and pixel limits, no more
    than the material's most (per project, or per event where the call says so)."""
    project = event.project
    require(permissions.can_manage_activities(user, project))
    rules = photo_rules(project)
    if kind not in [n for n, _m in rules.kinds]:
        raise Refused(_("相片类别须为：%(kinds)s") % {"kinds": "、".join(n for n, _m in rules.kinds)}, "kind")
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()
        if rules.max_count is not None and photos_counted(project, event, rules).count() >= rules.max_count:
            where = _("本次活动") if rules.per_event else _("本项目")
            raise Refused(_("%(where)s的相片已有 %(n)s 张，最多不超过 %(max)s 张（%(source)s）")
                          % {"where": where, "n": rules.max_count, "max": rules.max_count, "source": rules.source},
                          "file")
    try:
        kept = attachments.keep(upload, accept=PHOTO_TYPES, max_bytes=_photo_max_bytes(), label=_("活动相片"))
    except attachments.FileRefused as exc:
        audit.record(actor=user, action="project.photo_refused", obj=event, ip=ip, note=exc.message,
                     after={"code": exc.code})
        raise Refused(exc.message, "file") from None
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()
        if rules.max_count is not None and photos_counted(project, event, rules).count() >= rules.max_count:
            raise Refused(_("相片已达上限 %(max)s 张") % {"max": rules.max_count}, "file")
        photo = EventPhoto.objects.create(
            event=event, kind=kind, caption=(caption or "").strip()[:200], file=kept["file"],
            original_name=kept["original_name"], file_type=kept["type"], content_type=kept["content_type"],
            size=kept["size"], sha256=kept["sha256"], uploaded_by=user)
        audit.record(actor=user, action="project.photo_uploaded", obj=event, ip=ip,
                     after={"photo": photo.pk, "kind": kind, "sha256": kept["sha256"], "size": kept["size"],
                            "type": kept["type"], "name": photo.original_name})
    return photo


@transaction.atomic
def withdraw_photo(*, user, photo: EventPhoto, ip: str | None = None) -> EventPhoto:
    """撤下 a photo: no longer counted nor shown; the file and its record stay."""
    require(permissions.can_manage_activities(user, photo.event.project))
    photo = EventPhoto.objects.select_for_update().get(pk=photo.pk)
    if not photo.withdrawn:
        photo.withdrawn = True
        photo.save(update_fields=["withdrawn"])
        audit.record(actor=user, action="project.photo_withdrawn", obj=photo.event, ip=ip,
                     before={"photo": photo.pk, "withdrawn": False}, after={"photo": photo.pk, "withdrawn": True})
    return photo


# --- news (R-P9) ----------------------------------------------------------------------------------------


def news_outlets(project: Project) -> list[str]:
    pa = post_award(project)
    return list(pa.news or []) if pa else []


def add_news(*, user, project: Project, title: str, outlet: str, url: str, published_on: dt.date | None,
             screenshot=None, event: Event | None = None, ip: str | None = None) -> NewsItem:
    """R-P9: a news item about an activity, sent to the funder's site or public account: its link and a
    screenshot (JPG, PNG or PDF)."""
    require(permissions.can_manage_activities(user, project))
    title, outlet, url = (title or "").strip(), (outlet or "").strip(), (url or "").strip()
    if not title:
        raise Refused(_("请填写新闻标题"), "title")
    if not outlet:
        raise Refused(_("请填写刊登平台（如%(example)s）") % {
            "example": "、".join(news_outlets(project)) or _("主办方网站、公众号")}, "outlet")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise Refused(_("请填写以 http:// 或 https:// 开头的新闻链接"), "url") from None
    if published_on is None:
        raise Refused(_("请填写刊登日期"), "published_on")
    if published_on > _today():
        raise Refused(_("刊登日期不能晚于今天"), "published_on")
    if event is not None and event.project_id != project.pk:
        raise Refused(_("该活动不属于本项目"), "event")
    if screenshot is None:
        raise Refused(_("请上传新闻截图"), "screenshot")
    try:
        kept = attachments.keep(screenshot, accept=SCREENSHOT_TYPES, max_bytes=_photo_max_bytes(),
                                label=_("新闻截图"))
    except attachments.FileRefused as exc:
        raise Refused(exc.message, "screenshot") from None
    with transaction.atomic():
        item = NewsItem.objects.create(project=project, event=event, title=title[:200], outlet=outlet[:100],
                                       url=url[:500], published_on=published_on, screenshot=kept["file"],
                                       screenshot_sha256=kept["sha256"], screenshot_type=kept["type"],
                                       created_by=user)
        audit.record(actor=user, action="project.news_added", obj=project, ip=ip,
                     after={"news": item.pk, "title": item.title, "outlet": item.outlet, "url": item.url,
                            "event": event.pk if event else None, "screenshot": kept["sha256"]})
    return item


# --- deliverables (R-C8) ----------------------------------------------------------------------------------


def _ensure_deliverables(project: Project) -> None:
    ptype = _ptype_doc(project)
    if ptype is None or not ptype.deliverables:
        return
    have = set(project.deliverables.values_list("key", flat=True))
    for i, d in enumerate(ptype.deliverables):
        if i not in have:
            try:
                with transaction.atomic():
                    DeliverableRecord.objects.create(project=project, key=i, name=d.name[:200], due=d.due,
                                                     hard=d.hard)
            except IntegrityError:
                pass  # made by another request at the same moment


@dataclass
class DeliverableState:
    record: DeliverableRecord
    spec: object | None
    state: str  # on_time, late, overdue, due
    label: str
    completed: bool
    days_left: int | None = None


def deliverable_state(record: DeliverableRecord, spec=None, today: dt.date | None = None) -> DeliverableState:
    """R-C8: delivered by the due date → completed; delivered after it, or not delivered once it is past
    → late, which means not completed (该任务不能延期，逾期不报送视为没有按时完成项目)."""
    today = today or _today()
    if record.status == DeliverableRecord.Status.DELIVERED:
        if record.delivered_on and record.delivered_on <= record.due:
            return DeliverableState(record, spec, "on_time", _("按时交付"), True)
        return DeliverableState(record, spec, "late", _("逾期交付，视为未完成"), not record.hard)
    if today > record.due:
        return DeliverableState(record, spec, "overdue", _("逾期未交付，视为未完成"), False)
    return DeliverableState(record, spec, "due", _("待交付（还有 %(n)s 天）") % {"n": (record.due - today).days},
                            False, (record.due - today).days)


def deliverables(project: Project, today: dt.date | None = None) -> list[DeliverableState]:
    """The type's deliverables of this project with their state (rows made the first time they are read)."""
    _ensure_deliverables(project)
    ptype = _ptype_doc(project)
    specs = list(ptype.deliverables) if ptype else []
    return [deliverable_state(r, specs[r.key] if r.key < len(specs) else None, today)
            for r in project.deliverables.order_by("due", "key")]


def deliverables_completed(project: Project, today: dt.date | None = None) -> tuple[bool, list[str]]:
    """For acceptance: are all hard deliverables completed, and the reason for each that is not."""
    problems = [f"{s.record.name}：{s.label}（{_('截止')} {s.record.due.isoformat()}）"
                for s in deliverables(project, today) if not s.completed and s.record.hard]
    return not problems, problems


def deliver(*, user, record: DeliverableRecord, upload=None, link: str = "", seconds: int | None = None,
            note: str = "", ip: str | None = None, today: dt.date | None = None) -> DeliverableState:
    """Mark a deliverable delivered today with its file (or link). After its due date it is recorded but
    stays late, i.e. not completed (R-C8). Delivering again is refused."""
    from shenbao.projects.workflow import DELIVERABLE

    record = DeliverableRecord.objects.select_related("project__call", "project__project_type").get(pk=record.pk)
    project = record.project
    require(permissions.can_manage_activities(user, project))
    today = today or _today()
    ptype = _ptype_doc(project)
    spec = ptype.deliverables[record.key] if ptype and record.key < len(ptype.deliverables) else None
    decision = DELIVERABLE.can(user, record, "deliver")
    if not decision:
        raise Refused(_("该成果已交付") if record.status == DeliverableRecord.Status.DELIVERED else decision.reason)
    link = (link or "").strip()
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            raise Refused(_("请填写以 http:// 或 https:// 开头的链接"), "link") from None
    if upload is None and not link:
        raise Refused(_("请上传成果文件或填写链接"), "file")
    if spec is not None and (spec.min_seconds or spec.max_seconds):
        if seconds is None:
            raise Refused(_("请填写视频时长（秒）"), "seconds")
        if (spec.min_seconds and seconds < spec.min_seconds) or (spec.max_seconds and seconds > spec.max_seconds):
            raise Refused(_("视频时长须为 %(lo)s–%(hi)s 秒") % {"lo": spec.min_seconds or 0,
                                                           "hi": spec.max_seconds or "∞"}, "seconds")
    kept = None
    if upload is not None:
        try:
            kept = attachments.keep(upload, accept=DELIVERABLE_TYPES, max_bytes=attachments_limit(),
                                    label=record.name)
        except attachments.FileRefused as exc:
            raise Refused(exc.message, "file") from None
    fields = {"delivered_on": today, "seconds": seconds, "link": link[:500], "note": (note or "").strip()[:300],
              "delivered_by": user}
    if kept:
        fields |= {"file": kept["file"], "original_name": kept["original_name"], "file_type": kept["type"],
                   "sha256": kept["sha256"], "size": kept["size"]}
    with transaction.atomic():
        locked = DeliverableRecord.objects.select_for_update().get(pk=record.pk)
        if locked.status != DeliverableRecord.Status.PENDING:  # delivered meanwhile (a double submit)
            raise Refused(_("该成果已交付"))
        for k, v in fields.items():
            setattr(locked, k, v)
        locked.save(update_fields=[k for k in fields])
        state = deliverable_state(locked, spec, today)
        DELIVERABLE.perform(user=user, obj=locked, action="deliver",
                            extra_after={"delivered_on": today, "late": state.state == "late",
                                         "sha256": kept["sha256"] if kept else "", "link": locked.link})
    locked.refresh_from_db()
    return deliverable_state(locked, spec, today)


def attachments_limit() -> int:
    from shenbao.documents.uploads import DEFAULT_MAX_UPLOAD_BYTES

    return int(getattr(settings, "SHENBAO_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _unit_addresses(org_id: int) -> list[str]:
    from shenbao.applications.notify import _addresses
    from shenbao.orgs.models import Role

    return _addresses(org_id, [Role.APPLICANT_CLERK, Role.UNIT_HEAD])


def reminders_for(project: Project, today: dt.date) -> list[str]:
    """What a unit is reminded of this morning for one project: deliverables due within REMIND_DAYS or
    overdue and not delivered (R-C8); filings not recorded for events starting within REMIND_DAYS (R-P6)."""
    lines = []
    for s in deliverables(project, today):
        if s.state == "due" and s.days_left is not None and s.days_left <= REMIND_DAYS:
            lines.append(_("《%(p)s》阶段性成果“%(name)s”须于 %(due)s 前交付（还有 %(n)s 天）；该任务不能延期，逾期视为未完成")
                         % {"p": project.title, "name": s.record.name, "due": s.record.due.isoformat(),
                            "n": s.days_left})
    horizon = today + dt.timedelta(days=REMIND_DAYS)
    for event in project.events.filter(status=Event.Status.REGISTERED, starts_on__gte=today,
                                       starts_on__lte=horizon).prefetch_related("filings"):
        for line in filing_reminders(project, event):
            lines.append(_("《%(p)s》活动“%(e)s”（%(day)s）：%(line)s") % {
                "p": project.title, "e": event.title, "day": event.starts_on.isoformat(), "line": line})
    return lines


@task()
def send_deliverable_reminders(day: str | None = None) -> int:
    """Daily (core/daily.py, `shenbao daily`): mail each unit with projects under way what is due: their
    deliverables due within a week (R-C8) and the filings of events of the coming week not yet recorded
    (R-P6). One mail per unit and day, even if the task runs twice."""
    today = dt.date.fromisoformat(day) if day else _today()
    by_unit: dict[int, list[str]] = {}
    projects = (Project.objects.filter(status__in=[Project.Status.ACTIVE, Project.Status.DEFERRED],
                                       call__isnull=False)
                .select_related("call", "project_type", "track").order_by("applicant_id", "id"))
    for project in projects:
        lines = reminders_for(project, today)
        if lines:
            by_unit.setdefault(project.applicant_id, []).extend(lines)
    sent = 0
    for unit_id, lines in by_unit.items():
        to = _unit_addresses(unit_id)
        if not to:
            continue
        with transaction.atomic():
            if not jobs.once(f"project-reminder:{today.isoformat()}:{unit_id}"):
                continue
            mail.send(subject="【项目提醒】阶段性成果与活动备案",
                      body="\n".join(lines) + "\n请登录平台“我的项目”办理。", to=to)
            audit.record(action="project.remind", actor_name="daily",
                         after={"day": today.isoformat(), "unit": unit_id, "lines": lines})
            sent += 1
    return sent
