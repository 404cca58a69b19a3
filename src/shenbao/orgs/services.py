"""Changes to organisations, accounts and roles. Every change writes an audit event in its transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from shenbao.core import audit, wording
from shenbao.core.decisions import NotAllowed, require
from shenbao.core.workflow import Transition, Workflow
from shenbao.orgs import notify, permissions, selectors
from shenbao.orgs.models import (
    ADMIN_ROLES,
    AdminRequest,
    AttributeDef,
    Category,
    Organisation,
    OrgAttribute,
    PasswordHistory,
    Role,
    RoleAssignment,
    User,
)
from shenbao.orgs.validators import (
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
    validate_mobile,
    validate_phone,
)

# A unit's registration: pending until its home association's reviewer or a funder above it decides.
REGISTRATION = Workflow("registration", [
    Transition("pending", "approve", permissions.can_review_registration, "active", pgettext_lazy("transition", "通过")),
    Transition("pending", "reject", permissions.can_review_registration, "rejected", pgettext_lazy("transition", "驳回")),
    Transition("rejected", "resubmit", permissions.can_resubmit_registration, "pending", pgettext_lazy("transition", "重新提交")),
])


class RegistrationError(Exception):
    """What is wrong with a registration, field by field (field name → Chinese message)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


# --- registration ------------------------------------------------------------------------------------


def duplicate_message(existing: Organisation, *, by: str) -> str:
    what = gettext("统一社会信用代码") if by == "credit_code" else gettext("单位名称")
    return gettext("该%(what)s已注册（%(unit)s，%(status)s），不能重复注册。"
                   "如需账号，请联系本单位经办人或属地科协。") % {
        "what": what, "unit": existing.name, "status": gettext(existing.get_status_display())}


def taken_message() -> str:
    """What an anonymous registration hears when its unit name, credit code or user name is taken: one
    neutral message, the same for the three, naming no unit and no status (R-S62)."""
    return gettext("所填的单位名称、统一社会信用代码或登录用户名已被使用，无法注册。如本单位已经注册，"
                   "请联系本单位经办人或属地科协；否则请换一个登录用户名再试。")


def unit_problems(*, name: str, credit_code: str, category: Category | None, home: Organisation | None,
                  exclude: Organisation | None = None, neutral: bool = False) -> dict[str, str]:
    """Everything that stops these unit facts from being registered, field by field. `neutral` (a
    self-registration, anonymous): a unit name or credit code already registered is one neutral message
    that names no unit and no status (R-S62)."""
    problems: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = gettext("请填写单位名称")
    code = normalize_credit_code(credit_code)
    try:
        validate_credit_code(code)
    except ValidationError as exc:
        problems["credit_code"] = exc.messages[0]
    others = Organisation.objects.exclude(pk=exclude.pk) if exclude else Organisation.objects.all()
    if "credit_code" not in problems and (dup := others.filter(credit_code=code).first()):
        if neutral:
            problems["__all__"] = taken_message()
        else:
            problems["credit_code"] = duplicate_message(dup, by="credit_code")
    if name and (dup := others.filter(name=name).first()):
        if neutral:
            problems["__all__"] = taken_message()
        else:
            problems["name"] = duplicate_message(dup, by="name")
    if category is None or not selectors.applicant_categories().filter(pk=category.pk).exists():
        problems["category"] = gettext("请选择申报单位类别")
    if home is None or not selectors.home_associations().filter(pk=home.pk).exists():
        problems["home_association"] = gettext("请选择%(home)s") % {"home": wording.text("SHENBAO_HOME_LABEL")}
    return problems


