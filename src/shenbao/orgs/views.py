"""Account pages: login, home, registration, the registrations page, units, and the three administrators."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from shenbao.core import audit, ratelimit
from shenbao.core.decisions import Decision, NotAllowed
from shenbao.core.http import client_ip, posted_id
from shenbao.orgs import catalogue, forms, notify, otp, permissions, selectors, services
from shenbao.orgs.models import (
    ADMIN_ROLES,
    AdminRequest,
    AttributeDef,
    Category,
    Organisation,
    OrgAttribute,
    Role,
    RoleAssignment,
    User,
)


def denied(request, decision: Decision | str, status: int = 403):
    reason = decision.reason if isinstance(decision, Decision) else decision
    audit.refused(reason)  # written to the audit log as access.denied (core/audit_middleware.py)
    return render(request, "orgs/denied.html", {"reason": reason}, status=status)


def _errors_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- login, lockout, password ------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The password; then, for the three administrators, the second factor (otp_verify) before the session
    is logged in. An address that failed too often across user names is refused with 429 (R-S58)."""

    template_name = "orgs/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        failures = getattr(self.request, "axes_failures_since_start", None)
        if self.request.method == "POST" and failures:
            ctx["attempts_left"] = max(settings.AXES_FAILURE_LIMIT - failures, 0)
        return ctx

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(self.request, "shenbao_throttled", False):
            services.record_login_throttled(username=form.data.get("username", ""), ip=client_ip(self.request))
            response.status_code = 429
        return response

    def form_valid(self, form):
        user = form.get_user()
        if not otp.needs_second_factor(user):
            return super().form_valid(form)
        # not logged in yet: the session remembers who passed the password step, for a few minutes
        otp.start(self.request, user, next_url=self.get_success_url())
        return redirect("orgs:otp_verify")


def otp_verify(request):
    """The administrators' second step: the 6-digit code of their authenticator app (TOTP), or, the first
    time, enrolment: a QR code drawn here (segno, no outside service) and the secret to type in."""
    pending = otp.pending(request)
    if pending is None:
        messages.error(request, _("请先输入用户名和密码。"))
        return redirect("orgs:login")
    user, next_url = pending
    device, enrolling = otp.device_for(user)
    form = forms.TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if otp.locked(request, user):
            otp.clear(request)
            return lockout(request, credentials={"username": user.username})
        if form.is_valid():
            allowed, wait = otp.allowed(device)
            if allowed and device.verify_token(form.cleaned_data["token"]):
                otp.finish(request, user, device, enrolled=enrolling, ip=client_ip(request))
                return redirect(next_url)
            if allowed:
                form.add_error("token", _("验证码不正确，请输入验证器应用当前显示的6位数字。"))
            else:  # the device's own back-off after wrong codes; the attempt still counts
                form.add_error("token", _("尝试过于频繁，请 %(s)s 秒后再试。") % {"s": wait})
            otp.failed(request, user)
            if getattr(request, "axes_locked_out", False):
                otp.clear(request)
                return lockout(request, credentials={"username": user.username})
        status = 400
    return render(request, "orgs/otp_verify.html", {
        "form": form, "target": user, "enrolling": enrolling,
        "qr": otp.qr_svg(device) if enrolling else "", "secret": otp.secret(device) if enrolling else "",
    }, status=status)


def lockout(request, original_response=None, credentials=None, *args, **kwargs):
    """axes calls this when an account is locked (5 failures): a Chinese page saying until when (JSON for
    the login dialog of the application form)."""
    username = ""
    if isinstance(credentials, dict):
        username = credentials.get("username") or ""
    username = username or request.POST.get("username", "")
    until = selectors.locked_until(username) if username else None
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if _wants_json(request):
        text = (_("账户已锁定，请在 %(t)s 后再试。") % {"t": timezone.localtime(until).strftime("%H:%M")} if until
                else _("账户已锁定，请 %(n)s 分钟后再试。") % {"n": minutes})
        return JsonResponse({"ok": False, "locked": True, "message": text}, status=403)
    return render(request, "orgs/locked.html", {
        "username": username, "until": until, "limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes,
    }, status=403)


def _wants_json(request) -> bool:
    return request.path == reverse("orgs:login_json") or "application/json" in request.headers.get("Accept", "")


