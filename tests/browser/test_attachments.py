"""An attachment field in the browser (issue 7 item 8): the clerk picks two files, saves, submits; the
detail page lists them, the printed PDF lists them with their hash prefix, and each downloads as it was."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
import yaml
from pypdf import PdfReader

from shenbao.applications.models import Application
from shenbao.calls import services as call_services
from tests.conftest import CALLS
from tests.journey_support import PASSWORD, filled_draft, reopen, unit
from tests.test_attachments import DESIGN, PROOF, pdf_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_attach_print_and_download(page, catalogue, make_org, make_user, tmp_path, settings, artifacts):  # R-F1
    settings.MEDIA_ROOT = tmp_path / "media"
    data = yaml.safe_load((CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8"))
    form = next(f for f in data["forms"] if f["code"] == "F2")
    form["sections"][1]["fields"] = [*form["sections"][1]["fields"], DESIGN, PROOF]
    path = tmp_path / "liuzhou-attach.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    call = reopen(call_services.load_path(path=path, publish=True).call)
    _org, clerk, _head = unit(make_org, make_user, name="柳州市附件浏览器学会", category="city_society",
                              parent=call.issuer, prefix="attb")
    app = filled_draft(clerk, call, "2026-2")
    plan, picture = tmp_path / "展览方案.pdf", tmp_path / "效果图.png"
    plan.write_bytes(pdf_bytes(2))
    picture.write_bytes(png_bytes())

    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", clerk.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/home/$"))
    page.goto(page.base + f"/apply/{app.pk}/edit/")
    page.set_input_files("#f-design", [str(plan), str(picture)])
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith(f"/apply/{app.pk}/edit/")):
        page.locator("#save-btn").click()
    page.wait_for_load_state()
    page.screenshot(path=str(artifacts / "attachments-saved.png"), full_page=True)
    design = page.locator("[data-key=design]").first
    assert "展览方案.pdf" in design.inner_text() and "效果图.png" in design.inner_text()
    page.on("dialog", lambda d: d.accept())  # 提交后不能修改……确定提交吗？
    with page.expect_navigation(timeout=60_000):
        page.locator("#submit-btn").click()
    app = Application.objects.get(pk=app.pk)
    assert app.status == "submitted", page.inner_text("main")[:2000]
    frozen = app.current_snapshot.values["values"]["design"]
    sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert [d["sha256"] for d in frozen] == [sha, hashlib.sha256(picture.read_bytes()).hexdigest()]
    page.screenshot(path=str(artifacts / "attachments-submitted.png"), full_page=True)

    # the printed form lists the files with pages or size and hash prefix
    with page.expect_download() as info:
        page.locator("#print-pdf").click()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(open(info.value.path(), "rb").read())).pages)
    assert "展览方案.pdf" in text and f"SHA-256 {sha[:12]}" in text

    # each file downloads as it was uploaded
    with page.expect_download() as info:
        page.get_by_role("link", name="展览方案.pdf").first.click()
    assert open(info.value.path(), "rb").read() == plan.read_bytes()
