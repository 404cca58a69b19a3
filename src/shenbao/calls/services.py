"""Loading calls and the catalogue from their YAML; publishing. Every change writes an audit event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext

from shenbao.calls import schema
from shenbao.calls.models import Call, Measure, ProjectType, Track
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed, require
from shenbao.orgs import catalogue
from shenbao.orgs.models import Category, Organisation


class CallInUseError(ValueError):
    """A reload that would invalidate existing applications; `problems` says which and why."""

    def __init__(self, filename: str, problems: list[str]):
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(f"{filename}: {p}" for p in problems))


@dataclass
class LoadResult:
    call: Call | None
    created: bool = False
    changed: bool = False
    categories: int = 0
    messages: list[str] = field(default_factory=list)


# --- catalogue (loaded by orgs/catalogue.py; the calls app keeps its task measures) ----------------------


def _measures_state() -> dict:
    return {m.key: {"name": m.name, "name_en": m.name_en, "unit": m.unit} for m in Measure.objects.all()}


def _sync_measures(doc) -> None:
    for m in doc.measures:
        Measure.objects.update_or_create(key=m.key, defaults={"name": m.name, "name_en": m.name_en, "unit": m.unit})


MEASURES = catalogue.Section("measures", _measures_state, _sync_measures)  # registered in CallsConfig.ready


def load_catalogue(*, text: str, filename: str, actor=None) -> LoadResult:
    """The catalogue file through the orgs stage's loader (it owns the catalogue)."""
    result = catalogue.load_catalogue(text=text, filename=filename, actor=actor)
    return LoadResult(call=None, changed=result.changed, categories=result.categories)


def catalogue_problems(doc: schema.Call) -> list[tuple[str, str]]:
    """A call file may only use the platform's catalogue: a category or measure it repeats must be the
    catalogue's own, word for word; one the catalogue lacks or defines otherwise refuses the file (a funder
    could otherwise make 企业 a kind of 市级学会, or 财政部门 registrable, for every call)."""
    state = catalogue.catalogue_state()
    problems: list[tuple[str, str]] = []
    labels = {"name": gettext("名称"), "name_en": gettext("英文名称"), "parent": gettext("上级类别"),
              "is_association": gettext("是否科协"), "level": gettext("级别"), "applicant": gettext("可注册为申报单位"),
              "unit": gettext("单位")}
    for i, c in enumerate(doc.categories):
        known = state["categories"].get(c.code)
        if known is None:
            problems.append((f"categories[{i}]", gettext(
                "类别 %(code)s（%(name)s）不在平台的单位类别目录中：通知文件只能使用目录中已有的类别，"
                "新增类别须由系统管理员在目录中添加") % {"code": c.code, "name": c.name}))
            continue
        mine = {"name": c.name, "name_en": c.name_en, "parent": c.parent, "is_association": c.is_association,
                "level": c.level, "applicant": c.applicant}
        changed = [k for k in mine if mine[k] != known[k]]
        if changed:
            problems.append((f"categories[{i}]", gettext(
                "类别 %(code)s（%(name)s）与平台目录中的定义不同（%(what)s）：通知文件不能修改单位类别目录，"
                "请删去此项或与目录一致；修改目录须由系统管理员办理")
                % {"code": c.code, "name": known["name"],
                   "what": "；".join(f"{labels[k]}：{_shown(known[k])} → {_shown(mine[k])}" for k in changed)}))
    for i, m in enumerate(doc.measures):
        known = state["measures"].get(m.key)
        if known is None:
            problems.append((f"measures[{i}]", gettext(
                "任务指标 %(key)s（%(name)s）不在平台目录中：通知文件只能使用目录中已有的指标，"
                "新增指标须由系统管理员在目录中添加") % {"key": m.key, "name": m.name}))
            continue
        mine = {"name": m.name, "name_en": m.name_en, "unit": m.unit}
        changed = [k for k in mine if mine[k] != known[k]]
        if changed:
            problems.append((f"measures[{i}]", gettext(
                "任务指标 %(key)s（%(name)s）与平台目录中的定义不同（%(what)s）：通知文件不能修改目录，"
                "请删去此项或与目录一致") % {"key": m.key, "name": known["name"],
                                       "what": "；".join(f"{labels[k]}：{_shown(known[k])} → {_shown(mine[k])}"
                                                        for k in changed)}))
    return problems


