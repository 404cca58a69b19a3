"""Application forms (附表 / 申报书) as PDF and DOCX, from a call's form template.

First version: a simple rendering; the shared layout model follows.
"""

from __future__ import annotations

import io


class NoFormError(LookupError):
    """The project type has no form template in its call."""


def _form(call, project_type):
    ptype = project_type.document
    form = call.document.form_for(ptype)
    if form is None:
        raise NoFormError(f"项目类型 {project_type.code} {project_type.name} 没有申报表")
    return form


def form_pdf(*, call, project_type, values: dict | None = None, footer: str | None = None,
             qr_text: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from shenbao.documents.fonts import cjk_font

    form = _form(call, project_type)
    font = cjk_font()
    style = ParagraphStyle("b", fontName=font, fontSize=11, leading=16, wordWrap="CJK")
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4)
    story = [Paragraph(form.label, style), Paragraph(form.title, style),
             Paragraph(f"(项目编号：{project_type.code} 号)", style)]
    for f in form.all_fields():
        story.append(Paragraph(f.label, style))
    doc.build(story)
    return buf.getvalue()


def form_docx(*, call, project_type, values: dict | None = None, footer: str | None = None,
              qr_text: str | None = None) -> bytes:
    import docx

    form = _form(call, project_type)
    d = docx.Document()
    d.add_paragraph(form.label)
    d.add_heading(form.title, level=1)
    d.add_paragraph(f"(项目编号：{project_type.code} 号)")
    for f in form.all_fields():
        d.add_paragraph(f.label)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def blank_form_pdf(*, call, project_type) -> bytes:
    return form_pdf(call=call, project_type=project_type)


def blank_form_docx(*, call, project_type) -> bytes:
    return form_docx(call=call, project_type=project_type)