def register_unit(*, name: str, credit_code: str, category: Category, home_association: Organisation,
                  address: str, contact_name: str, contact_phone: str, username: str, password: str,
                  display_name: str, phone: str = "", email: str = "", postcode: str = "",
                  ip: str | None = None) -> tuple[Organisation, User]:
    """项目申报用户注册: a unit registers itself with its first user; both wait for approval (the user
    can log in and see the state, but holds no role until the registration is approved)."""
    problems = unit_problems(name=name, credit_code=credit_code, category=category, home=home_association,
                             neutral=True)
    username = (username or "").strip()
    if not username:
        problems["username"] = gettext("请填写登录用户名")
    elif User.objects.filter(username__iexact=username).exists():
        problems["__all__"] = taken_message()
    try:
        validate_password(password, User(username=username, display_name=display_name, email=email))
    except ValidationError as exc:
        problems["password1"] = gettext("；").join(exc.messages)
    for key, value, check in (("contact_phone", contact_phone, validate_phone), ("phone", phone, validate_mobile)):
        if value or key == "contact_phone":
            try:
                check(value)
            except ValidationError as exc:
                problems[key] = exc.messages[0]
    if problems:
        raise RegistrationError(problems)
    try:
        with transaction.atomic():
            org = Organisation.objects.create(
                name=name.strip(), credit_code=normalize_credit_code(credit_code), category=category,
                parent=home_association, address=address.strip(), postcode=postcode.strip(),
                contact_name=contact_name.strip(), contact_phone=normalize_phone(contact_phone), email=email.strip(),
                status=Organisation.Status.PENDING, submitted_at=timezone.now(),
            )
            user = User.objects.create_user(
                username=username, password=password, email=email.strip(), organisation=org,
                display_name=display_name.strip(), phone=normalize_phone(phone), must_change_password=False,
                password_changed_at=timezone.now(),
            )
            audit.record(actor=None, actor_name=username, action="registration.submit", obj=org, ip=ip,
                         after=_org_facts(org) | {"user": username})
    except IntegrityError:
        # two people registering the same unit at the same moment: the second one sees the duplicate
        problems = unit_problems(name=name, credit_code=credit_code, category=category, home=home_association,
                                 neutral=True)
        raise RegistrationError(problems or {"__all__": taken_message()}) from None
    return org, user


def _org_facts(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "credit_code": org.credit_code, "category": org.category.code,
            "parent": org.parent.name if org.parent_id else "", "status": org.status}


def approve_registration(*, actor, org: Organisation, note: str = "") -> Organisation:
    """The unit becomes active; its users without a role become its applicant clerks."""
    with transaction.atomic():
        locked = REGISTRATION.perform(user=actor, obj=org, action="approve", note=note)
        Organisation.objects.filter(pk=locked.pk).update(status_reason=note.strip(), reviewed_by=actor,
                                                         reviewed_at=timezone.now())
        for user in locked.users.all():
            if not user.roles.exists():
                RoleAssignment.objects.create(user=user, role=Role.APPLICANT_CLERK, organisation=locked)
                audit.record(actor=actor, action="account.role_grant", obj=user,
                             after={"role": Role.APPLICANT_CLERK, "organisation": locked.name},
                             note="注册审核通过")
        org.refresh_from_db()
        notify.registration_decided(org)
    return org


def reject_registration(*, actor, org: Organisation, reason: str) -> Organisation:
    """The unit stays out; the reason is shown to its user at login."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(gettext("驳回时须填写理由，申报单位登录后会看到"))
    with transaction.atomic():
        locked = REGISTRATION.perform(user=actor, obj=org, action="reject", note=reason,
                                      extra_after={"reason": reason})
        Organisation.objects.filter(pk=locked.pk).update(status_reason=reason, reviewed_by=actor,
                                                         reviewed_at=timezone.now())
        org.refresh_from_db()
        notify.registration_decided(org)
    return org


def resubmit_registration(*, actor, org: Organisation, name: str, credit_code: str, category: Category,
                          home_association: Organisation, address: str, contact_name: str,
                          contact_phone: str, email: str = "", postcode: str = "") -> Organisation:
    """A rejected unit corrects its facts and waits again for review."""
    require(REGISTRATION.can(actor, org, "resubmit"))
    problems = unit_problems(name=name, credit_code=credit_code, category=category, home=home_association,
                             exclude=org)
    if problems:
        raise RegistrationError(problems)
    with transaction.atomic():
        before = _org_facts(org)
        Organisation.objects.filter(pk=org.pk).update(
            name=name.strip(), credit_code=normalize_credit_code(credit_code), category=category,
            parent=home_association, address=address.strip(), postcode=postcode.strip(),
            contact_name=contact_name.strip(), contact_phone=contact_phone.strip(), email=email.strip(),
            submitted_at=timezone.now(),
        )
        org.refresh_from_db()
        REGISTRATION.perform(user=actor, obj=org, action="resubmit", extra_after={"before": before})
    org.refresh_from_db()
    return org


# --- passwords ---------------------------------------------------------------------------------------

PASSWORD_HISTORY = 5  # none of the last five passwords may be chosen again (validators.PasswordHistoryValidator)


def _remember_password(user: User) -> None:
    """Keep the new hash among the account's last passwords (older ones are forgotten)."""
    PasswordHistory.objects.create(user=user, password=user.password)
    keep = list(PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[:PASSWORD_HISTORY])
    PasswordHistory.objects.filter(user=user).exclude(pk__in=keep).delete()


