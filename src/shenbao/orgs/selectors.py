"""Reads of organisations, users and roles: the eligibility context (CEL `org`), the tree, registrations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from shenbao.orgs.models import (
    ADMIN_ROLES,
    AttributeDef,
    Category,
    Organisation,
    OrgAttribute,
    Role,
    RoleAssignment,
    User,
)

# The value an attribute has when nothing is recorded and the catalogue gives no default: CEL has no
# implicit null handling, so every key of org.attrs is a plain value of its kind.
KIND_DEFAULTS: dict[str, Any] = {"bool": False, "int": 0, "grade": 0, "text": "", "rating": "", "date": ""}
NUMERIC_KINDS = {"int", "grade"}


def attribute_default(defn: AttributeDef) -> Any:
    return defn.default if defn.default is not None else KIND_DEFAULTS.get(defn.kind, "")


def _coerce(kind: str, value: Any) -> Any:
    """Stored JSON → the CEL type of the kind (grades and ints as int, booleans as bool, dates as ISO text)."""
    if value is None:
        return None
    if kind in NUMERIC_KINDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def _is_yearly(defn: AttributeDef) -> bool:
    return defn.yearly or defn.kind == "rating"


def _started(rec: OrgAttribute, on: dt.date) -> bool:
    """The record existed by `on` (it began on or before that day; a yearly record's year has come)."""
    if rec.valid_from is not None and rec.valid_from > on:
        return False
    return rec.year is None or rec.year <= on.year


def _holds(rec: OrgAttribute, on: dt.date) -> bool:
    """The record holds on `on`: begun, and not ended before (valid_to is the last day it holds)."""
    return _started(rec, on) and (rec.valid_to is None or rec.valid_to >= on)


def _chronological(rec: OrgAttribute):
    return (rec.year or 0, rec.valid_from or dt.date.min, rec.id or 0)


def eligibility_context(org: Organisation, *, on: dt.date | None = None) -> dict[str, Any]:
    """The CEL `org` map of eligibility rules, as of `on` (default: today in Asia/Shanghai).

    attrs: every catalogue attribute, its value on `on` (a yearly one: its latest year), else its default;
    max: the highest value ever held of grades and ints; ever: every value held, oldest first;
    yearly: {"2025": "A", …} of yearly attributes; founded_year from founded_on (0 if unknown).
    History counts only what had begun by `on`.
    """
    on = on or timezone.localdate()
    defs = list(AttributeDef.objects.all())
    records: dict[str, list[OrgAttribute]] = defaultdict(list)
    for rec in org.attributes.all():
        if _started(rec, on):
            records[rec.key].append(rec)
    attrs: dict[str, Any] = {}
    highest: dict[str, Any] = {}
    ever: dict[str, list[Any]] = {}
    yearly: dict[str, dict[str, Any]] = {}
    known = {d.key for d in defs}
    # attributes recorded without a catalogue entry still show (as text), so no fact is silently lost
    extra = [AttributeDef(key=k, name=k, kind="text") for k in sorted(set(records) - known)]
    for defn in [*defs, *extra]:
        kind = defn.kind
        history = sorted(records.get(defn.key, []), key=_chronological)
        values = [_coerce(kind, r.value) for r in history]
        default = _coerce(kind, attribute_default(defn))
        if _is_yearly(defn):
            by_year = {str(r.year): _coerce(kind, r.value) for r in history if r.year is not None}
            yearly[defn.key] = by_year
            attrs[defn.key] = by_year[max(by_year, key=int)] if by_year else default
        else:
            holding = [r for r in history if _holds(r, on)]
            attrs[defn.key] = _coerce(kind, holding[-1].value) if holding else default
        seen: list[Any] = []
        for v in values:
            if v not in seen:
                seen.append(v)
        ever[defn.key] = seen
        if kind in NUMERIC_KINDS:
            highest[defn.key] = max([default or 0, *values])
    return {
        "name": org.name,
        "category": org.category.code,
        "categories": org.category.lineage(),
        "region": region_of(org),
        "parent": org.parent.name if org.parent_id else "",
        "attrs": attrs,
        "max": highest,
        "ever": ever,
        "yearly": yearly,
        "founded_year": _founded_year(attrs.get("founded_on"), ever.get("founded_on", [])),
    }


def _founded_year(current: Any, history: list[Any]) -> int:
    for value in [current, *history]:
        if not value:
            continue
        try:
            return dt.date.fromisoformat(str(value)[:10]).year
        except ValueError:
            text = str(value)
            if text[:4].isdigit():
                return int(text[:4])
    return 0


def region_of(org: Organisation) -> str:
    """The organisation's region, else its nearest ancestor's (a society is where its association is)."""
    node, seen = org, set()
    while node is not None and node.pk not in seen:
        if node.region:
            return node.region
        seen.add(node.pk)
        node = node.parent
    return ""


# --- the tree --------------------------------------------------------------------------------------

# What the eligibility rules read of a unit besides its row: its category's lineage (R-E1) and its parents up
# the tree (the region, the parent's name, `within_issuer`). Joined into the query that reads the unit, so that
# the rules read no more rows for the usual depths (a deeper tree or lineage is read on, row by row, as before).
UNIT_RELATED = ("category__parent__parent__parent", "parent__parent__parent")


def unit_related(prefix: str = "") -> list[str]:
    """UNIT_RELATED for select_related on a unit reached through `prefix` ("applicant": an application's)."""
    return [f"{prefix}__{path}" if prefix else path for path in UNIT_RELATED]


def unit_with_lineage(pk: int | None) -> Organisation | None:
    """The unit with what eligibility reads of it, in one query (None without a unit)."""
    if pk is None:
        return None
    return Organisation.objects.select_related(*UNIT_RELATED).filter(pk=pk).first()


def unit_of(user) -> Organisation | None:
    """The user's unit with what eligibility reads of it (`unit_with_lineage`, one query), also kept as
    `user.organisation` so that whatever reads the user's unit later (a page's header, a permission) reads
    this row. None for a user without a unit."""
    org = unit_with_lineage(getattr(user, "organisation_id", None))
    if org is not None:
        user.organisation = org
    return org


def is_within(org: Organisation, ancestor: Organisation | int) -> bool:
    """Does `org` sit under `ancestor` (an organisation or its id) in the tree (at any depth)? An
    organisation is not within itself. Only `org`'s parents are read (the ancestor's id is enough)."""
    if org is None or ancestor is None:
        return False
    ancestor_id = ancestor if isinstance(ancestor, int) else ancestor.pk
    node, seen = org.parent, {org.pk}
    while node is not None and node.pk not in seen:
        if node.pk == ancestor_id:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def descendant_ids(orgs) -> set[int]:
    """Ids of every organisation under the given ones (not the given ones themselves)."""
    frontier = {o.pk if isinstance(o, Organisation) else int(o) for o in orgs}
    found: set[int] = set()
    while frontier:
        children = set(Organisation.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        frontier = children - found
        found |= frontier
    return found


def tree(orgs: QuerySet | None = None) -> list[tuple[Organisation, int]]:
    """(organisation, depth) in depth-first order, roots first; for the system administrator's page."""
    rows = list((orgs if orgs is not None else Organisation.objects.all()).select_related("category"))
    by_parent: dict[int | None, list[Organisation]] = defaultdict(list)
    ids = {o.pk for o in rows}
    for o in rows:
        by_parent[o.parent_id if o.parent_id in ids else None].append(o)
    out: list[tuple[Organisation, int]] = []
    stack = [(o, 0) for o in reversed(by_parent[None])]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if node.pk in seen:
            continue
        seen.add(node.pk)
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(by_parent.get(node.pk, [])))
    return out


# --- registration ----------------------------------------------------------------------------------


def applicant_categories() -> QuerySet[Category]:
    """申报单位类别 a unit may register as: those the catalogue marks as applicants (R-E1)."""
    return Category.objects.filter(applicant=True)


def home_associations() -> QuerySet[Organisation]:
    """Associations a registering unit may name as its home association (属地科协 or supervisor)."""
    return (Organisation.objects.filter(category__is_association=True, status=Organisation.Status.ACTIVE)
            .select_related("category").order_by("category__order", "name"))


def existing_unit(*, name: str = "", credit_code: str = "") -> Organisation | None:
    """The organisation already registered with this credit code or this name, if any."""
    q = Q()
    if credit_code:
        q |= Q(credit_code=credit_code)
    if name:
        q |= Q(name=name.strip())
    return Organisation.objects.filter(q).first() if q else None


def role_pairs(user, *, keep: bool = True) -> list[tuple[str, int | None]]:
    """The user's role assignments as (role, organisation id or None). A request's user has them already (read
    with the user by orgs.backends.ModelBackend); otherwise they are read now, and kept on the object when
    `keep` (the object then answers from them until it is read again)."""
    pairs = getattr(user, "_sb_role_pairs", None)
    if pairs is None:
        pairs = list(RoleAssignment.objects.filter(user=user).values_list("role", "organisation_id"))
        if keep:
            user._sb_role_pairs = pairs
    return pairs


def role_orgs(user, roles, *, own_unit: bool = False, keep: bool = False) -> set[int]:
    """The organisations where the user holds one of `roles`: those its assignments name and, with `own_unit`,
    the user's own unit for a role given without one (as applications' `has_role_in` reads a role)."""
    out: set[int] = set()
    for role, org in role_pairs(user, keep=keep):
        if role in roles:
            if org is not None:
                out.add(org)
            elif own_unit and user.organisation_id:
                out.add(user.organisation_id)
    return out


def registration_scope(user) -> QuerySet[Organisation]:
    """Units whose registrations the user sees: a home association reviewer those directly under the
    association, funder staff and leaders every unit under their organisation at any depth."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    direct = role_orgs(user, [Role.HOME_REVIEWER])
    funders = role_orgs(user, [Role.FUNDER_STAFF, Role.FUNDER_LEADER])
    ids = set(Organisation.objects.filter(parent_id__in=direct).values_list("id", flat=True))
    ids |= descendant_ids(funders)
    return Organisation.objects.filter(id__in=ids)


def registrations(user, *, status: str = "", q: str = "") -> QuerySet[Organisation]:
    qs = registration_scope(user).select_related("category", "parent", "reviewed_by")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()))
    return qs.order_by("-submitted_at", "name")


def registration_counts(user) -> dict[str, int]:
    scope = registration_scope(user)
    counts = {s: 0 for s in Organisation.Status.values}
    for row in scope.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["all"] = sum(counts.values())
    return counts


# --- attributes for display ------------------------------------------------------------------------


@dataclass
class AttributeRow:
    defn: AttributeDef
    current: Any
    label: str
    is_default: bool


def display_value(defn: AttributeDef, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if defn.kind == "bool":
        return "是" if value else "否"
    if defn.kind == "grade":
        return defn.labels.get(str(value), str(value)) if value else "无"
    return str(value)


def current_attributes(org: Organisation, *, on: dt.date | None = None) -> list[AttributeRow]:
    ctx = eligibility_context(org, on=on)
    rows = []
    for defn in AttributeDef.objects.all():
        value = ctx["attrs"].get(defn.key)
        rows.append(AttributeRow(defn, value, display_value(defn, value),
                                 is_default=not ctx["ever"].get(defn.key)))
    return rows


def attribute_history(org: Organisation) -> list[tuple[OrgAttribute, AttributeDef | None, str]]:
    defs = {d.key: d for d in AttributeDef.objects.all()}
    out = []
    for rec in org.attributes.all().order_by("key", "-year", "-valid_from", "-id"):
        defn = defs.get(rec.key)
        out.append((rec, defn, display_value(defn, rec.value) if defn else str(rec.value)))
    return out


# --- accounts ----------------------------------------------------------------------------------------


def locked_until(username: str) -> dt.datetime | None:
    """When the account's lock ends (5 failures within the cool-off), or None if it is not locked."""
    from axes.models import AccessAttempt

    cooloff = settings.AXES_COOLOFF_TIME
    since = timezone.now() - cooloff
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    agg = attempts.aggregate(n=Sum("failures_since_start"))
    if (agg["n"] or 0) < settings.AXES_FAILURE_LIMIT:
        return None
    last = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    return last + cooloff if last else None


def accounts(*, q: str = "") -> QuerySet[User]:
    qs = User.objects.select_related("organisation").prefetch_related("roles__organisation").order_by("username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(organisation__name__icontains=q))
    return qs


def audit_events(*, action: str = "", actor: str = "", obj: str = "", since: dt.date | None = None,
                 until: dt.date | None = None, ip: str = ""):
    """The audit log, filtered: action by prefix, actor and object by part of the name (or object type),
    days in Beijing time (both included), the client address whole or by its beginning."""
    import ipaddress

    from shenbao.core.models import AuditEvent

    qs = AuditEvent.objects.all()
    if ip:
        try:
            qs = qs.filter(ip=str(ipaddress.ip_address(ip)))
        except ValueError:
            qs = qs.filter(ip__startswith=ip)
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if obj:
        qs = qs.filter(Q(object_repr__icontains=obj) | Q(object_type=obj))
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz))
    if until:
        qs = qs.filter(at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def password_expired(user) -> bool:
    """An administrator's password older than SHENBAO_ADMIN_PASSWORD_MAX_AGE (90 days) must be changed;
    business accounts and demo accounts have no expiry. Asks the database only when the password is old."""
    if getattr(user, "is_demo", False) or not getattr(user, "pk", None):
        return False
    changed = user.password_changed_at or user.date_joined
    if changed is None or changed > timezone.now() - settings.SHENBAO_ADMIN_PASSWORD_MAX_AGE:
        return False
    return RoleAssignment.objects.filter(user_id=user.pk, role__in=ADMIN_ROLES).exists()
