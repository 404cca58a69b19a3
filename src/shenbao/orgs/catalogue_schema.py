"""The platform's catalogue (calls/catalogue.yaml, `kind: catalogue`): organisation categories, the
attributes eligibility rules test, and the task measures. It is the platform's, not a call's: call files may
only repeat its entries word for word. No Django here (orgs/catalogue.py loads it into the database)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError, model_validator

from shenbao.core.yamldoc import DocumentFormatError, Key, Strict, Text, clip, parse_yaml, problems_from


class Category(Strict):
    """An organisation category (申报单位类别). `parent` makes a category a kind of another: an applicant
    of a child category is eligible wherever the parent is listed."""

    code: Key
    name: Text
    name_en: str = ""
    parent: Key | None = None
    is_association: bool = False  # 科协 (may act as home association)
    applicant: bool = True  # units of this category may register to apply (not funders, not finance)
    level: Literal["national", "province", "city", "county", "none"] = "none"


class AttributeDef(Strict):
    """A dated attribute of an organisation that eligibility rules test (org.attrs / org.max / org.yearly).

    kind: bool, int, text, date, grade (stored as an int, shown with `labels`), rating (per year).
    """

    key: Key
    name: Text
    kind: Literal["bool", "int", "text", "date", "grade", "rating"]
    labels: dict[str, str] = {}
    choices: list[str] = []
    yearly: bool = False
    default: Any = None


class Measure(Strict):
    """A measurable quantity that tasks set minimums on (活动场次, 参加人数 …), named for display."""

    key: Key
    name: Text
    name_en: str = ""
    unit: str = ""


class Catalogue(Strict):
    kind: Literal["catalogue"]
    categories: list[Category]
    attributes: list[AttributeDef] = []
    measures: list[Measure] = []

    @model_validator(mode="after")
    def _unique(self):
        codes = [c.code for c in self.categories]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"类别代码重复：{', '.join(dupes)}")
        for c in self.categories:
            if c.parent and c.parent not in codes:
                raise ValueError(f"类别 {c.code} 的上级类别 {c.parent} 不存在")
        return self


def load_catalogue_text(text: str, filename: str) -> Catalogue:
    """The catalogue in `text`, validated; DocumentFormatError names the file, the path and the problem."""
    data = parse_yaml(text, filename)
    if data.get("kind") != "catalogue":
        raise DocumentFormatError(filename, [("kind", f"须为 catalogue（实际为 {clip(repr(data.get('kind')))}）")])
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise DocumentFormatError(filename, problems_from(exc)) from None