def change_password(*, user: User, new_password: str, ip: str | None = None) -> None:
    """The user's own change (first login, when it is due, or at will). The old password was checked
    by the form; the new one passes the password rules (history and likeness to the user name included)."""
    validate_password(new_password, user)
    with transaction.atomic():
        forced = user.must_change_password
        expired = selectors.password_expired(user)
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        _remember_password(user)
        audit.record(actor=user, action="account.password_change", obj=user, ip=ip,
                     note="首次登录/重置后修改密码" if forced else "密码已到期（90天）" if expired else "")


def set_password_by_link(*, user: User, new_password: str, ip: str | None = None) -> None:
    """The account holder chose a password through the one-time link mailed to them (a new account or a
    reset). The link is checked by the view; using it changes the password, which ends the link."""
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        _remember_password(user)
        audit.record(actor=None, actor_name=user.username, action="account.password_set_by_link", obj=user, ip=ip)


# --- logins: throttled addresses, second factor ------------------------------------------------------


def record_login_throttled(*, username: str, ip: str | None) -> None:
    """A login refused because its address failed too often across user names (orgs/lockout.py)."""
    user = User.objects.filter(username=str(username)[:150]).first() if username else None
    audit.record(actor=None, actor_name=str(username or "")[:150], action="account.login_throttled", obj=user, ip=ip,
                 note="本地址登录失败次数过多，登录被拒绝")