def _shown(value) -> str:
    if value is None or value == "":
        return gettext("无")
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    return str(value)


# --- calls --------------------------------------------------------------------------------------------


def _hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# Hook: what points to a call's project types and tracks. `calls` cannot import the stages after it, so
# each of them that keeps rows pointing to a type or track adds a counter here in its AppConfig.ready
# (applications does: `ApplicationsConfig.ready`). A counter is called with exactly one of
# `project_type=` or `track=` and returns how many of its rows point there.
USAGE_COUNTERS: list = []


def _uses(**row) -> int:
    """How many rows of later stages point to `row` (project_type=... or track=...)."""
    return sum(count(**row) for count in USAGE_COUNTERS)


def _in_use_problems(call: Call, new: schema.Call) -> list[str]:
    """What in `new` would invalidate applications already made under `call` (counted by USAGE_COUNTERS)."""
    problems: list[str] = []
    old = call.document
    new_types = {t.code: t for t in new.project_types}
    for ptype in call.types.filter(retired=False):
        n_apps = _uses(project_type=ptype)
        if not n_apps:
            continue
        new_t = new_types.get(ptype.code)
        if new_t is None:
            problems.append(gettext("项目类型 %(type)s（%(name)s）已有 %(n)s 份申报，不能删除")
                            % {"type": ptype.code, "name": ptype.name, "n": n_apps})
            continue
        new_tracks = {t.code for t in new_t.tracks}
        for track in ptype.tracks.filter(retired=False):
            used = _uses(track=track)
            if used and track.code not in new_tracks:
                problems.append(gettext("项目类型 %(type)s 的申报类型 %(track)s（%(name)s）已有 %(n)s 份申报，不能删除")
                                % {"type": ptype.code, "track": track.code, "name": track.name, "n": used})
        old_form, new_form = old.form_of(ptype.code), new.form_for(new_t)
        if old_form and new_form is None:
            problems.append(gettext("项目类型 %(type)s 已有 %(n)s 份申报，不能去掉它的申报表 %(form)s")
                            % {"type": ptype.code, "n": n_apps, "form": old_form.code})
        elif old_form and new_form:
            if old_form.code != new_form.code:
                problems.append(
                    gettext("项目类型 %(type)s 已有 %(n)s 份申报，不能把申报表从 %(old)s 换成 %(new)s")
                    % {"type": ptype.code, "n": n_apps, "old": old_form.code, "new": new_form.code}
                )
            old_kinds, new_kinds = old_form.field_kinds(), new_form.field_kinds()
            for key, kind in old_kinds.items():
                if key not in new_kinds:
                    problems.append(gettext("申报表 %(form)s 的字段 %(field)s 已有 %(n)s 份申报在用，不能删除")
                                    % {"form": old_form.code, "field": key, "n": n_apps})
                elif new_kinds[key] != kind:
                    problems.append(
                        gettext("申报表 %(form)s 的字段 %(field)s 已有 %(n)s 份申报在用，不能把类型从 %(old)s 改为 %(new)s")
                        % {"form": old_form.code, "field": key, "n": n_apps, "old": kind, "new": new_kinds[key]}
                    )
    return problems


def _issuer(doc: schema.Call) -> Organisation:
    org = Organisation.objects.filter(name=doc.issuer.name).first()
    if org is None:
        org = Organisation.objects.create(
            name=doc.issuer.name, short_name=doc.issuer.short_name,
            category=Category.objects.get(code=doc.issuer.category), region=doc.issuer.region,
        )
    return org


