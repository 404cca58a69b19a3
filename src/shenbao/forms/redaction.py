"""Blind review (`review.blind`): a copy of a form's values without the applicant's identity, for the
experts' page and PDF. What is hidden follows the form template's data, never a call's code:

- every `person`, `phone`, `mobile` and `email` field, and table columns of those kinds;
- every field or table column that says `identity: true` (a unit's name, an address, a team's 姓名 column);
- the signer of every opinion block;
- in all other text: the names the caller knows (the applicant unit, joint units), every value hidden
  above (a person's name met again in a long text), phone numbers and e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from shenbao.calls.schema import FormField, FormTemplate

HIDDEN = "（已隐去）"
MARK = "＊＊＊"
IDENTITY_KINDS = {"person", "phone", "mobile", "email"}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[-－ ]?\d{7,8}(?!\d)")


def _hides(item) -> bool:
    return bool(getattr(item, "identity", False)) or item.kind in IDENTITY_KINDS


def _collect(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        if len(value.strip()) >= 2:
            into.add(value.strip())
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, into)
    elif isinstance(value, list):
        for v in value:
            _collect(v, into)


def _hide_value(f: FormField, value: Any) -> Any:
    if isinstance(value, dict):  # a person: each part hidden, the shape kept
        return {k: (HIDDEN if v not in (None, "") and k != "full_time" else v) for k, v in value.items()}
    if value in (None, "", [], {}):
        return value
    return HIDDEN


class _Scrubber:
    def __init__(self, names: Iterable[str]):
        # longest first, so a unit's full name goes before a shorter name inside it
        self.names = sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(n) for n in self.names)) if self.names else None

    def text(self, value: str) -> str:
        if self.pattern is not None:
            value = self.pattern.sub(MARK, value)
        value = _EMAIL.sub(MARK, value)
        value = _MOBILE.sub(MARK, value)
        return _LANDLINE.sub(MARK, value)

    def any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.any(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.any(v) for v in value]
        return value


def hidden_names(form: FormTemplate, values: dict) -> set[str]:
    """The strings the fields to hide hold (names, units, phones), to be hidden wherever else they appear."""
    found: set[str] = set()
    for f in form.every_field():
        v = values.get(f.key)
        if _hides(f):
            _collect(v, found)
        elif f.kind == "table" and isinstance(v, list):
            cols = [c.key for c in f.columns if _hides(c)]
            for row in v:
                if isinstance(row, dict):
                    for c in cols:
                        _collect(row.get(c), found)
        elif f.kind == "opinion" and isinstance(v, dict):
            _collect(v.get("signer"), found)
    return found


def redact(form: FormTemplate, values: dict, *, names: Iterable[str] = ()) -> dict:
    """A copy of `values` (a form's values, by field key) with the applicant's identity hidden; `names`
    are further strings to hide wherever they appear (the applicant unit's and joint units' names)."""
    values = dict(values or {})
    scrub = _Scrubber([*names, *hidden_names(form, values)])
    fields = {f.key: f for f in form.every_field()}
    out: dict = {}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            out[key] = scrub.any(value)
        elif _hides(f):
            out[key] = _hide_value(f, value)
        elif f.kind == "table" and isinstance(value, list):
            hide = {c.key for c in f.columns if _hides(c)}
            out[key] = [{k: (HIDDEN if k in hide and v not in (None, "") else scrub.any(v)) for k, v in row.items()}
                        if isinstance(row, dict) else scrub.any(row) for row in value]
        elif f.kind == "opinion" and isinstance(value, dict):
            out[key] = {k: (HIDDEN if k == "signer" and v else scrub.any(v)) for k, v in value.items()}
        elif f.kind in ("choice_one", "choice_many", "date", "period", "money", "integer", "number"):
            out[key] = value
        else:
            out[key] = scrub.any(value)
    return out
