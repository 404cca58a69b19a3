"""Personal data (phones, WeChat IDs, e-mail) shown only to those who need it, masked elsewhere.

The audit administrator reads who did what and when, not applicants' phone numbers: events are shown
through `mask_personal`. Written by hand: masking rules are a few lines and no library fits the shapes
of our records (form values, organisation fields, person blocks).
"""

from __future__ import annotations

import re
from typing import Any

PERSONAL_KEYS = {"phone", "mobile", "office_phone", "contact_phone", "wechat", "fax", "email", "id_number"}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}[-－ ]?)\d{3,4}(\d{4})(?!\d)")


def mask_text(value: str) -> str:
    """Hide the middle of a phone number, a WeChat ID or an e-mail's local part."""
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    masked = _PHONE.sub(r"\1****\2", text)
    masked = _LANDLINE.sub(r"\1****\2", masked)
    if masked != text:
        return masked
    if len(text) <= 2:
        return "*" * len(text)
    return f"{text[0]}{'*' * (len(text) - 2)}{text[-1]}"


def mask_personal(value: Any, key: str = "") -> Any:
    """A copy of `value` with personal fields masked: keys named like phones, WeChat IDs and e-mail, and
    any phone number that appears in free text."""
    if isinstance(value, dict):
        return {k: mask_personal(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_personal(v, key) for v in value]
    if isinstance(value, str):
        if key in PERSONAL_KEYS and value:
            return mask_text(value)
        return _LANDLINE.sub(r"\1****\2", _PHONE.sub(r"\1****\2", value))
    return value
