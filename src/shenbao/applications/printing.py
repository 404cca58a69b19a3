"""The printed form of a submitted version: PDF or DOCX of its frozen values, with the fingerprint as text
in every page's footer and as a QR code on every page (shenbao.documents.render draws them)."""

from __future__ import annotations

from shenbao.applications import selectors
from shenbao.applications.models import Snapshot


def pdf(snapshot: Snapshot) -> bytes:
    from shenbao.documents.render import form_pdf

    app = snapshot.application
    return form_pdf(call=app.call, project_type=app.project_type, values=selectors.print_values(snapshot),
                    footer=selectors.print_footer(snapshot), qr_text=selectors.print_qr(snapshot))


def docx(snapshot: Snapshot) -> bytes:
    from shenbao.documents.render import form_docx

    app = snapshot.application
    return form_docx(call=app.call, project_type=app.project_type, values=selectors.print_values(snapshot),
                     footer=selectors.print_footer(snapshot), qr_text=selectors.print_qr(snapshot))
