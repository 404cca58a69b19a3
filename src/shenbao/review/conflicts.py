"""Conflicts of interest (回避) between experts and applications, computed, and the overrides staff and
experts record.

Computed (never stored; recomputed from the organisation tree, the applications and the call):
- the expert's unit is the lead applicant unit, or a joint unit (参与单位, not removed) of the application;
- the expert's unit is above or below one of those units in the organisation tree (parent, grandparent …
  through units that are not associations, up to the first association: `_Tree.above`);
- the expert's unit and the applicant share a home association (属地科协), where the call's
  `review.same_home_association_conflict` says so (the home association as `applications.routing` finds it:
  the nearest association above the unit that is not a university association), or the expert's unit is
  the applicant's home association;
- the expert's e-mail domain is the applicant unit's, or one of its users' (a joint unit's too), unless it is
  a public mail domain (`PUBLIC_MAIL_DOMAINS`, overridden by the setting `SHENBAO_PUBLIC_MAIL_DOMAINS`).

Stored (`ConflictOverride`, with a reason, revoked rather than deleted):
- declared: the expert's own 回避申报, for one application or every application of a unit (lead or joint);
- pinned: staff add a conflict for the pair (application, or unit as above);
- lifted: staff remove the *computed* conflicts of the pair (declared and pinned ones stay: a pin is revoked,
  not lifted; an expert's own declaration is not overruled).

`conflicts_between` answers for many applications × experts with a fixed number of queries and dict
lookups (the experts are indexed by unit, parent unit, home association and mail domain, and each
application looks its few keys up), so the assignment can ask it for thousands × hundreds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shenbao.applications.models import Application, ApplicationParticipant
from shenbao.calls.models import Call
from shenbao.core import audit
from shenbao.core.decisions import NotAllowed, require
from shenbao.orgs.models import Category, Organisation, User
from shenbao.review import permissions
from shenbao.review.models import ConflictOverride, Expert

PUBLIC_MAIL_DOMAINS = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "vip.163.com", "126.com", "vip.126.com", "yeah.net",
    "188.com", "sina.com", "sina.cn", "vip.sina.com", "sohu.com", "vip.sohu.com", "139.com", "189.cn",
    "wo.cn", "21cn.com", "tom.com", "aliyun.com", "gmail.com", "outlook.com", "hotmail.com", "live.com",
    "msn.com", "yahoo.com", "yahoo.com.cn", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me",
})


def public_mail_domains() -> frozenset[str]:
    """The public mail domains: the setting `SHENBAO_PUBLIC_MAIL_DOMAINS` (a list) when set, else the default."""
    custom = getattr(settings, "SHENBAO_PUBLIC_MAIL_DOMAINS", None)
    if custom is None:
        return PUBLIC_MAIL_DOMAINS
    return frozenset(d.strip().lower() for d in custom if d and d.strip())


def mail_domain(address: str | None) -> str:
    """The domain of an e-mail address, lower case ('' when there is none)."""
    text = (address or "").strip().lower()
    if "@" not in text:
        return ""
    return text.rpartition("@")[2].strip().rstrip(".")


def is_public_domain(domain: str, public: frozenset[str] | None = None) -> bool:
    """A public mail domain, or a subdomain of one (vip.qq.com under qq.com)."""
    public = public_mail_domains() if public is None else public
    parts = domain.split(".")
    return any(".".join(parts[i:]) in public for i in range(len(parts) - 1))


@dataclass(frozen=True)
class Cause:
    """Why an expert must not review an application: a code for programs, a text for people."""

    code: str
    text: str
    override_id: int | None = None  # the ConflictOverride behind a declared or pinned conflict


# codes
SAME_ORG = "same_org"
JOINT_UNIT = "joint_unit"
PARENT_ORG = "parent_org"
CHILD_ORG = "child_org"
SAME_HOME = "same_home_association"
EMAIL_DOMAIN = "email_domain"
DECLARED = "declared"
PINNED = "pinned"
COMPUTED_CODES = (SAME_ORG, JOINT_UNIT, PARENT_ORG, CHILD_ORG, SAME_HOME, EMAIL_DOMAIN)


@dataclass
class _Unit:
    id: int
    name: str
    parent_id: int | None
    is_association: bool
    category_id: int
    email: str


class _Tree:
    """The organisations a computation needs, with their ancestors, loaded level by level (one query per
    level of the tree, a handful), and the categories once."""

    def __init__(self) -> None:
        self.units: dict[int, _Unit] = {}
        self._home: dict[int | None, int | None] = {}
        self._above: dict[int | None, list[int]] = {}
        cats = {c["id"]: c for c in Category.objects.values("id", "code", "parent_id")}
        self._university: dict[int, bool] = {}
        for cid in cats:
            node, lineage = cats.get(cid), []
            while node is not None:
                lineage.append(node["code"])
                node = cats.get(node["parent_id"])
            self._university[cid] = "university_association" in lineage

    def load(self, ids: Iterable[int]) -> None:
        todo = {i for i in ids if i is not None and i not in self.units}
        while todo:
            rows = Organisation.objects.filter(pk__in=todo).values(
                "id", "name", "parent_id", "category_id", "category__is_association", "email")
            for r in rows:
                self.units[r["id"]] = _Unit(r["id"], r["name"], r["parent_id"], r["category__is_association"],
                                            r["category_id"], r["email"] or "")
            todo = {u.parent_id for u in self.units.values() if u.parent_id and u.parent_id not in self.units}

    def home(self, org_id: int | None) -> int | None:
        if org_id not in self._home:
            self._home[org_id] = self._find_home(org_id)
        return self._home[org_id]

    def _find_home(self, org_id: int | None) -> int | None:
        """The home association: the nearest association above the unit that is not a university
        association (as `applications.routing` finds it for `by: home_association`)."""
        unit = self.units.get(org_id) if org_id else None
        seen = set()
        node = self.units.get(unit.parent_id) if unit and unit.parent_id else None
        while node is not None and node.id not in seen:
            seen.add(node.id)
            if node.is_association and not self._university.get(node.category_id):
                return node.id
            node = self.units.get(node.parent_id) if node.parent_id else None
        return None

    def above(self, org_id: int | None) -> list[int]:
        if org_id not in self._above:
            self._above[org_id] = self._find_above(org_id)
        return self._above[org_id]

    def _find_above(self, org_id: int | None) -> list[int]:
        """The units above this one that count as its parents for conflicts: up the tree through units that
        are not associations, up to and including the first association (a 科协 stops the chain: everything
        sits under one, and a shared home association is the call's own rule)."""
        out: list[int] = []
        unit = self.units.get(org_id) if org_id else None
        node = self.units.get(unit.parent_id) if unit and unit.parent_id else None
        while node is not None and node.id not in out:
            out.append(node.id)
            if node.is_association:
                break
            node = self.units.get(node.parent_id) if node.parent_id else None
        return out

    def name(self, org_id: int | None) -> str:
        unit = self.units.get(org_id) if org_id else None
        return unit.name if unit else ""


def _norm_name(name: str) -> str:
    return "".join((name or "").split())


def _as_applications(applications) -> list:
    items = list(applications)
    ids = [a for a in items if isinstance(a, int)]
    if ids:
        loaded = {a.pk: a for a in Application.objects.filter(pk__in=ids)}
        items = [loaded[a] if isinstance(a, int) else a for a in items if not isinstance(a, int) or a in loaded]
    return items


def _as_experts(experts) -> list:
    items = list(experts)
    ids = [e for e in items if isinstance(e, int)]
    if ids:
        loaded = {e.pk: e for e in Expert.objects.filter(pk__in=ids)}
        items = [loaded[e] if isinstance(e, int) else e for e in items if not isinstance(e, int) or e in loaded]
    return items


def conflicts_between(applications, experts, *, call_document=None,
                      lifts: bool = True) -> dict[tuple[int, int], list[Cause]]:
    """{(application id, expert id): [causes]} for every conflicted pair among `applications` × `experts`
    (Application / Expert instances, querysets or ids); pairs without a conflict are absent. The call's
    document decides the home-association rule (`call_document` replaces each application's call's).
    With `lifts=False` the computed causes staff lifted are kept (the conflicts page shows them struck)."""
    apps = _as_applications(applications)
    experts = _as_experts(experts)
    if not apps or not experts:
        return {}
    app_ids = [a.pk for a in apps]
    expert_ids = [e.pk for e in experts]

    # the application's units: the lead, then its joint units (not removed)
    joint: dict[int, list[int]] = defaultdict(list)
    for app_id, org_id in (ApplicationParticipant.objects.filter(application_id__in=app_ids, removed_at__isnull=True)
                           .order_by("order", "id").values_list("application_id", "organisation_id")):
        joint[app_id].append(org_id)

    unit_ids = {a.applicant_id for a in apps} | {o for orgs in joint.values() for o in orgs}
    tree = _Tree()
    tree.load(unit_ids | {e.organisation_id for e in experts if e.organisation_id})

    # the home-association rule: per call
    if call_document is not None:
        home_rule = {a.call_id: bool(call_document.review.same_home_association_conflict) for a in apps}
    else:
        calls = {c.pk: c for c in Call.objects.filter(pk__in={a.call_id for a in apps})}
        home_rule = {cid: bool(c.document.review.same_home_association_conflict) for cid, c in calls.items()}

    # the units' mail domains: the unit's own address and its users'
    public = public_mail_domains()
    unit_domains: dict[int, set[str]] = defaultdict(set)
    for uid in unit_ids:
        d = mail_domain(tree.units[uid].email) if uid in tree.units else ""
        if d:
            unit_domains[uid].add(d)
    for org_id, email in User.objects.filter(organisation_id__in=unit_ids).exclude(email="").values_list(
            "organisation_id", "email"):
        d = mail_domain(email)
        if d:
            unit_domains[org_id].add(d)

    # index the experts by the keys an application looks up
    names_to_unit = {_norm_name(tree.units[u].name): u for u in unit_ids if u in tree.units}
    by_org: dict[int, list] = defaultdict(list)
    by_parent: dict[int, list] = defaultdict(list)
    by_home: dict[int, list] = defaultdict(list)
    by_domain: dict[str, list] = defaultdict(list)
    expert_org: dict[int, int | None] = {}
    for e in experts:
        org_id = e.organisation_id or names_to_unit.get(_norm_name(e.organisation_name))
        expert_org[e.pk] = org_id
        if org_id:
            by_org[org_id].append(e.pk)
            for above in tree.above(org_id):
                by_parent[above].append(e.pk)
            home = tree.home(org_id)
            if home:
                by_home[home].append(e.pk)
        d = mail_domain(e.email)
        if d and not is_public_domain(d, public):
            by_domain[d].append(e.pk)

    out: dict[tuple[int, int], list[Cause]] = {}

    def add(app_id: int, expert_id: int, cause: Cause) -> None:
        add_many(app_id, (expert_id,), cause)

    def add_many(app_id: int, expert_ids, cause: Cause) -> None:
        get = out.get
        for expert_id in expert_ids:
            key = (app_id, expert_id)
            causes = get(key)
            if causes is None:
                out[key] = [cause]
            elif cause not in causes:
                causes.append(cause)

    # a cause is the same for every pair it concerns: translated and built once (thousands of pairs share it)
    made: dict[tuple, Cause] = {}
    translated: dict[str, str] = {}

    def cause(code: str, msg: str, **kw) -> Cause:
        key = (code, msg, *kw.items())
        c = made.get(key)
        if c is None:
            text = translated.get(msg)
            if text is None:
                text = translated[msg] = _(msg)
            c = made[key] = Cause(code, text % kw)
        return c

    lead_role, joint_role = _("申报单位"), _("联合申报单位")
    for app in apps:
        units = [app.applicant_id, *[u for u in joint.get(app.pk, []) if u != app.applicant_id]]
        for i, uid in enumerate(units):
            uname = tree.name(uid)
            role = lead_role if i == 0 else joint_role
            here = by_org.get(uid, ())
            if here:
                c = (cause(SAME_ORG, gettext_noop("专家所在单位与申报单位相同（%(unit)s）"), unit=uname) if i == 0 else
                     cause(JOINT_UNIT, gettext_noop("专家所在单位是本项目的联合申报单位（%(unit)s）"), unit=uname))
                add_many(app.pk, here, c)
            for parent_id in tree.above(uid):
                above = by_org.get(parent_id, ())
                if above:
                    c = cause(PARENT_ORG, gettext_noop("专家所在单位（%(expert)s）是%(role)s（%(unit)s）的上级单位"),
                              expert=tree.name(parent_id), role=role, unit=uname)
                    add_many(app.pk, above, c)
            for eid in by_parent.get(uid, ()):
                add(app.pk, eid, cause(CHILD_ORG, gettext_noop("专家所在单位（%(expert)s）是%(role)s（%(unit)s）的下属单位"),
                                       expert=tree.name(expert_org[eid]), role=role, unit=uname))
            for d in sorted(unit_domains.get(uid, ())):
                sharing = by_domain.get(d, ())
                if not sharing or is_public_domain(d, public):
                    continue
                c = cause(EMAIL_DOMAIN, gettext_noop("专家电子邮箱与%(role)s（%(unit)s）使用同一邮箱域名（%(domain)s）"),
                          role=role, unit=uname, domain=d)
                add_many(app.pk, sharing, c)
        if home_rule.get(app.call_id):
            home = tree.home(app.applicant_id)
            if home:
                c = cause(SAME_HOME, gettext_noop("专家所在单位与申报单位同属一个属地科协（%(home)s）"), home=tree.name(home))
                add_many(app.pk, by_home.get(home, ()), c)
                c = cause(SAME_HOME, gettext_noop("专家所在单位是申报单位的属地科协（%(home)s）"), home=tree.name(home))
                add_many(app.pk, by_org.get(home, ()), c)

    # overrides: for one application, or for every application of a unit (lead or joint)
    app_units: dict[int, set[int]] = {a.pk: {a.applicant_id, *joint.get(a.pk, [])} for a in apps}
    apps_of_unit: dict[int, list[int]] = defaultdict(list)
    for app_id, units in app_units.items():
        for u in units:
            apps_of_unit[u].append(app_id)
    wanted = set(app_ids)
    overrides = (ConflictOverride.objects.filter(expert_id__in=expert_ids, revoked_at__isnull=True)
                 .filter(Q(application_id__in=app_ids) | Q(organisation_id__in=unit_ids))
                 .order_by("created_at", "id"))
    lifted: set[tuple[int, int]] = set()
    for o in overrides:
        targets = [o.application_id] if o.application_id else apps_of_unit.get(o.organisation_id, [])
        for app_id in targets:
            if app_id not in wanted:
                continue
            if o.kind == ConflictOverride.Kind.LIFTED:
                lifted.add((app_id, o.expert_id))
            elif o.kind == ConflictOverride.Kind.DECLARED:
                add(app_id, o.expert_id, Cause(DECLARED, _("专家申报回避：%(reason)s") % {"reason": o.reason},
                                               override_id=o.pk))
            elif o.kind == ConflictOverride.Kind.PINNED:
                add(app_id, o.expert_id, Cause(PINNED, _("工作人员设定回避：%(reason)s") % {"reason": o.reason},
                                               override_id=o.pk))
    if lifts:
        for pair in lifted:
            if pair in out:
                out[pair] = [c for c in out[pair] if c.code not in COMPUTED_CODES]
    return {pair: causes for pair, causes in out.items() if causes}


def conflict_causes(application, expert, *, call_document=None) -> list[Cause]:
    """The causes that keep `expert` from reviewing `application` (empty: no conflict)."""
    return conflicts_between([application], [expert], call_document=call_document).get(
        (application.pk, expert.pk), [])


def lifted_pairs(applications, experts) -> set[tuple[int, int]]:
    """The (application id, expert id) pairs among these whose computed conflicts staff lifted."""
    with_lifts = conflicts_between(applications, experts)
    without = conflicts_between(applications, experts, lifts=False)
    return {pair for pair, causes in without.items()
            if any(c.code in COMPUTED_CODES for c in causes)
            and not any(c.code in COMPUTED_CODES for c in with_lifts.get(pair, []))}


# --- services: declare, pin, lift, revoke ----------------------------------------------------------------


def _target(application, organisation) -> dict:
    if (application is None) == (organisation is None):
        raise NotAllowed(_("请指定一个申报项目或一个单位"))
    return {"application": application, "organisation": organisation}


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise NotAllowed(_("请填写理由"))
    if len(text) > 500:
        raise NotAllowed(_("理由不能超过500字"))
    return text


def _record(*, actor, kind: str, expert, application=None, organisation=None, reason: str, ip=None):
    target = _target(application, organisation)
    reason = _clean_reason(reason)
    with transaction.atomic():
        existing = (ConflictOverride.objects.select_for_update()
                    .filter(expert=expert, kind=kind, revoked_at__isnull=True, **target).first())
        if existing is not None:  # double submit: the same live override stands
            return existing
        if kind in (ConflictOverride.Kind.PINNED, ConflictOverride.Kind.LIFTED):
            # a pin and a lift of the same pair exclude each other: the newer replaces the older
            other = (ConflictOverride.Kind.LIFTED if kind == ConflictOverride.Kind.PINNED
                     else ConflictOverride.Kind.PINNED)
            for old in ConflictOverride.objects.filter(expert=expert, kind=other, revoked_at__isnull=True, **target):
                _revoke(actor=actor, override=old, ip=ip, note=_("被新的设定取代"))
        o = ConflictOverride.objects.create(expert=expert, kind=kind, reason=reason, created_by=actor, **target)
        audit.record(actor=actor, action=f"review.conflict.{kind}", obj=o, ip=ip, note=reason,
                     after={"expert": expert.pk, "application": getattr(application, "pk", None),
                            "organisation": getattr(organisation, "pk", None), "kind": kind})
    return o


def _revoke(*, actor, override, ip=None, note: str = ""):
    override.revoked_at = timezone.now()
    override.revoked_by = actor
    override.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(actor=actor, action="review.conflict.revoke", obj=override, ip=ip, note=note,
                 before={"revoked_at": None}, after={"revoked_at": override.revoked_at})


def pin(*, actor, expert, application=None, organisation=None, reason: str, ip: str | None = None):
    """Staff add a conflict for the pair (the expert and an application, or every application of a unit)."""
    require(permissions.can_manage_conflicts(actor, expert))
    return _record(actor=actor, kind="pinned", expert=expert, application=application, organisation=organisation,
                   reason=reason, ip=ip)


def lift(*, actor, expert, application=None, organisation=None, reason: str, ip: str | None = None):
    """Staff lift the computed conflicts of the pair (a declared or pinned one stays)."""
    require(permissions.can_manage_conflicts(actor, expert))
    return _record(actor=actor, kind="lifted", expert=expert, application=application, organisation=organisation,
                   reason=reason, ip=ip)


def declare(*, actor, expert, application=None, organisation=None, reason: str, ip: str | None = None):
    """The expert declares a relation (回避申报) with a unit or an application."""
    require(permissions.can_declare_conflicts(actor, expert))
    return _record(actor=actor, kind="declared", expert=expert, application=application, organisation=organisation,
                   reason=reason, ip=ip)


def revoke(*, actor, override, ip: str | None = None):
    """Withdraw a pin or a lift (staff), or one's own declaration (the expert); the row is kept."""
    if override.kind == ConflictOverride.Kind.DECLARED:
        require(permissions.can_declare_conflicts(actor, override.expert))
    else:
        require(permissions.can_manage_conflicts(actor, override.expert))
    with transaction.atomic():
        o = ConflictOverride.objects.select_for_update().get(pk=override.pk)
        if o.revoked_at is None:
            _revoke(actor=actor, override=o, ip=ip)
    return o
