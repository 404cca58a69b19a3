"""Loading the platform's catalogue (calls/catalogue.yaml) into the database: organisation categories and
attributes here; later stages add their own sections through `SECTIONS` (the calls app: task measures), so
that this stage knows none of them. Only the system administrator changes the catalogue; every change is
one audit event with what changed, before and after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from shenbao.core import audit
from shenbao.core.decisions import require
from shenbao.orgs.catalogue_schema import Catalogue, load_catalogue_text
from shenbao.orgs.catalogue_schema import Category as CategoryDef
from shenbao.orgs.models import AttributeDef, Category
from shenbao.orgs.permissions import can_administer_system


@dataclass(frozen=True)
class Section:
    """A part of the catalogue a later stage keeps: `state()` is what stands (by key, for the audit event and
    for comparing what a call file repeats), `sync(doc)` writes the catalogue's entries."""

    name: str
    state: Callable[[], dict]
    sync: Callable[[Catalogue], None]


SECTIONS: list[Section] = []  # filled by later stages in their AppConfig.ready (calls: measures)


@dataclass
class CatalogueResult:
    changed: bool
    categories: int


def _category_fields(c: Category) -> dict:
    return {"name": c.name, "name_en": c.name_en, "parent": c.parent.code if c.parent_id else None,
            "is_association": c.is_association, "level": c.level, "applicant": c.applicant}


def catalogue_state() -> dict[str, dict]:
    """The catalogue as it stands: categories, attributes (and each section's entries) by code."""
    return {
        "categories": {c.code: _category_fields(c) for c in Category.objects.select_related("parent")},
        "attributes": {a.key: {"name": a.name, "kind": a.kind, "labels": a.labels, "choices": a.choices,
                               "yearly": a.yearly, "default": a.default} for a in AttributeDef.objects.all()},
    } | {s.name: s.state() for s in SECTIONS}


def _sync_categories(categories: list[CategoryDef]) -> int:
    """Create or update categories; parents first, whatever the order in the file."""
    pending = list(categories)
    done = 0
    while pending:
        progressed = False
        for c in list(pending):
            parent = None
            if c.parent:
                parent = Category.objects.filter(code=c.parent).first()
                if parent is None:
                    continue
            Category.objects.update_or_create(
                code=c.code,
                defaults={"name": c.name, "name_en": c.name_en, "parent": parent,
                          "is_association": c.is_association, "level": c.level, "applicant": c.applicant},
            )
            pending.remove(c)
            done += 1
            progressed = True
        if not progressed:
            raise ValueError(f"类别的上级不存在：{', '.join(c.code for c in pending)}")
    return done


def load_catalogue(*, text: str, filename: str, actor=None) -> CatalogueResult:
    """Load the catalogue in `text`: the system administrator only (from the system page, or
    `shenbao load-catalogue` on the server; `actor=None` is the server's operator)."""
    if actor is not None:
        require(can_administer_system(actor))
    doc = load_catalogue_text(text, filename)
    with transaction.atomic():
        before = catalogue_state()
        n = _sync_categories(doc.categories)
        for order, c in enumerate(doc.categories):
            Category.objects.filter(code=c.code).update(order=order)
        for a in doc.attributes:
            AttributeDef.objects.update_or_create(
                key=a.key,
                defaults={"name": a.name, "kind": a.kind, "labels": a.labels, "choices": a.choices,
                          "yearly": a.yearly or a.kind == "rating", "default": a.default},
            )
        for section in SECTIONS:
            section.sync(doc)
        after = catalogue_state()
        if after != before:
            audit.record(actor=actor, action="catalogue.load", before=before, after=after,
                         note=f"{Path(filename).name}：类别 {n} 个，属性 {len(doc.attributes)} 个，指标 {len(doc.measures)} 个")
    return CatalogueResult(changed=after != before, categories=n)


def reload_catalogue(*, actor) -> CatalogueResult:
    """Re-read calls/catalogue.yaml: the system administrator only (the system page, orgs/views.py)."""
    require(can_administer_system(actor))
    path = Path(settings.CALLS_DIR) / "catalogue.yaml"
    return load_catalogue(text=path.read_text("utf-8"), filename=str(path), actor=actor)
