"""Forms of the account pages: they check what was typed and keep it; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from shenbao.core import wording
from shenbao.orgs import selectors, services
from shenbao.orgs.models import AttributeDef, Category, Organisation, Role, User
from shenbao.orgs.validators import (
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
    validate_mobile,
    validate_phone,
)


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续%(limit)s次错误将锁定账户%(minutes)s分钟。"),
        "inactive": _("该账户已停用，请联系安全管理员。"),
        "throttled": _("本地址登录失败次数过多，请 %(minutes)s 分钟后再试。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        # AuthenticationForm sets max_length on the field without its validator: a longer name would reach
        # authenticate() and the lockout record (axes: 255 characters), which PostgreSQL refuses with a 500
        username_max = self.fields["username"].max_length or 150
        self.fields["username"].validators.append(MaxLengthValidator(username_max))

    def clean(self):
        # R-S58: an address that failed too often (across user names) is refused before any password is
        # checked, except an administrator in the administration network (orgs/lockout.py)
        from shenbao.core.http import client_ip
        from shenbao.orgs import lockout

        ip = client_ip(self.request)
        username = self.cleaned_data.get("username")
        if lockout.address_throttled(ip) and not lockout.admin_from_admin_network(username, ip):
            if self.request is not None:
                self.request.shenbao_throttled = True
            raise ValidationError(self.error_messages["throttled"], code="throttled",
                                  params={"minutes": int(settings.SHENBAO_LOGIN_IP_WINDOW.total_seconds() // 60)})
        return super().clean()

    def get_invalid_login_error(self):
        return ValidationError(
            self.error_messages["invalid_login"], code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT,
                    "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        )


class TokenForm(forms.Form):
    token = forms.RegexField(label=_("动态验证码"), regex=r"^\s*\d{6}\s*$", max_length=20,
                             error_messages={"invalid": _("请输入验证器应用显示的6位数字"),
                                             "required": _("请输入验证器应用显示的6位数字")},
                             widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                           "autofocus": True}))

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's change form (old password checked, rules applied), labelled in Chinese."""

    error_messages = {
        "password_incorrect": _("原密码不正确，请重新输入。"),
        "password_mismatch": _("两次输入的新密码不一致。"),
    }

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = _("原密码")
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("再次输入新密码")
        self.fields["new_password1"].help_text = ""

    def clean(self):
        data = super().clean()
        new = self.data.get("new_password2")
        if new and "old_password" not in self.errors and new == data.get("old_password"):
            self.errors.pop("new_password2", None)  # this says it better than the history rule
            self.add_error("new_password2", ValidationError(_("新密码不能与原密码相同。"), code="password_same"))
        return data

    def save(self, commit=True):  # the service changes the password (audited); the view calls it
        raise NotImplementedError("use services.change_password")


class LinkPasswordForm(SetPasswordForm):
    """The password chosen through a one-time link (no old password: the link proves the mailbox)."""

    error_messages = {"password_mismatch": _("两次输入的新密码不一致。")}

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("再次输入新密码")
        self.fields["new_password1"].help_text = ""

    def save(self, commit=True):  # the service sets the password (audited); the view calls it
        raise NotImplementedError("use services.set_password_by_link")


class _UnitFieldsMixin(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=200,
                           help_text=_("与公章一致的全称"))
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=40,
                                  help_text=_("18位，见营业执照、法人登记证书或社会团体登记证书"))
    category = forms.ModelChoiceField(label=_("申报单位类别"), queryset=Category.objects.none(),
                                      empty_label=_("— 请选择 —"))
    # the words name the approving body as the settings do (科协 by default; a 科委 sets its own)
    home_association = forms.ModelChoiceField(label=wording.text_lazy("SHENBAO_HOME_LABEL"),
                                              queryset=Organisation.objects.none(),
                                              empty_label=_("— 请选择 —"),
                                              help_text=wording.text_lazy("SHENBAO_HOME_HELP"))
    address = forms.CharField(label=_("通信地址"), max_length=300)
    postcode = forms.RegexField(label=_("邮政编码"), regex=r"^\d{6}$", required=False,
                                error_messages={"invalid": _("邮政编码须为6位数字")})
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30,
                                    help_text=_("手机11位，或带区号的座机，如 0772-2800001"))
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def _setup_unit_fields(self):
        self.fields["category"].queryset = selectors.applicant_categories()
        self.fields["home_association"].queryset = selectors.home_associations()
        self.fields["home_association"].label_from_instance = lambda o: o.name
        self.fields["credit_code"].widget.attrs.update({"autocapitalize": "characters", "spellcheck": "false"})

    exclude_org: Organisation | None = None
    # R-S62: an anonymous form does not say which unit, credit code or user name exists (nor its status):
    # one neutral message above the form instead (services.TAKEN_MESSAGE)
    anonymous = False
    taken = False

    def _duplicate(self, dup: Organisation, by: str):
        if self.anonymous:
            self.taken = True
            return
        raise ValidationError(services.duplicate_message(dup, by=by), code="duplicate")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        dup = Organisation.objects.filter(name=name).exclude(pk=getattr(self.exclude_org, "pk", None)).first()
        if dup:
            self._duplicate(dup, "name")
        return name

    def clean_credit_code(self):
        code = normalize_credit_code(self.cleaned_data["credit_code"])
        validate_credit_code(code)
        dup = Organisation.objects.filter(credit_code=code).exclude(pk=getattr(self.exclude_org, "pk", None)).first()
        if dup:
            self._duplicate(dup, "credit_code")
        return code

    def clean_contact_phone(self):
        phone = normalize_phone(self.cleaned_data["contact_phone"])
        validate_phone(phone)
        return phone

    def unit_data(self) -> dict:
        d = self.cleaned_data
        return {k: d.get(k, "") for k in ("name", "credit_code", "category", "home_association", "address",
                                          "postcode", "contact_name", "contact_phone", "email")}


