"""Validators for organisations and passwords."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from stdnum.cn import uscc


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters with the GB 32100-2015 check digit (python-stdnum implements it)."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError("统一社会信用代码须为18位（当前%(n)s位）", code="length", params={"n": len(code)})
    if not uscc.is_valid(code):
        raise ValidationError("统一社会信用代码校验位不正确，请核对", code="checksum")


class CharacterClassValidator:
    """At least `min_classes` of: lower case, upper case, digits, other characters."""

    CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        n = sum(1 for pattern in self.CLASSES if re.search(pattern, password or ""))
        if n < self.min_classes:
            raise ValidationError(
                "密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类", code="password_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少{self.min_classes}类。"