@ensure_csrf_cookie
@never_cache
def login_json(request):
    """The login dialog of a page that must not be left (the application form after the session expired):
    GET gives a fresh CSRF token, POST logs in through the same form, axes lockout and audit as the login
    page and answers JSON with the new CSRF token (login rotates it)."""
    if request.method == "GET":
        return JsonResponse({"ok": True, "authenticated": request.user.is_authenticated, "csrf": get_token(request)})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = forms.LoginForm(request, data=request.POST)
    if form.is_valid():
        if otp.needs_second_factor(form.get_user()):  # R-S60: never on the password alone
            audit.record(actor=None, actor_name=form.get_user().get_username(), action="account.login_failed",
                         obj=form.get_user(), ip=client_ip(request), note="管理员不能经表单的登录对话框登录")
            return JsonResponse({"ok": False, "login_url": reverse("orgs:login"),
                                 "message": _("管理员须在登录页输入密码和动态验证码登录")}, status=403)
        auth_login(request, form.get_user())
        return JsonResponse({"ok": True, "csrf": get_token(request), "user": request.user.get_username(),
                             "message": _("已重新登录")})
    errors = [str(m) for m in form.non_field_errors()] + [
        f"{form.fields[k].label}：{m}" for k, ms in form.errors.items() if k in form.fields for m in ms]
    out = {"ok": False, "message": "；".join(errors) or _("登录失败")}
    failures = getattr(request, "axes_failures_since_start", None)
    if failures:
        out["attempts_left"] = max(settings.AXES_FAILURE_LIMIT - failures, 0)
    return JsonResponse(out, status=429 if getattr(request, "shenbao_throttled", False) else 400)


@login_required
def password_change(request):
    form = forms.OwnPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(user=request.user, new_password=form.cleaned_data["new_password1"],
                                     ip=client_ip(request))
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("密码已修改。"))
            return redirect("orgs:home")
    return render(request, "orgs/password_change.html", {
        "form": form, "forced": request.user.must_change_password,
        "expired": selectors.password_expired(request.user),
        "max_age": settings.SHENBAO_ADMIN_PASSWORD_MAX_AGE.days,
    })


