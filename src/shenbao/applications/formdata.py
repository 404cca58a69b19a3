"""The application's form: its template, validation and the facts read off the values (title, track).
A thin bridge to shenbao.forms (validation, rendering), which owns what a form is."""

from __future__ import annotations

from typing import Any

from shenbao.calls import schema


def form_of(application) -> schema.FormTemplate | None:
    return application.call.document.application_form_for(application.project_type.document)


def type_doc(application) -> schema.ProjectType:
    return application.project_type.document


def track_field(form: schema.FormTemplate | None) -> schema.FormField | None:
    """The form's 申报类型 field (options from the type's tracks), if it asks for one."""
    if form is None:
        return None
    return next((f for f in form.all_fields() if f.options_from == "tracks"), None)


def track_code_from(application, values: dict) -> str | None:
    """The track ticked on the form (one), else the application's own track."""
    f = track_field(form_of(application))
    if f is not None:
        v = values.get(f.key)
        if isinstance(v, str) and v:
            return v
        if isinstance(v, list) and len(v) == 1 and isinstance(v[0], str):
            return v[0]
    return application.track.code if application.track_id else None


def title_from(application, values: dict) -> str:
    """The application's title: the answer to the form's `title: true` field ("" for an untitled form)."""
    form = form_of(application)
    f = form.title_field if form is not None else None
    if f is None:
        return ""
    v = values.get(f.key)
    if isinstance(v, str) and v.strip():
        return v.strip()[:300]
    return ""


def amount_asked(application, values: dict) -> int | None:
    """The amount asked of the funder, whole yuan: the form's `asked` money field, else the fixed amount
    of the track or type (its cap), else None."""
    form = form_of(application)
    for f in form.all_fields() if form is not None else []:
        if f.asked:
            v = values.get(f.key)
            return v if isinstance(v, int) and not isinstance(v, bool) else None
    if application.track_id and application.track.cap:
        return application.track.cap
    return application.project_type.cap


def validate(application, values: dict, *, partial: bool, track_code: str | None = None):
    """FORMS' validation of `values` for this application's form: FormResult(cleaned, errors)."""
    from shenbao.forms.validation import FormResult
    from shenbao.forms.validation import validate as run

    form = form_of(application)
    if form is None:
        return FormResult(cleaned=dict(values), errors={})
    return run(form=form, values=values, call_doc=application.call.document, type_doc=type_doc(application),
               track_code=track_code if track_code is not None else track_code_from(application, values),
               partial=partial, applicant=application.applicant)


def oversize(application, values: dict) -> dict[str, list[str]]:
    """What in posted `values` a draft must not store (unknown keys, wrong shapes, far beyond a field's
    limit): shenbao.forms.validation.oversize for this application's form (R-S72, R-S73)."""
    from django.utils.translation import gettext as _

    from shenbao.forms.validation import oversize as check

    form = form_of(application)
    if form is None:
        return {str(k)[:100]: [_("申报表中没有此栏目")] for k in values} if isinstance(values, dict) else {}
    return check(form, values)


def parse_post(application, data) -> dict[str, Any]:
    from shenbao.forms.rendering import parse_post as parse

    form = form_of(application)
    return parse(form=form, data=data) if form is not None else {}


def render(application, *, values: dict, errors: dict | None = None, editable: bool = True):
    from shenbao.forms.rendering import render_form

    form = form_of(application)
    if form is None:
        return ""
    return render_form(form=form, values=values, errors=errors or {}, call_doc=application.call.document,
                       type_doc=type_doc(application), editable=editable, attachment_url=attachment_url)


def attachment_url(value: dict) -> str:
    from django.urls import reverse

    try:
        return reverse("applications:attachment_file", args=[int(value["document_id"])])
    except (KeyError, TypeError, ValueError):
        return ""


def merge_kept(application, old: dict, new: dict) -> dict:
    """The values to store: what was posted, with the keys the poster cannot fill kept from before (the
    application's own "_" keys, opinion blocks of others such as the home association's)."""
    from shenbao.forms.validation import APPLICANT_OPINION_BY

    out = dict(new)
    form = form_of(application)
    others = set()
    if form is not None:
        others = {f.key for f in form.all_fields() if f.kind == "opinion" and f.by not in APPLICANT_OPINION_BY}
    for k, v in (old or {}).items():
        if (k.startswith("_") or k in others) and k not in out:
            out[k] = v
    return out
