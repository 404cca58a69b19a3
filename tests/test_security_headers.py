"""Response headers: a Content-Security-Policy on every page without inline script or style, `no-store`
for everything a logged-in user sees and for every download, uploaded scans as sandboxed attachments; and
no template or script of ours that the policy would break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shenbao.applications import printing, services
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing", "media")]

SRC = Path(settings.BASE_DIR)


def csp(response) -> dict[str, str]:
    """The policy as {directive: sources}."""
    header = response["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (p.strip() for p in header.split(";")) if d}


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def clerk(call, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市头部学会", category="city_society",
                              parent=call.issuer, prefix="hdr")
    return clerk


@pytest.fixture
def scan(call, clerk):
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    pdf = printing.pdf(app.current_snapshot)
    return services.upload_scan(user=clerk, application=app, upload=SimpleUploadedFile("扫描.pdf", pdf)).scan


def test_every_page_has_a_strict_csp_without_inline_script_or_style(client, call, clerk):
    # R-S1
    pages = [reverse("calls:portal"), reverse("calls:call_detail", args=[call.code]), reverse("orgs:login"),
             "/no-such-page/"]
    for url in pages:
        policy = csp(client.get(url))
        assert policy["script-src"] == "'self'", url
        assert policy["style-src"] == "'self'", url
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url
        assert "unsafe-inline" not in str(policy) and "unsafe-eval" not in str(policy), url
    client.force_login(clerk)
    for url in [reverse("orgs:home"), reverse("applications:offers"), reverse("applications:mine")]:
        assert csp(client.get(url))["script-src"] == "'self'", url


def test_htmx_is_configured_not_to_inject_styles_or_eval(client):
    # R-S1: htmx reads <meta name="htmx-config">; its indicator <style> would be refused by style-src 'self'
    html = client.get(reverse("calls:portal")).content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert meta and '"includeIndicatorStyles": false' in meta.group(1) and '"allowEval": false' in meta.group(1)
    assert html.index('name="htmx-config"') < html.index("vendor/htmx.min.")


def test_pages_of_a_logged_in_user_are_not_stored(client, call, clerk):
    # R-S2
    anonymous = client.get(reverse("calls:portal"))
    assert "no-store" not in anonymous.get("Cache-Control", "")
    client.force_login(clerk)
    for url in [reverse("orgs:home"), reverse("applications:offers"), reverse("calls:portal"),
                reverse("calls:call_detail", args=[call.code])]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url


def test_every_download_is_not_stored_and_sandboxed(client, call):
    # R-S2, R-S3: a blank form downloaded by anybody
    type_code = call.types.first().code
    response = client.get(reverse("calls:blank_form", args=[call.code, type_code]) + "?format=pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    assert "sandbox" in csp(response)


def test_an_uploaded_scan_is_served_as_a_sandboxed_attachment(client, clerk, scan):
    # R-S3: a PDF someone uploaded must not open inline in our origin (its scripts, its forms)
    client.force_login(clerk)
    response = client.get(reverse("applications:scan_file", args=[scan.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    policy = csp(response)
    assert "sandbox" in policy and policy["default-src"] == "'none'"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_printed_form_download_is_not_stored(client, call, clerk, make_user):
    # R-S2
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    client.force_login(make_user("hdr_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,)))
    response = client.get(reverse("applications:print_pdf", args=[app.pk, 1]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and "sandbox" in csp(response)


# --- nothing of ours that the policy would refuse -------------------------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"\bhx-on", re.I), "hx-on"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
]


def test_no_template_has_inline_script_handlers_or_styles():
    # R-S4: script-src 'self' and style-src 'self' would refuse these (silently breaking the page)
    found = []
    for path in sorted(SRC.rglob("templates/**/*.html")):
        text = path.read_text("utf-8")
        for pattern, what in INLINE:
            found += [f"{path.relative_to(SRC)}: {what}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert found == []


def test_no_script_of_ours_evaluates_strings():
    # R-S4: eval / new Function / string timers are refused without 'unsafe-eval'
    found = []
    for path in sorted(SRC.rglob("static/**/*.js")):
        if "vendor" in path.parts:
            continue
        text = path.read_text("utf-8")
        for pattern in (r"\beval\s*\(", r"new\s+Function\s*\(", r"set(?:Timeout|Interval)\s*\(\s*[\"'`]",
                        r"\.setAttribute\(\s*[\"']style", r"\bon[a-z]+\s*=\s*[\"']"):
            found += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []
