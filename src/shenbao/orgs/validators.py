"""Validators for organisations and passwords."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import UserAttributeSimilarityValidator as _DjangoSimilarity
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as ValidationError_


def normalize_credit_code(value: str | None) -> str:
    """What people type → the stored form: full-width characters made half-width, spaces and hyphens
    removed, letters upper-cased (“91450200mj 0000001x” → “91450200MJ0000001X”)."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s\-]", "", text).upper()


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters with the GB 32100-2015 check digit (python-stdnum implements it)."""
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码须为18位（当前%(n)s位）"), code="length", params={"n": len(code)})
    try:
        uscc.validate(code)
    except InvalidChecksum:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对"), code="checksum") from None
    except ValidationError_:
        raise ValidationError(
            _("统一社会信用代码格式不正确：前8位须为数字，其余为数字或大写字母（不含 I、O、Z、S、V）"),
            code="format",
        ) from None


# The same rules as the application forms' phone fields (forms.validation, a later stage): a mobile number
# is 11 digits starting 1[3-9]; a landline carries its area code (0772-2629066, (0731)85821051).
MOBILE_RE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
LANDLINE_RE = re.compile(
    r"^(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-－—]?)[1-9]\d{6,7}(?:(?:[-－—]|转|分机|ext\.?|#)\d{1,6})?$",
    re.IGNORECASE,
)


def normalize_phone(value: str | None) -> str:
    """Full-width digits made half-width, surrounding spaces dropped; a mobile number loses its spaces and
    hyphens (138 0000 0005 → 13800000005)."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    compact = re.sub(r"[\s\-－]", "", text)
    return compact if MOBILE_RE.match(compact) else re.sub(r"\s+", "", text)


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(normalize_phone(value)):
        raise ValidationError(_("请填写正确的手机号码：11位数字，以13–19开头，如 13800138000"), code="mobile")


def validate_phone(value: str) -> None:
    """A mobile number, or a landline with its area code."""
    text = normalize_phone(value)
    if MOBILE_RE.match(text) or LANDLINE_RE.match(text):
        return
    if re.fullmatch(r"[1-9]\d{6,7}", text):
        raise ValidationError(_("座机号码请加区号，如 0772-2800001"), code="area_code")
    raise ValidationError(_("请填写正确的电话号码：手机如 13800138000（11位），座机须带区号，如 0772-2800001"),
                          code="phone")


class CharacterClassValidator:
    """At least `min_classes` of: lower case, upper case, digits, other characters."""

    CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        n = sum(1 for pattern in self.CLASSES if re.search(pattern, password or ""))
        if n < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类"), code="password_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。") % {"n": self.min_classes}


class MinimumLengthValidator:
    """At least `min_length` characters (Django's own message lacks a Chinese translation)."""

    def __init__(self, min_length: int = 8):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        if len(password or "") < self.min_length:
            raise ValidationError(_("密码太短，至少需要%(n)d个字符"), code="password_too_short",
                                  params={"n": self.min_length})

    def get_help_text(self) -> str:
        return _("密码至少%(n)d个字符。") % {"n": self.min_length}


class UserAttributeSimilarityValidator(_DjangoSimilarity):
    """Not like the user name, the name or the e-mail: Django's likeness check, and the user name (or the
    e-mail's local part) of 3 or more characters may not appear in the password in any case."""

    def validate(self, password: str, user=None) -> None:
        lowered = (password or "").lower()
        for value in (getattr(user, "username", ""), (getattr(user, "email", "") or "").partition("@")[0]):
            value = (value or "").lower()
            if len(value) >= 3 and value in lowered:
                raise ValidationError(_("密码与用户名、姓名或电子邮箱过于相似，请换一个"),
                                      code="password_too_similar")
        try:
            super().validate(password, user)
        except ValidationError:
            raise ValidationError(_("密码与用户名、姓名或电子邮箱过于相似，请换一个"),
                                  code="password_too_similar") from None

    def get_help_text(self) -> str:
        return _("密码不能与用户名、姓名或电子邮箱相似。")


class PasswordHistoryValidator:
    """None of the account's last `count` passwords (the current one included) may be chosen again; their
    hashes are kept in PasswordHistory (services.change_password and set_password_by_link add to it)."""

    def __init__(self, count: int = 5):
        self.count = count

    def validate(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        from shenbao.orgs.models import PasswordHistory

        hashes = list(PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[:self.count])
        if user.password and user.password not in hashes:
            hashes = [user.password, *hashes[:self.count - 1]]
        if any(h and check_password(password, h) for h in hashes):
            raise ValidationError(_("不能使用最近%(n)d次用过的密码"), code="password_reused",
                                  params={"n": self.count})

    def get_help_text(self) -> str:
        return _("不能使用最近%(n)d次用过的密码。") % {"n": self.count}