def _sync_types(call: Call, doc: schema.Call) -> None:
    keep = set()
    for order, t in enumerate(doc.project_types):
        funding = t.funding
        ptype, _ = ProjectType.objects.update_or_create(
            call=call, code=t.code,
            defaults={
                "name": t.name, "group": t.group, "kind": t.kind, "order": order,
                "quota_text": t.quota.text() if t.quota else "；".join(
                    f"{tr.name}{tr.quota.text()}" for tr in t.tracks if tr.quota and tr.quota.stated),
                "funding_text": funding.text() if funding else "；".join(
                    f"{tr.name}{tr.funding.text()}" for tr in t.tracks if tr.funding),
                "cap": funding.cap if funding else None,
                "form_code": t.form or "", "retired": False, "own_deadline": doc.own_deadline(t),
            },
        )
        keep.add(ptype.pk)
        keep_tracks = set()
        for torder, tr in enumerate(t.tracks):
            f = tr.funding or funding
            q = tr.quota
            track, _ = Track.objects.update_or_create(
                project_type=ptype, code=tr.code,
                defaults={"name": tr.name, "order": torder, "quota_text": q.text() if q else "",
                          "funding_text": f.text() if f else "", "cap": f.cap if f else None, "retired": False},
            )
            keep_tracks.add(track.pk)
        _retire(ptype.tracks.exclude(pk__in=keep_tracks), "track")
    _retire(call.types.exclude(pk__in=keep), "project_type")


def _retire(queryset, fk: str) -> None:
    """Drop rows no longer in the file; rows that applications point to are kept, marked retired."""
    for row in queryset:
        if _uses(**{fk: row}):
            row.retired = True
            row.save(update_fields=["retired"])
        else:
            if hasattr(row, "tracks"):
                row.tracks.all().delete()
            row.delete()


def validate_call_text(text: str, filename: str) -> schema.Call:
    """The call, checked against the platform's catalogue: it may use categories and measures, never add
    or change one (`catalogue_problems`)."""
    known = set(Category.objects.values_list("code", flat=True))
    measures = set(Measure.objects.values_list("key", flat=True))
    doc = schema.load_text(text, filename, known_categories=known, known_measures=measures)
    if not isinstance(doc, schema.Call):
        raise schema.CallFormatError(filename, [("kind", "须为 call")])
    problems = catalogue_problems(doc)
    if problems:
        raise schema.CallFormatError(filename, problems)
    return doc


def load_call(*, text: str, filename: str, actor=None, publish: bool | None = None) -> LoadResult:
    """Load (or reload) one call. Idempotent: the same text changes nothing and writes no event."""
    doc = validate_call_text(text, filename)
    spec = doc.model_dump(mode="json", exclude_unset=True)  # keeps what the file sets (defaults merge)
    digest = _hash(spec)
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(code=doc.code).first()
        if call is not None and call.content_hash == digest:
            if publish is not None and (call.status == Call.Status.PUBLISHED) != publish:
                set_published(call=call, published=publish, actor=actor)
            return LoadResult(call=call, created=False, changed=False)
        created = call is None
        before = None
        if not created:
            problems = _in_use_problems(call, doc)
            if problems:
                raise CallInUseError(filename, problems)
            before = {"content_hash": call.content_hash, "revision": call.revision}
        fields = {
            "issuer": _issuer(doc), "document_number": doc.document_number, "title": doc.title,
            "programme": doc.programme, "programme_code": doc.programme_code, "year": doc.year, "published_on": doc.published_on,
            "opens_at": doc.opens_at, "deadline": doc.deadline, "spec": spec, "source_yaml": text,
            "source_name": Path(filename).name, "content_hash": digest,
        }
        if created:
            call = Call.objects.create(code=doc.code, **fields)
        else:
            for k, v in fields.items():
                setattr(call, k, v)
            call.revision += 1
            call.save()
            call.__dict__.pop("document", None)
        _sync_types(call, doc)
        audit.record(
            actor=actor, action="call.create" if created else "call.update", obj=call, before=before,
            after={"content_hash": digest, "revision": call.revision, "file": Path(filename).name,
                   "types": len(doc.project_types)},
        )
        if publish is not None and (call.status == Call.Status.PUBLISHED) != publish:
            set_published(call=call, published=publish, actor=actor)
    return LoadResult(call=call, created=created, changed=True)


def load_path(*, path: Path, actor=None, publish: bool | None = None) -> LoadResult:
    text = path.read_text("utf-8")
    data = schema.parse_yaml(text, str(path))
    if data.get("kind") == "catalogue":
        return load_catalogue(text=text, filename=str(path), actor=actor)
    return load_call(text=text, filename=str(path), actor=actor, publish=publish)