def _user_from_link(uidb64: str, token: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def password_set(request, uidb64: str, token: str):
    """The one-time link mailed to the account holder (a new account or a reset): choose a password."""
    user = _user_from_link(uidb64, token)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    if user is None:
        return render(request, "orgs/password_set.html", {"invalid": True, "minutes": minutes}, status=400)
    form = forms.LinkPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password_by_link(user=user, new_password=form.cleaned_data["new_password1"],
                                          ip=client_ip(request))
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            messages.success(request, _("密码已设置，请用新密码登录。"))
            return redirect("orgs:login")
    return render(request, "orgs/password_set.html", {"form": form, "target": user, "minutes": minutes},
                  status=400 if form.errors else 200)


# --- home ----------------------------------------------------------------------------------------------


def _link(label: str, name: str, fallback: str | None = None, *args) -> dict | None:
    """A link by URL name; another engineer's page may not exist yet: then the plain path, or nothing."""
    try:
        return {"label": label, "url": reverse(name, args=args)}
    except NoReverseMatch:
        return {"label": label, "url": fallback} if fallback else None


ROLE_LINKS = {
    Role.APPLICANT_CLERK: [
        (gettext_lazy("申报通知"), "calls:portal", "/"),
        (gettext_lazy("可申报项目"), "applications:offers", None),
        (gettext_lazy("我的申报"), "applications:mine", None),
        (gettext_lazy("我的项目"), "projects:mine", None),
        (gettext_lazy("志愿服务"), "projects:volunteers", None),
    ],
    Role.UNIT_HEAD: [
        (gettext_lazy("申报通知"), "calls:portal", "/"),
        (gettext_lazy("本单位申报"), "applications:mine", None),
        (gettext_lazy("我的项目"), "projects:mine", None),
        (gettext_lazy("志愿服务"), "projects:volunteers", None),
    ],
    Role.HOME_REVIEWER: [
        (gettext_lazy("注册单位审核"), "orgs:registrations", None),
        (gettext_lazy("属地推荐审核"), "applications:endorse", None),
    ],
    Role.FUNDER_STAFF: [
        (gettext_lazy("申报通知管理"), "calls:manage", "/manage/calls/"),
        (gettext_lazy("收到的申报"), "applications:received", None),
        (gettext_lazy("形式审查"), "review:screening", None),
        (gettext_lazy("注册单位与单位属性"), "orgs:registrations", None),
        (gettext_lazy("评审专家库"), "review:experts", None),
        (gettext_lazy("专家评分"), "review:scoring_calls", None),
        (gettext_lazy("评审排名与立项建议"), "review:selection", None),
        (gettext_lazy("统计报表"), "projects:reports", None),
        (gettext_lazy("项目验收与抽查"), "projects:acceptances", None),
        (gettext_lazy("立项项目"), "projects:funder", None),
    ],
    Role.FUNDER_LEADER: [
        (gettext_lazy("申报通知管理"), "calls:manage", "/manage/calls/"),
        (gettext_lazy("收到的申报"), "applications:received", None),
        (gettext_lazy("形式审查"), "review:screening", None),
        (gettext_lazy("注册单位"), "orgs:registrations", None),
        (gettext_lazy("评审专家库"), "review:experts", None),
        (gettext_lazy("专家评分"), "review:scoring_calls", None),
        (gettext_lazy("评审排名与立项建议"), "review:selection", None),
        (gettext_lazy("统计报表"), "projects:reports", None),
        (gettext_lazy("项目验收与抽查"), "projects:acceptances", None),
        (gettext_lazy("立项项目"), "projects:funder", None),
    ],
    Role.FINANCE: [
        (gettext_lazy("经费管理"), "projects:finance", None),
        (gettext_lazy("评审结果确认"), "review:selection", None),
        (gettext_lazy("统计报表"), "projects:reports", None),
    ],
    Role.EXPERT: [
        (gettext_lazy("评审任务"), "review:mine", None),
    ],
    Role.SYSTEM_ADMIN: [
        (gettext_lazy("系统管理：单位与类别"), "orgs:system", None),
        (gettext_lazy("管理员账户变更复核"), "orgs:admin_requests", None),
    ],
    Role.SECURITY_ADMIN: [
        (gettext_lazy("安全管理：账户与角色"), "orgs:security", None),
        (gettext_lazy("管理员账户变更复核"), "orgs:admin_requests", None),
    ],
    Role.AUDIT_ADMIN: [
        (gettext_lazy("审计日志"), "orgs:audit", None),
    ],
}


@login_required
def home(request):
    user = request.user
    assignments = list(user.roles.select_related("organisation"))
    links, seen = [], set()
    for a in assignments:
        for label, name, fallback in ROLE_LINKS.get(a.role, []):
            link = _link(label, name, fallback)
            if link and link["url"] not in seen:
                seen.add(link["url"])
                links.append(link)
    org = user.organisation
    from shenbao.applications import selectors as application_selectors  # a view composes the stages
    from shenbao.projects import contracts as project_contracts

    return render(request, "orgs/home.html", {
        "org": org, "assignments": assignments, "links": links,
        "todo": application_selectors.todo(user) + project_contracts.todo(user),
        "can_resubmit": bool(org and org.status == Organisation.Status.REJECTED
                             and services.REGISTRATION.can(user, org, "resubmit")),
    })


# --- registration --------------------------------------------------------------------------------------


def _registration_errors(form, exc) -> None:
    """A registration refused by the service: each problem beside its field (or above the form)."""
    for field, message in exc.errors.items():
        form.add_error(field if field in form.fields else None, message)


def _safe_next(request) -> str:
    """Where to go after logging in (e.g. 在线申报 on a call page), if it is a path of this site."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return nxt if nxt and ok else ""


def register(request):
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "orgs:home")
    form = forms.RegistrationForm(request.POST or None)
    rate, window = settings.SHENBAO_REGISTER_RATE
    if request.method == "POST" and not ratelimit.hit("register", client_ip(request), limit=rate, window=window):
        # R-S63: one address may post the form only so often (what was typed is kept)
        form.is_valid()
        form.add_error(None, _("操作过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": window // 60})
        return render(request, "orgs/register.html", {
            "form": form, "error_count": 1, "next": _safe_next(request)}, status=429)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            org, _user = services.register_unit(
                **form.unit_data(), username=d["username"], password=d["password1"],
                display_name=d["display_name"], phone=d["phone"], ip=client_ip(request),
            )
        except services.RegistrationError as exc:
            _registration_errors(form, exc)
        else:
            request.session["registered_org"] = org.pk
            request.session["registered_next"] = _safe_next(request)
            return redirect("orgs:register_done")
    return render(request, "orgs/register.html", {
        "form": form, "error_count": sum(len(v) for v in form.errors.values()), "next": _safe_next(request)})


def register_done(request):
    org = Organisation.objects.filter(pk=request.session.get("registered_org")).select_related("parent").first()
    if org is None:
        return redirect("orgs:register")
    return render(request, "orgs/register_done.html", {
        "org": org, "email": org.email or org.users.exclude(email="").values_list("email", flat=True).first() or "",
        "review_days": getattr(settings, "SHENBAO_REGISTRATION_REVIEW_DAYS", 3),
        "next": request.session.get("registered_next", "")})


@login_required
def resubmit(request):
    org = request.user.organisation
    if org is None:
        return denied(request, _("您的账户不属于任何单位"))
    decision = services.REGISTRATION.can(request.user, org, "resubmit")
    if not decision:
        return denied(request, decision)
    initial = {"name": org.name, "credit_code": org.credit_code, "category": org.category,
               "home_association": org.parent, "address": org.address, "postcode": org.postcode,
               "contact_name": org.contact_name, "contact_phone": org.contact_phone, "email": org.email}
    form = forms.ResubmitForm(request.POST or None, initial=initial, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.resubmit_registration(actor=request.user, org=org, **form.unit_data())
        except services.RegistrationError as exc:
            _registration_errors(form, exc)
        else:
            messages.success(request, _("注册信息已重新提交，请等待属地科协审核。"))
            return redirect("orgs:home")
    return render(request, "orgs/resubmit.html", {"form": form, "org": org})


# --- registrations page (home association reviewers and funder staff) -----------------------------------


@login_required
def registrations(request):
    decision = permissions.can_see_registrations(request.user)
    if not decision:
        return denied(request, decision)
    status = request.GET.get("status", "pending")
    if status not in {*Organisation.Status.values, "all"}:
        status = "pending"
    q = request.GET.get("q", "").strip()
    qs = selectors.registrations(request.user, status="" if status == "all" else status, q=q)
    qs = qs.prefetch_related(Prefetch("users", queryset=User.objects.order_by("id")))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [(o, bool(permissions.can_review_registration(request.user, o))) for o in page]
    tabs = [("pending", _("待审核")), ("active", _("已通过")), ("rejected", _("已驳回")), ("all", _("全部"))]
    return render(request, "orgs/registrations.html", {
        "page": page, "rows": rows, "status": status, "q": q, "tabs": tabs,
        "counts": selectors.registration_counts(request.user), "reject_form": forms.RejectForm(),
    })


@login_required
@require_POST
def decide_registration(request, pk: int):
    org = get_object_or_404(Organisation, pk=pk)
    action = request.POST.get("action")
    back = request.POST.get("next", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                                       require_https=request.is_secure()):
        back = reverse("orgs:registrations")
    try:
        if action == "approve":
            services.approve_registration(actor=request.user, org=org, note=request.POST.get("note", ""))
            messages.success(request, _("已通过「%(name)s」的注册，其经办人现在可以申报。") % {"name": org.name})
        elif action == "reject":
            services.reject_registration(actor=request.user, org=org, reason=request.POST.get("reason", ""))
            messages.success(request, _("已驳回「%(name)s」的注册，理由将在其登录时显示。") % {"name": org.name})
        else:
            return HttpResponseNotAllowed(["POST"])
    except NotAllowed as exc:
        return denied(request, exc.reason)
    except ValidationError as exc:
        messages.error(request, f"「{org.name}」：{_errors_text(exc)}")
    return redirect(back)


# --- a unit's page: facts, users, dated attributes --------------------------------------------------------


@login_required
def unit(request, pk: int):
    org = get_object_or_404(Organisation.objects.select_related("category", "parent", "reviewed_by"), pk=pk)
    decision = permissions.can_view_unit(request.user, org)
    if not decision:
        return denied(request, decision)
    can_record = permissions.can_record_attributes(request.user, org)
    form = forms.AttributeForm(request.POST or None) if can_record else None
    if request.method == "POST":
        if not can_record:
            return denied(request, can_record)
        try:
            if request.POST.get("action") == "end":
                rec = get_object_or_404(OrgAttribute, organisation=org,
                                        pk=posted_id(request.POST, "attribute", what=_("属性记录")))
                valid_to = forms.forms.DateField().clean(request.POST.get("valid_to"))
                services.end_attribute(actor=request.user, attribute=rec, valid_to=valid_to)
                messages.success(request, _("已登记截止日期。"))
                return redirect("orgs:unit", pk=org.pk)
            if request.POST.get("action") == "remove":
                rec = get_object_or_404(OrgAttribute, organisation=org,
                                        pk=posted_id(request.POST, "attribute", what=_("属性记录")))
                services.remove_attribute(actor=request.user, attribute=rec, reason=request.POST.get("reason", ""))
                messages.success(request, _("已删除该属性记录（审计日志保留原值）。"))
                return redirect("orgs:unit", pk=org.pk)
            if form.is_valid():
                d = form.cleaned_data
                services.record_attribute(actor=request.user, org=org, key=d["key"].key, value=d["value"],
                                          year=d.get("year"), valid_from=d.get("valid_from"),
                                          valid_to=d.get("valid_to"), note=d.get("note", ""))
                messages.success(request, _("已登记「%(name)s」。") % {"name": d["key"].name})
                return redirect("orgs:unit", pk=org.pk)
        except NotAllowed as exc:
            return denied(request, exc.reason)
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
    return render(request, "orgs/unit.html", {
        "org": org, "users": org.users.prefetch_related("roles").order_by("id"),
        "current": selectors.current_attributes(org), "history": selectors.attribute_history(org),
        "form": form, "can_record": bool(can_record),
        "can_review": org.status == Organisation.Status.PENDING
        and bool(permissions.can_review_registration(request.user, org)),
        "context": selectors.eligibility_context(org), "today": timezone.localdate(),
        "defs": AttributeDef.objects.all(),
    })


# --- system administrator: organisations, categories, settings -------------------------------------------


@login_required
def system(request):
    decision = permissions.can_administer_system(request.user)
    if not decision:
        return denied(request, decision)
    form = forms.OrganisationForm(request.POST or None, initial={"status": Organisation.Status.ACTIVE})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reload_catalogue":
                result = catalogue.reload_catalogue(actor=request.user)
                messages.success(request, _("已重新载入单位类别目录（%(n)s 个类别）。") % {"n": result.categories})
                return redirect("orgs:system")
            if form.is_valid():
                org = services.create_organisation(actor=request.user, **form.cleaned_data)
                messages.success(request, _("已新增单位「%(name)s」。") % {"name": org.name})
                return redirect("orgs:system")
        except NotAllowed as exc:
            return denied(request, exc.reason)
        except ValidationError as exc:
            _apply_errors(form, exc)
    q = request.GET.get("q", "").strip()
    if q:
        rows = [(o, 0) for o in Organisation.objects.filter(name__icontains=q).select_related("category")[:200]]
    else:
        rows = selectors.tree(Organisation.objects.filter(category__is_association=True))
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    system_settings = [
        (_("登录失败锁定"), _("连续 %(n)s 次失败锁定 %(minutes)s 分钟") % {"n": settings.AXES_FAILURE_LIMIT,
                                                                       "minutes": minutes}),
        (_("会话空闲超时"), _("%(minutes)s 分钟") % {"minutes": settings.SESSION_COOKIE_AGE // 60}),
        (_("密码规则"), _("至少8位，包含大写字母、小写字母、数字、符号中的至少3类；不能与用户名相似；"
                       "不能与最近5次用过的密码相同；管理员每%(days)s天更换") % {
            "days": settings.SHENBAO_ADMIN_PASSWORD_MAX_AGE.days}),
        (_("地址限流"), _("同一地址 %(minutes)s 分钟内登录失败 %(n)s 次即暂停登录") % {
            "n": settings.SHENBAO_LOGIN_IP_LIMIT, "minutes": int(settings.SHENBAO_LOGIN_IP_WINDOW.total_seconds() // 60)}),
        (_("管理员双因素验证"), _("动态验证码（TOTP）；管理网络：%(nets)s") % {
            "nets": "、".join(settings.SHENBAO_ADMIN_NETWORKS) or _("未设置")}),
        (_("密码存储"), settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1].removesuffix("PasswordHasher")),
        (_("时区"), settings.TIME_ZONE),
        (_("申报通知目录"), str(settings.CALLS_DIR)),
    ]
    return render(request, "orgs/system.html", {
        "form": form, "rows": rows, "q": q, "categories": Category.objects.select_related("parent"),
        "attributes": AttributeDef.objects.all(), "system_settings": system_settings,
        "org_count": Organisation.objects.count(),
    })


@login_required
def system_holidays(request):
    """节假日安排: the official holidays and working days in lieu the working-day calendar (core/calendar.py)
    takes beyond what the chinese-calendar package knows; the system administrator enters later years."""
    from shenbao.core import calendar
    from shenbao.core.models import Holiday

    decision = permissions.can_administer_system(request.user)
    if not decision:
        return denied(request, decision)
    text, errors = "", []
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            try:
                day = dt.date.fromisoformat(request.POST.get("date", ""))
            except ValueError:
                messages.error(request, _("日期格式不正确"))
            else:
                if calendar.remove_day(actor=request.user, date=day):
                    messages.success(request, _("已删除 %(date)s 的安排") % {"date": day})
            return redirect("orgs:system_holidays")
        text = request.POST.get("days", "")[:20000]
        days, errors = calendar.parse_days(text)
        if not errors and not days:
            errors = [_("请至少填写一行")]
        if not errors:
            n = calendar.set_days(actor=request.user, days=days)
            messages.success(request, _("已保存 %(n)s 天的安排") % {"n": n})
            return redirect("orgs:system_holidays")
    first, last = calendar.library_years()
    return render(request, "orgs/system_holidays.html", {
        "rows": Holiday.objects.select_related("created_by").order_by("-date")[:500], "text": text,
        "errors": errors, "first": first, "last": last, "known": calendar.known_years()[-5:],
    }, status=400 if errors else 200)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def system_org(request, pk: int):
    decision = permissions.can_administer_system(request.user)
    if not decision:
        return denied(request, decision)
    org = get_object_or_404(Organisation, pk=pk)
    form = forms.OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        org = Organisation.objects.get(pk=pk)  # the form changed the instance in memory; start clean
        try:
            services.update_organisation(actor=request.user, org=org, **fields)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存「%(name)s」。") % {"name": org.name})
            return redirect("orgs:system")
    return render(request, "orgs/system_org.html", {"form": form, "org": org})


# --- security administrator: accounts, roles, unlocks, resets --------------------------------------------


@login_required
def security(request):
    decision = permissions.can_administer_security(request.user)
    if not decision:
        return denied(request, decision)
    form = forms.AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["role"] in ADMIN_ROLES:
                services.request_admin_change(
                    actor=request.user, kind=AdminRequest.Kind.CREATE, role=d["role"], ip=client_ip(request),
                    details={k: d.get(k) or "" for k in ("username", "display_name", "email", "phone")})
                messages.success(request, _("已提交新建管理员账户「%(u)s」的申请，须由另一名管理员复核后生效。")
                                 % {"u": d["username"]})
            else:
                user = services.create_account(actor=request.user, ip=client_ip(request), **d)
                messages.success(request, _("已创建账户 %(u)s。设置密码的一次性链接已发送至 %(email)s"
                                            "（%(minutes)s 分钟内有效，只能使用一次）；安全管理员看不到密码。")
                                 % {"u": user.username, "email": notify.masked(user.email),
                                    "minutes": settings.PASSWORD_RESET_TIMEOUT // 60})
        except NotAllowed as exc:
            return denied(request, exc.reason)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("orgs:security")
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.accounts(q=q), 50).get_page(request.GET.get("page"))
    rows = [(u, selectors.locked_until(u.username)) for u in page]
    return render(request, "orgs/security.html", {
        "form": form, "page": page, "rows": rows, "q": q,
        "pending": AdminRequest.objects.filter(status="pending").count(),
    })


@login_required
def security_user(request, pk: int):
    decision = permissions.can_administer_security(request.user)
    if not decision:
        return denied(request, decision)
    target = get_object_or_404(User.objects.select_related("organisation"), pk=pk)
    role_form = forms.RoleForm(initial={"organisation": target.organisation})
    ip = client_ip(request)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "grant":
                role_form = forms.RoleForm(request.POST)
                if role_form.is_valid():
                    role = role_form.cleaned_data["role"]
                    if role in ADMIN_ROLES:
                        services.request_admin_change(actor=request.user, kind=AdminRequest.Kind.GRANT,
                                                      target=target, role=role, ip=ip)
                        messages.success(request, _("已提交授予管理员角色的申请，须由另一名管理员复核后生效。"))
                    else:
                        services.grant_role(actor=request.user, user=target, **role_form.cleaned_data)
                        messages.success(request, _("已授予角色。"))
                    return redirect("orgs:security_user", pk=pk)
            elif action == "revoke":
                assignment = get_object_or_404(RoleAssignment, user=target,
                                               pk=posted_id(request.POST, "assignment", what=_("角色")))
                if assignment.role in ADMIN_ROLES:
                    services.request_admin_change(actor=request.user, kind=AdminRequest.Kind.REVOKE,
                                                  target=target, role=assignment.role, ip=ip)
                    messages.success(request, _("已提交撤销管理员角色的申请，须由另一名管理员复核后生效。"))
                else:
                    services.revoke_role(actor=request.user, assignment=assignment)
                    messages.success(request, _("已撤销角色。"))
                return redirect("orgs:security_user", pk=pk)
            elif action == "reset":
                sent_to = services.reset_password(actor=request.user, user=target, ip=ip)
                messages.success(request, _("已重置密码：原密码已失效，设置新密码的一次性链接已发送至账户本人的邮箱 "
                                            "%(email)s（%(minutes)s 分钟内有效，只能使用一次）。安全管理员看不到新密码。")
                                 % {"email": sent_to, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60})
                return redirect("orgs:security_user", pk=pk)
            elif action == "otp_reset":
                services.request_admin_change(actor=request.user, kind=AdminRequest.Kind.OTP_RESET, target=target,
                                              ip=ip)
                messages.success(request, _("已提交重置双因素验证的申请，须由另一名管理员复核后生效。"))
                return redirect("orgs:security_user", pk=pk)
            elif action == "unlock":
                services.unlock_account(actor=request.user, user=target)
                messages.success(request, _("已解除锁定。"))
                return redirect("orgs:security_user", pk=pk)
            elif action in {"activate", "deactivate"}:
                if permissions.is_admin_account(target):  # maker and checker (R-S88)
                    services.request_admin_change(actor=request.user, kind=action, target=target, ip=ip)
                    messages.success(request, _("已提交启用管理员账户的申请，须由另一名管理员复核后生效。")
                                     if action == "activate"
                                     else _("已提交停用管理员账户的申请，须由另一名管理员复核后生效。"))
                else:
                    services.set_account_active(actor=request.user, user=target, active=action == "activate")
                    messages.success(request, _("已启用账户。") if action == "activate" else _("已停用账户。"))
                return redirect("orgs:security_user", pk=pk)
        except NotAllowed as exc:
            audit.refused(exc.reason)
            messages.error(request, exc.reason)
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
    assignments = list(target.roles.select_related("organisation"))
    return render(request, "orgs/security_user.html", {
        "target": target, "assignments": assignments, "role_form": role_form,
        "locked_until": selectors.locked_until(target.username),
        "self_edit": target.pk == request.user.pk,
        "is_admin": any(a.role in ADMIN_ROLES for a in assignments),
        "requests": AdminRequest.objects.filter(target=target).select_related("requested_by", "decided_by")[:20],
    })


# --- maker and checker: requests for changes to administrator accounts --------------------------------------


@login_required
def admin_requests(request):
    decision = permissions.can_see_admin_requests(request.user)
    if not decision:
        return denied(request, decision)
    qs = AdminRequest.objects.select_related("target", "requested_by", "decided_by")
    pending = [(r, bool(permissions.can_check_admin_request(request.user, r))) for r in qs.filter(status="pending")]
    return render(request, "orgs/admin_requests.html", {
        "pending": pending, "decided": qs.exclude(status="pending")[:50],
    })


@login_required
@require_POST
def decide_admin_request(request, pk: int):
    req = get_object_or_404(AdminRequest, pk=pk)
    action = request.POST.get("action")
    if action not in {"approve", "reject"}:
        return denied(request, _("请选择批准或驳回"), status=400)
    try:
        services.decide_admin_request(actor=request.user, request=req, approve=action == "approve",
                                      note=request.POST.get("note", ""), ip=client_ip(request))
    except NotAllowed as exc:
        return denied(request, exc.reason)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, _("已批准该申请，已生效。") if action == "approve" else _("已驳回该申请。"))
    return redirect("orgs:admin_requests")