def confirm_otp_device(*, user: User, device, ip: str | None = None) -> None:
    """An administrator enrolled their authenticator app (the first right code confirms the device)."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(actor=None, actor_name=user.username, action="account.otp_enrol", obj=user, ip=ip,
                     after={"device": "totp"})


# --- accounts (security administrator) ---------------------------------------------------------------


def _require_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise ValidationError(gettext("请填写电子邮箱：设置密码的一次性链接只发送到账户本人的邮箱"))
    return email


def create_account(*, actor, username: str, display_name: str, role: str, organisation: Organisation | None,
                   phone: str = "", email: str = "", ip: str | None = None) -> User:
    """A new business account with one role. It has no password yet: the holder sets one through the
    one-time link mailed to them (the security administrator never knows it). An administrator account
    is a request another administrator approves (request_admin_change)."""
    require(permissions.can_administer_security(actor))
    if role in ADMIN_ROLES:
        raise NotAllowed(gettext("新建管理员账户须由另一名管理员复核：请提交申请"))
    username = _check_new_username(username)
    if role not in Role.values:
        raise ValidationError(gettext("请选择角色"))
    if organisation is None and role != Role.EXPERT:
        raise ValidationError(gettext("该角色须指定所属单位"))
    email = _require_email(email)
    with transaction.atomic():
        user = _new_account(actor=actor, username=username, display_name=display_name, role=role,
                            organisation=organisation, phone=phone, email=email, ip=ip)
    return user


def _check_new_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError(gettext("请填写用户名"))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(gettext("该用户名已被使用"))
    return username


def _new_account(*, actor, username, display_name, role, organisation, phone, email, ip=None) -> User:
    user = User.objects.create_user(username=username, password=None, display_name=(display_name or "").strip(),
                                    organisation=organisation, phone=(phone or "").strip(), email=email,
                                    must_change_password=False)
    RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
    audit.record(actor=actor, action="account.create", obj=user, ip=ip,
                 after={"username": username, "role": role, "email": notify.masked(email),
                        "organisation": organisation.name if organisation else ""})
    notify.password_link(user, new_account=True)
    return user


def grant_role(*, actor, user: User, role: str, organisation: Organisation | None = None) -> RoleAssignment:
    require(permissions.can_manage_account(actor, user))
    if role not in Role.values:
        raise ValidationError(gettext("请选择角色"))
    if role in ADMIN_ROLES:
        raise NotAllowed(gettext("授予管理员角色须由另一名管理员复核：请提交申请"))
    require(permissions.can_grant_role(actor, user, role))
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, organisation=organisation)
        if created:
            audit.record(actor=actor, action="account.role_grant", obj=user,
                         after={"role": role, "organisation": organisation.name if organisation else ""})
    return assignment


def revoke_role(*, actor, assignment: RoleAssignment) -> None:
    require(permissions.can_manage_account(actor, assignment.user))
    if assignment.role in ADMIN_ROLES:
        raise NotAllowed(gettext("撤销管理员角色须由另一名管理员复核：请提交申请"))
    with transaction.atomic():
        before = {"role": assignment.role,
                  "organisation": assignment.organisation.name if assignment.organisation_id else ""}
        user = assignment.user
        assignment.delete()
        audit.record(actor=actor, action="account.role_revoke", obj=user, before=before)


def reset_password(*, actor, user: User, ip: str | None = None) -> str:
    """The old password stops working and a one-time link goes to the account holder's e-mail; the
    security administrator never sees a password. Returns the masked address the link went to."""
    require(permissions.can_manage_account(actor, user))
    if not (user.email or "").strip():
        raise ValidationError(gettext("该账户没有登记电子邮箱，无法发送重置链接；请本人提供邮箱后再办理"))
    with transaction.atomic():
        user.set_unusable_password()
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit.record(actor=actor, action="account.password_reset", obj=user, ip=ip,
                     after={"link_sent_to": notify.masked(user.email)})
        notify.password_link(user, new_account=False)
    return notify.masked(user.email)


# --- maker and checker: changes to administrator accounts --------------------------------------------

ADMIN_REQUEST = Workflow("admin_request", [
    Transition("pending", "approve", permissions.can_check_admin_request, "approved",
               pgettext_lazy("transition", "批准")),
    Transition("pending", "reject", permissions.can_check_admin_request, "rejected",
               pgettext_lazy("transition", "驳回")),
])


def _request_facts(req: AdminRequest) -> dict[str, Any]:
    return {"kind": req.kind, "role": req.role, "target": req.target.username if req.target_id else "",
            "details": {k: (notify.masked(v) if k == "email" else v) for k, v in req.details.items()}}


def request_admin_change(*, actor, kind: str, target: User | None = None, role: str = "",
                         details: dict | None = None, ip: str | None = None) -> AdminRequest:
    """The maker: a security administrator asks for a change to an administrator account (a new one, an
    administrator role granted or revoked, its second factor reset, the account deactivated or activated).
    Nothing changes until another administrator approves it (decide_admin_request)."""
    require(permissions.can_request_admin_change(actor, target))
    if kind not in AdminRequest.Kind.values:
        raise ValidationError(gettext("未知的申请类型"))
    details = dict(details or {})
    if kind == AdminRequest.Kind.CREATE:
        if role not in ADMIN_ROLES:
            raise ValidationError(gettext("请选择管理员角色"))
        details["username"] = _check_new_username(details.get("username", ""))
        details["email"] = _require_email(details.get("email", ""))
        details = {k: str(details.get(k) or "").strip() for k in ("username", "display_name", "email", "phone")}
        target = None
    else:
        if target is None:
            raise ValidationError(gettext("请选择账户"))
        if kind == AdminRequest.Kind.GRANT:
            if role not in ADMIN_ROLES:
                raise ValidationError(gettext("请选择管理员角色"))
            require(permissions.admin_role_conflict(target, role))
        elif kind == AdminRequest.Kind.REVOKE and not target.roles.filter(role=role).exists():
            raise ValidationError(gettext("该账户没有这一角色"))
        elif kind == AdminRequest.Kind.OTP_RESET:
            role = ""
        elif kind in (AdminRequest.Kind.DEACTIVATE, AdminRequest.Kind.ACTIVATE):
            role = ""
            if not permissions.is_admin_account(target):
                raise ValidationError(gettext("该账户不是管理员账户，无须复核，请直接办理"))
            if target.is_active == (kind == AdminRequest.Kind.ACTIVATE):
                raise ValidationError(gettext("该账户已经是启用状态") if target.is_active
                                      else gettext("该账户已经停用"))
        details = {}
    with transaction.atomic():
        if AdminRequest.objects.filter(status="pending", kind=kind, target=target, role=role,
                                       details=details).exists():
            raise ValidationError(gettext("同样的申请已在等待复核"))
        req = AdminRequest.objects.create(kind=kind, target=target, role=role, details=details, requested_by=actor)
        audit.record(actor=actor, action="admin_request.submit", obj=req, after=_request_facts(req), ip=ip)
    return req


def decide_admin_request(*, actor, request: AdminRequest, approve: bool, note: str = "",
                         ip: str | None = None) -> AdminRequest:
    """The checker: another administrator (system or security, neither the maker nor the account
    concerned) approves or rejects. An approved request takes effect in the same transaction."""
    with transaction.atomic():
        req = ADMIN_REQUEST.perform(user=actor, obj=request, action="approve" if approve else "reject",
                                    note=(note or "").strip()[:300], extra_after=_request_facts(request))
        AdminRequest.objects.filter(pk=req.pk).update(decided_by=actor, decided_at=timezone.now(),
                                                      note=(note or "").strip()[:300])
        if approve:
            _apply_admin_request(actor=actor, req=req, ip=ip)
    request.refresh_from_db()
    return request


def _apply_admin_request(*, actor, req: AdminRequest, ip: str | None) -> None:
    if req.kind == AdminRequest.Kind.CREATE:
        d = req.details
        user = _new_account(actor=actor, username=_check_new_username(d.get("username", "")),
                            display_name=d.get("display_name", ""), role=req.role, organisation=None,
                            phone=d.get("phone", ""), email=_require_email(d.get("email", "")), ip=ip)
        AdminRequest.objects.filter(pk=req.pk).update(target=user)
    elif req.kind == AdminRequest.Kind.GRANT:
        require(permissions.admin_role_conflict(req.target, req.role))
        RoleAssignment.objects.create(user=req.target, role=req.role, organisation=None)
        audit.record(actor=actor, action="account.role_grant", obj=req.target, ip=ip,
                     after={"role": req.role, "organisation": "", "request": req.pk})
    elif req.kind == AdminRequest.Kind.REVOKE:
        RoleAssignment.objects.filter(user=req.target, role=req.role).delete()
        audit.record(actor=actor, action="account.role_revoke", obj=req.target, ip=ip,
                     before={"role": req.role, "organisation": ""}, after={"request": req.pk})
    elif req.kind == AdminRequest.Kind.OTP_RESET:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        count, _ = TOTPDevice.objects.filter(user=req.target).delete()
        audit.record(actor=actor, action="account.otp_reset", obj=req.target, ip=ip,
                     before={"devices": count}, after={"devices": 0, "request": req.pk})
    elif req.kind in (AdminRequest.Kind.DEACTIVATE, AdminRequest.Kind.ACTIVATE):
        _set_active(actor=actor, user=req.target, active=req.kind == AdminRequest.Kind.ACTIVATE, ip=ip,
                    request=req.pk)


def unlock_account(*, actor, user: User) -> int:
    """Lift a lock after failed logins before its 30 minutes are over; returns the attempts cleared."""
    from axes.models import AccessAttempt

    require(permissions.can_manage_account(actor, user))
    with transaction.atomic():
        until = selectors.locked_until(user.username)
        count, _ = AccessAttempt.objects.filter(username=user.username).delete()
        audit.record(actor=actor, action="account.unlock", obj=user,
                     before={"locked_until": until}, after={"attempts_cleared": count})
    return count


def set_account_active(*, actor, user: User, active: bool) -> None:
    """Deactivate or activate a business account. An administrator account is a request another
    administrator approves (request_admin_change, kinds deactivate/activate; R-S88)."""
    require(permissions.can_manage_account(actor, user))
    if permissions.is_admin_account(user):
        raise NotAllowed(gettext("启用管理员账户须由另一名管理员复核：请提交申请") if active
                         else gettext("停用管理员账户须由另一名管理员复核：请提交申请"))
    with transaction.atomic():
        _set_active(actor=actor, user=user, active=active)


def _set_active(*, actor, user: User, active: bool, ip: str | None = None, request: int | None = None) -> None:
    before = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    after: dict[str, Any] = {"is_active": active}
    if request is not None:
        after["request"] = request
    audit.record(actor=actor, action="account.activate" if active else "account.deactivate", obj=user, ip=ip,
                 before={"is_active": before}, after=after)


# --- organisations and categories (system administrator) ---------------------------------------------


ORG_FIELDS = ("name", "short_name", "category", "parent", "credit_code", "region", "address", "postcode",
              "contact_name", "contact_phone", "email", "status")


def _check_org(org: Organisation) -> None:
    if org.credit_code:
        org.credit_code = normalize_credit_code(org.credit_code)
    else:
        org.credit_code = None
    if org.pk and org.parent_id and (org.parent_id == org.pk or org.parent_id in selectors.descendant_ids([org])):
        raise ValidationError({"parent": gettext("上级单位不能是本单位或其下级单位")})
    org.full_clean()


def create_organisation(*, actor, **fields) -> Organisation:
    require(permissions.can_administer_system(actor))
    org = Organisation(**{k: v for k, v in fields.items() if k in ORG_FIELDS})
    _check_org(org)
    with transaction.atomic():
        org.save()
        audit.record(actor=actor, action="org.create", obj=org, after=_org_facts(org))
    return org


def update_organisation(*, actor, org: Organisation, **fields) -> Organisation:
    require(permissions.can_administer_system(actor))
    before = _org_facts(org)
    for k, v in fields.items():
        if k in ORG_FIELDS:
            setattr(org, k, v)
    _check_org(org)
    with transaction.atomic():
        org.save()
        audit.record(actor=actor, action="org.update", obj=org, before=before, after=_org_facts(org))
    return org


# --- dated attributes --------------------------------------------------------------------------------

TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "无", "×", ""}


def parse_attribute_value(defn: AttributeDef, raw: Any) -> Any:
    """Typed text → the stored value of the attribute's kind, or a Chinese error."""
    text = str(raw if raw is not None else "").strip()
    kind = defn.kind
    if kind == "grade":
        t = text.upper().removesuffix("A").removesuffix("级")
        t = "0" if t in {"", "无"} else t
        if not t.isdigit():
            raise ValidationError(gettext("%(name)s须为等级，如 3A 或 3") % {"name": defn.name})
        value = int(t)
        allowed = {int(k) for k in defn.labels} | {0} if defn.labels else set(range(0, 6))
        if value not in allowed:
            raise ValidationError(gettext("%(name)s没有 %(value)s 这一等级") % {"name": defn.name, "value": text})
        return value
    if kind == "rating":
        value = text.upper()
        if defn.choices and value not in defn.choices:
            raise ValidationError(gettext("%(name)s须为 %(choices)s 之一") % {"name": defn.name, "choices": "、".join(defn.choices)})
        if not value:
            raise ValidationError(gettext("请填写%(name)s") % {"name": defn.name})
        return value
    if kind == "bool":
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValidationError(gettext("%(name)s须填“是”或“否”") % {"name": defn.name})
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValidationError(gettext("%(name)s须为整数") % {"name": defn.name}) from None
    if kind == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(gettext("%(name)s须为日期，如 2019-05-20") % {"name": defn.name}) from None
    if defn.choices and text not in defn.choices:
        raise ValidationError(gettext("%(name)s须为 %(choices)s 之一") % {"name": defn.name, "choices": "、".join(defn.choices)})
    return text