class RegistrationForm(_UnitFieldsMixin):
    """项目申报用户注册: the unit and its first user (the applicant clerk)."""

    display_name = forms.CharField(label=_("经办人姓名"), max_length=50)
    phone = forms.CharField(label=_("经办人手机号码"), max_length=30, help_text=_("11位手机号码"),
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    username = forms.RegexField(label=_("登录用户名"), max_length=150, regex=r"^[\w.@+-]+$",
                                help_text=_("字母、数字或 @ . + - _，登录时使用"),
                                error_messages={"invalid": _("用户名只能包含字母、数字和 @ . + - _")})
    password1 = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput(render_value=False))
    password2 = forms.CharField(label=_("再次输入密码"), strip=False, widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_unit_fields()
        self.fields["password1"].help_text = " ".join(password_validators_help_texts())
        for f in ("password1", "password2"):
            self.fields[f].widget.attrs["autocomplete"] = "new-password"

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_mobile(phone)
        return phone

    anonymous = True

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            self.taken = True  # R-S62: said only in the one neutral message
        return username

    def clean(self):
        data = super().clean()
        if self.taken:
            self.add_error(None, ValidationError(services.taken_message(), code="taken"))
        p1, p2 = data.get("password1"), data.get("password2")
        # every problem of the page at once: the password's rules are checked even when the two differ
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致"))
        if p1:
            probe = User(username=data.get("username", ""), display_name=data.get("display_name", ""),
                         email=data.get("email", ""))
            try:
                validate_password(p1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ResubmitForm(_UnitFieldsMixin):
    def __init__(self, *args, org: Organisation, **kwargs):
        self.exclude_org = org
        super().__init__(*args, **kwargs)
        self._setup_unit_fields()


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("驳回理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class AttributeForm(forms.Form):
    key = forms.ModelChoiceField(label=_("属性"), queryset=AttributeDef.objects.all(), to_field_name="key",
                                 empty_label=_("— 请选择 —"))
    value = forms.CharField(label=_("值"), max_length=200, required=False,
                            help_text=_("等级填 3A 或 3；是否类填“是/否”；日期填 2019-05-20；评价等级填 A、B、C、D"))
    year = forms.IntegerField(label=_("年度（按年度评定的属性）"), required=False, min_value=1949, max_value=2100)
    valid_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=_("截止日期（仍有效则不填）"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("备注（文号、批次等）"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        defn = data.get("key")
        if defn is not None:
            try:
                data["parsed"] = services.parse_attribute_value(defn, data.get("value"))
            except ValidationError as exc:
                self.add_error("value", exc)
            if (defn.yearly or defn.kind == "rating") and not data.get("year"):
                self.add_error("year", _("该属性按年度评定，请填写年度"))
        return data


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "short_name", "category", "parent", "credit_code", "region", "address", "postcode",
                  "contact_name", "contact_phone", "email", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Organisation.objects.select_related("category").order_by("name")
        self.fields["parent"].label_from_instance = lambda o: o.name

    def clean_credit_code(self):
        code = normalize_credit_code(self.cleaned_data.get("credit_code"))
        return code or None


class AccountForm(forms.Form):
    username = forms.RegexField(label=_("用户名"), max_length=150, regex=r"^[\w.@+-]+$")
    display_name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    organisation = forms.ModelChoiceField(label=_("所属单位"), required=False,
                                          queryset=Organisation.objects.order_by("name"))
    phone = forms.CharField(label=_("手机号码"), max_length=30, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False,
                             help_text=_("设置密码的一次性链接只发送到这里"))


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    organisation = forms.ModelChoiceField(label=_("所在单位"), required=False,
                                          queryset=Organisation.objects.order_by("name"))


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("事件（前缀）"), required=False)
    actor = forms.CharField(label=_("操作人"), required=False)
    obj = forms.CharField(label=_("对象"), required=False)
    since = forms.DateField(label=_("起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ip = forms.CharField(label=_("IP 地址"), required=False, max_length=45,
                         help_text=_("完整地址，或地址的开头（如 192.168.）"))

    def clean_ip(self):
        value = self.cleaned_data.get("ip", "").strip()
        if value and not all(ch in "0123456789abcdefABCDEF.:" for ch in value):
            raise forms.ValidationError(_("IP 地址只能包含数字、字母 a–f、点和冒号"))
        return value

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期"))
        return data
