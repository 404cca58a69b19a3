"""Application forms (附表 / 申报书) as PDF and DOCX, from a call's form template.

    form_pdf(call=…, project_type=…, values=None, footer=None, qr_text=None) -> bytes
    form_docx(call=…, project_type=…, values=None, footer=None, qr_text=None) -> bytes
    blank_form_pdf(call=…, project_type=…) / blank_form_docx(call=…, project_type=…)

`call` is a `shenbao.calls.models.Call`, `project_type` a `shenbao.calls.models.ProjectType` of it. Both
renderers draw the same `layout.FormLayout` (see `shenbao.documents.layout` for the shape of `values`).
`footer` is a line printed at the foot of every page (a fingerprint); `qr_text` is encoded in a QR code
printed on every page.
"""

from __future__ import annotations

from shenbao.calls.schema import FormTemplate
from shenbao.documents.layout import FormLayout, build_layout


class NoFormError(LookupError):
    """The project type has no form template in its call."""


def form_template(*, call, project_type) -> FormTemplate:
    """The form template (schema) of a project type; NoFormError when the call gives it none."""
    if project_type.call_id != call.pk:
        raise ValueError(f"项目类型 {project_type.code} 不属于申报通知 {call.code}")
    doc = project_type.document
    # a post-funded type without an application form prints its results form (post_funding.results_form)
    form = call.document.form_for(doc) or call.document.results_form_for(doc)
    if form is None:
        raise NoFormError(f"项目类型 {project_type.code} {project_type.name} 没有申报表")
    return form


def form_layout(*, call, project_type, values: dict | None = None) -> FormLayout:
    """The layout both renderers draw: blank when `values` is None."""
    form = form_template(call=call, project_type=project_type)
    return build_layout(call=call.document, project_type=project_type.document, form=form, values=values)


def form_pdf(*, call, project_type, values: dict | None = None, footer: str | None = None,
             qr_text: str | None = None) -> bytes:
    from shenbao.documents.pdf import render_pdf

    return render_pdf(form_layout(call=call, project_type=project_type, values=values),
                      footer=footer, qr_text=qr_text)


def form_docx(*, call, project_type, values: dict | None = None, footer: str | None = None,
              qr_text: str | None = None) -> bytes:
    from shenbao.documents.word import render_docx

    return render_docx(form_layout(call=call, project_type=project_type, values=values),
                       footer=footer, qr_text=qr_text)


def blank_form_pdf(*, call, project_type) -> bytes:
    return form_pdf(call=call, project_type=project_type)


def blank_form_docx(*, call, project_type) -> bytes:
    return form_docx(call=call, project_type=project_type)