def _attr_facts(rec: OrgAttribute) -> dict[str, Any]:
    return {"key": rec.key, "value": rec.value, "year": rec.year, "valid_from": rec.valid_from,
            "valid_to": rec.valid_to, "note": rec.note}


def record_attribute(*, actor, org: Organisation, key: str, value: Any, year: int | None = None,
                     valid_from: dt.date | None = None, valid_to: dt.date | None = None,
                     note: str = "") -> OrgAttribute:
    """Record a dated fact. A yearly attribute (rating) has one value per year (a new one replaces it);
    another attribute's new value closes the one that held before it (3A until 2022-12-31, then 2A)."""
    require(permissions.can_record_attributes(actor, org))
    defn = AttributeDef.objects.filter(key=key).first()
    if defn is None:
        raise ValidationError(gettext("没有名为 %(key)s 的单位属性") % {"key": key})
    stored = parse_attribute_value(defn, value)
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError(gettext("截止日期不能早于起始日期"))
    with transaction.atomic():
        if defn.yearly or defn.kind == "rating":
            if not year:
                raise ValidationError(gettext("%(name)s按年度评定，请填写年度") % {"name": defn.name})
            existing = OrgAttribute.objects.filter(organisation=org, key=key, year=year).first()
            before = _attr_facts(existing) if existing else None
            rec, _ = OrgAttribute.objects.update_or_create(
                organisation=org, key=key, year=year,
                defaults={"value": stored, "valid_from": valid_from, "valid_to": valid_to, "note": note},
            )
            audit.record(actor=actor, action="org.attribute_record", obj=org, before=before, after=_attr_facts(rec))
            return rec
        open_records = OrgAttribute.objects.filter(organisation=org, key=key, year__isnull=True, valid_to__isnull=True)
        if valid_to is None and open_records.exists() and valid_from is None:
            valid_from = timezone.localdate()
        closed = []
        if valid_to is None and valid_from is not None:
            for old in open_records.filter(valid_from__lt=valid_from) | open_records.filter(valid_from__isnull=True):
                old.valid_to = valid_from - dt.timedelta(days=1)
                old.save(update_fields=["valid_to"])
                closed.append(_attr_facts(old))
        rec = OrgAttribute.objects.create(organisation=org, key=key, value=stored, valid_from=valid_from,
                                          valid_to=valid_to, note=note)
        audit.record(actor=actor, action="org.attribute_record", obj=org,
                     before={"closed": closed} if closed else None, after=_attr_facts(rec))
    return rec


def end_attribute(*, actor, attribute: OrgAttribute, valid_to: dt.date) -> OrgAttribute:
    """The fact no longer holds after `valid_to` (a grade withdrawn, a candidacy ended)."""
    require(permissions.can_record_attributes(actor, attribute.organisation))
    if attribute.valid_from and valid_to < attribute.valid_from:
        raise ValidationError(gettext("截止日期不能早于起始日期"))
    with transaction.atomic():
        before = _attr_facts(attribute)
        attribute.valid_to = valid_to
        attribute.save(update_fields=["valid_to"])
        audit.record(actor=actor, action="org.attribute_end", obj=attribute.organisation, before=before,
                     after=_attr_facts(attribute))
    return attribute


def remove_attribute(*, actor, attribute: OrgAttribute, reason: str) -> None:
    """Remove a record entered by mistake (the audit log keeps what it was)."""
    require(permissions.can_record_attributes(actor, attribute.organisation))
    if not (reason or "").strip():
        raise ValidationError(gettext("删除属性记录须说明原因"))
    with transaction.atomic():
        org = attribute.organisation
        before = _attr_facts(attribute)
        attribute.delete()
        audit.record(actor=actor, action="org.attribute_remove", obj=org, before=before, note=reason.strip())