def load_directory(*, directory: Path, actor=None, publish: bool | None = None) -> list[LoadResult]:
    """Load the catalogue files first, then every call file, in name order."""
    files = sorted(directory.glob("*.yaml"))
    catalogues = [p for p in files if schema.parse_yaml(p.read_text("utf-8"), str(p)).get("kind") == "catalogue"]
    others = [p for p in files if p not in catalogues]
    return [load_path(path=p, actor=actor, publish=publish) for p in [*catalogues, *others]]


def set_published(*, call: Call, published: bool, actor=None) -> Call:
    from shenbao.calls.permissions import can_publish

    if actor is not None:
        require(can_publish(actor, call))
    with transaction.atomic():
        before = call.status
        call.status = Call.Status.PUBLISHED if published else Call.Status.UNPUBLISHED
        call.save(update_fields=["status"])
        audit.record(actor=actor, action="call.publish" if published else "call.unpublish", obj=call,
                     before={"status": before}, after={"status": call.status})
    return call


# --- a new call from an existing one, edited on pages -------------------------------------------------


def _plain_data(call: Call) -> dict:
    """The call's file as plain data (anchors resolved, each block its own copy, dates as text)."""
    data = schema.parse_yaml(call.source_yaml, call.source_name or f"{call.code}.yaml")
    return json.loads(json.dumps(data, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def _dump(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def copy_call(*, actor, source: Call, code: str, title: str) -> LoadResult:
    """A new call (not published) made from `source`: the same file with a new code and title, to be edited
    on the pages (dates, quotas, amounts, contacts). Audited as a call.create with the source named."""
    from shenbao.calls.permissions import can_import_call

    code, title = (code or "").strip(), (title or "").strip()
    if not code or not title:
        raise NotAllowed(gettext("请填写新通知的代码和标题"))
    if Call.objects.filter(code=code).exists():
        raise NotAllowed(gettext("代码 %(code)s 已被其他通知使用") % {"code": code})
    require(can_import_call(actor, source.issuer.name, None))
    data = _plain_data(source)
    data.update(code=code, title=title)
    data.pop("document_number", None)
    data.pop("published_on", None)
    with transaction.atomic():
        result = load_call(text=_dump(data), filename=f"{code}.yaml", actor=actor)
        audit.record(actor=actor, action="call.copy", obj=result.call, before={"source": source.code},
                     after={"code": code, "title": title})
    return result


@dataclass
class CallEdit:
    """What the edit pages change: the call's dates and contacts, and per type its quota number and
    amount (`types`: type code → {"quota": n, "amount": yuan}; None leaves a value as it is)."""

    title: str | None = None
    opens_at: str | None = None  # ISO with zone, "" to remove
    deadline: str | None = None
    contacts: list[dict] | None = None
    types: dict[str, dict] = field(default_factory=dict)


def edit_call(*, actor, call: Call, edit: CallEdit) -> LoadResult:
    """Apply the page's edits to the call's file and load it again (validated like an import: every
    problem named; a change that would invalidate existing applications is refused)."""
    from shenbao.calls.permissions import can_import_call

    require(can_import_call(actor, call.issuer.name, call))
    data = _plain_data(call)
    if edit.title is not None:
        data["title"] = edit.title
    if edit.opens_at is not None:
        if edit.opens_at:
            data["opens_at"] = edit.opens_at
        else:
            data.pop("opens_at", None)
    if edit.deadline is not None:
        data["deadline"] = edit.deadline
    if edit.contacts is not None:
        data["contacts"] = [{k: v for k, v in c.items() if v} for c in edit.contacts if c.get("name")]
    for t in data.get("project_types", []):
        change = edit.types.get(str(t.get("code")))
        if not change:
            continue
        quota = t.get("quota")
        if change.get("quota") is not None and isinstance(quota, dict) and quota.get("kind") in ("exactly", "at_most", "about"):
            quota["n"] = change["quota"]
        funding = t.get("funding")
        if change.get("amount") is not None and isinstance(funding, dict):
            key = {"fixed": "amount", "tiered": "amount", "cap": "max", "range": "max", "pool": "total"}.get(funding.get("kind"))
            if key:
                funding[key] = change["amount"]
    return load_call(text=_dump(data), filename=call.source_name or f"{call.code}.yaml", actor=actor)
