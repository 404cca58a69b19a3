"""统一社会信用代码: 18 characters, GB 32100 check digit, normalised, unique."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc

from shenbao.orgs.models import Category, Organisation
from shenbao.orgs.validators import normalize_credit_code, validate_credit_code
from tests.conftest import credit_code

# A published code (the check digit is part of the public record), checked independently of our code.
REAL = "91110000600037341L"


def _wrong_check_digit(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:17] + next(c for c in alphabet if c != code[17])


def test_valid_codes_pass():
    validate_credit_code(REAL)
    validate_credit_code(credit_code(7))


def test_wrong_check_digit():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(_wrong_check_digit(REAL))
    assert exc.value.code == "checksum"
    assert "校验位不正确" in exc.value.messages[0]


@pytest.mark.parametrize("code", [REAL[:17], REAL + "1", ""])
def test_wrong_length(code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == "length"
    assert f"当前{len(code)}位" in exc.value.messages[0]


def test_bad_characters():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("9111000060003734IL")  # I is not in the GB 32100 alphabet
    assert exc.value.code == "format"


def test_lower_case_and_spacing_normalised():
    typed = " 9111 0000 6000-3734 1l "
    assert normalize_credit_code(typed) == REAL
    validate_credit_code(typed)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in REAL.lower())
    assert normalize_credit_code(full_width) == REAL  # full-width input


@pytest.mark.django_db
def test_duplicate_refused_with_a_chinese_message(catalogue):
    cat = Category.objects.get(code="city_society")
    Organisation.objects.create(name="甲学会", category=cat, credit_code=REAL)
    dup = Organisation(name="乙学会", category=cat, credit_code=REAL)
    with pytest.raises(ValidationError) as exc:
        dup.full_clean()
    assert exc.value.message_dict["credit_code"] == ["该统一社会信用代码已注册，不能重复注册"]


def test_helper_codes_are_valid_for_stdnum():
    # the fixture's generator and stdnum agree (guards the other tests' data)
    assert all(uscc.is_valid(credit_code(n)) for n in range(1, 50))
