"""Print, stamp, scan: the printed form carries the submitted version's fingerprint (text and QR on every
page); an uploaded scan is sniffed, its QR read back (zxing-cpp) and matched against the snapshot."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from shenbao.applications import printing, selectors, services
from shenbao.applications.models import Application, Scan
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.documents import scans
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]



@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def people(call, make_org, make_user):
    org, clerk, _head = unit(make_org, make_user, name="柳州市扫描学会", category="city_society", parent=call.issuer,
                            prefix="scan")
    staff = make_user("lz_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    return org, clerk, staff


@pytest.fixture
def submitted(call, people):
    _org, clerk, _staff = people
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    return app


def pages_as_png(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[Path]:
    src = tmp_path / "print.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page*.png"))


def qr_of(png: Path) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(png))]


def upload(content: bytes, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# --- print -------------------------------------------------------------------------------------------------


def test_printed_pdf_has_the_fingerprint_as_qr_and_text_on_every_page(submitted, tmp_path):
    # R-F4
    snap = submitted.current_snapshot
    pdf = printing.pdf(snap)
    pngs = pages_as_png(pdf, tmp_path)
    assert len(pngs) == len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    expected = f"shenbao:{submitted.pk}:{snap.number}:{snap.fingerprint}"
    for png in pngs:
        assert qr_of(png) == [expected]
    for page in PdfReader(io.BytesIO(pdf)).pages:
        assert f"版本指纹 {snap.fingerprint[:16]}" in page.extract_text()


def test_pdf_text_has_the_labels_and_values_and_embeds_its_font(submitted):
    # R-F4: A4, one CJK font embedded
    snap = submitted.current_snapshot
    reader = PdfReader(io.BytesIO(printing.pdf(snap)))
    text = "".join(p.extract_text() for p in reader.pages)
    flat = re.sub(r"\s+", "", text)
    values = snap.values["values"]
    for label in ("项目名称", "项目承担单位", "项目负责人", "项目目标及预期成果", "经费预算和配套经费来源"):
        assert label in flat
    for value in (values["project_name"], values["applicant_unit"], values["project_lead"]["name"]):
        assert re.sub(r"\s+", "", value) in flat
    page = reader.pages[0]
    assert [round(float(x)) for x in page.mediabox[2:]] == [595, 842]  # A4 in points
    fonts = page["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descendants = font.get("/DescendantFonts")
        desc = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
        if desc is not None:
            desc = desc.get_object()
            embedded.append(any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")))
    assert embedded and all(embedded)


def test_docx_carries_the_values_and_the_fingerprint(submitted):
    from docx import Document

    snap = submitted.current_snapshot
    doc = Document(io.BytesIO(printing.docx(snap)))
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    footers = "\n".join([*(p.text for s in doc.sections for p in s.footer.paragraphs),
                         *(c.text for s in doc.sections for t in s.footer.tables for r in t.rows for c in r.cells)])
    assert snap.values["values"]["project_name"] in body + cells
    assert f"版本指纹 {snap.fingerprint[:16]}" in footers


# --- upload ------------------------------------------------------------------------------------------------


def test_the_printed_pdf_itself_is_verified(submitted, people):
    _org, clerk, _staff = people
    snap = submitted.current_snapshot
    result = services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(snap)))
    assert result.scan.verified and result.scan.method == "qr" and result.scan.content_type == "application/pdf"
    # the QR proves the version, not the stamp: 版本一致，盖章待主办方确认 — not yet 已核验 (issue 7 item 4)
    assert result.scan.state == "matched"
    assert selectors.current_scan(snap) is None and selectors.latest_scan(snap) == result.scan
    assert "版本一致" in result.message and "盖章待主办方确认" in result.message
    assert AuditEvent.objects.filter(object_id=str(submitted.pk), action="application.scan_verified").count() == 1


def test_the_funder_confirms_the_stamp_then_it_is_verified(submitted, people):
    _org, clerk, staff = people
    snap = submitted.current_snapshot
    scan = services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(snap))).scan
    assert selectors.next_step(Application.objects.get(pk=submitted.pk)) == "版本一致，盖章待主办方确认"
    with pytest.raises(NotAllowed):  # the applicant cannot vouch for its own stamp
        services.confirm_stamp(user=clerk, scan=scan)
    services.confirm_stamp(user=staff, scan=scan)
    scan.refresh_from_db()
    assert scan.state == "confirmed" and scan.confirmed_by == staff and scan.confirmed_at
    assert selectors.current_scan(snap) == scan
    assert selectors.next_step(Application.objects.get(pk=submitted.pk)) == "已报送主办方，等待评审"
    event = AuditEvent.objects.get(object_type="applications.scan", object_id=str(scan.pk), action="scan.confirm_stamp")
    assert event.actor == staff and event.before == {"state": "matched"} and event.after["state"] == "confirmed"
    assert "主办方确认盖章（已核验）" in [h.label for h in selectors.history(submitted)]
    with pytest.raises(NotAllowed):  # confirmed once; no second decision
        services.confirm_stamp(user=staff, scan=scan)


def test_the_funder_returns_a_scan_with_a_reason_and_the_clerk_uploads_again(submitted, people, mailoutbox,
                                                                           django_capture_on_commit_callbacks):
    _org, clerk, staff = people
    snap = submitted.current_snapshot
    scan = services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(snap))).scan
    with pytest.raises(NotAllowed, match="理由"):
        services.return_scan(user=staff, scan=scan, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.return_scan(user=staff, scan=scan, reason="缺少单位公章，请加盖公章后重新扫描")
    scan.refresh_from_db()
    assert scan.state == "returned" and scan.returned_by == staff
    assert "缺少单位公章" in selectors.next_step(Application.objects.get(pk=submitted.pk))
    assert any("盖章扫描件被退回" in m.subject for m in mailoutbox)
    assert AuditEvent.objects.filter(object_id=str(scan.pk), action="scan.return_scan",
                                     note="缺少单位公章，请加盖公章后重新扫描").exists()
    again = services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(snap))).scan
    assert again.state == "matched" and selectors.latest_scan(snap) == again
    services.confirm_stamp(user=staff, scan=again)
    assert selectors.current_scan(snap) == again
    with pytest.raises(NotAllowed):  # a returned scan stays returned
        services.confirm_stamp(user=staff, scan=scan)


def test_a_scan_image_is_verified_whatever_its_name(submitted, people, tmp_path):
    _org, clerk, _staff = people
    snap = submitted.current_snapshot
    png = pages_as_png(printing.pdf(snap), tmp_path, dpi=200)[0]
    result = services.upload_scan(user=clerk, application=submitted, upload=upload(png.read_bytes(), "扫描件.pdf"))
    assert result.scan.verified and result.scan.content_type == "image/png"  # sniffed, not named
    from PIL import Image

    jpg = io.BytesIO()
    Image.open(png).convert("RGB").save(jpg, "JPEG", quality=85)
    result = services.upload_scan(user=clerk, application=submitted, upload=upload(jpg.getvalue(), "scan.jpg"))
    assert result.scan.verified and result.scan.content_type == "image/jpeg"


def test_a_file_that_is_not_pdf_jpg_or_png_is_refused(submitted, people):
    _org, clerk, _staff = people
    with pytest.raises(services.ScanRefused, match="只接受 PDF、JPG 或 PNG") as exc:
        services.upload_scan(user=clerk, application=submitted, upload=upload(b"GIF89a not a scan", "scan.pdf"))
    assert exc.value.code == "type"
    assert not Scan.objects.filter(application=submitted).exists()


def test_a_scan_larger_than_20_mb_is_refused(submitted, people):
    _org, clerk, _staff = people
    big = upload(b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), "big.pdf")
    with pytest.raises(services.ScanRefused, match="20 MB"):
        services.upload_scan(user=clerk, application=submitted, upload=big)


def test_a_scan_of_another_version_is_refused(submitted, people):
    _org, clerk, _staff = people
    old_print = printing.pdf(submitted.current_snapshot)
    services.withdraw(user=clerk, application=submitted)
    app = Application.objects.get(pk=submitted.pk)
    services.save_draft(user=clerk, application=app, values={**app.data, "goals": "修改后的目标"},
                        expected_version=app.version)
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    with pytest.raises(services.ScanRefused) as exc:
        services.upload_scan(user=clerk, application=app, upload=upload(old_print))
    assert exc.value.code == "other_version"
    assert "第 1 版" in exc.value.message and "当前提交的是第 2 版" in exc.value.message
    assert not Scan.objects.filter(application=app).exists()
    refused = AuditEvent.objects.get(object_id=str(app.pk), action="application.scan_refused")
    assert refused.after["code"] == "other_version"


def test_a_scan_of_another_application_is_refused(call, submitted, people):
    _org, clerk, _staff = people
    other = filled_draft(clerk, call, "2026-3")
    services.submit(user=clerk, application=other)
    other.refresh_from_db()
    with pytest.raises(services.ScanRefused) as exc:
        services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(other.current_snapshot)))
    assert exc.value.code == "other_application"
    assert f"申报编号 {submitted.number}" in exc.value.message
    assert other.number not in exc.value.message  # the other application is not named


def test_no_readable_qr_waits_for_manual_acceptance_with_a_reason(submitted, people):
    from PIL import Image, ImageDraw

    _org, clerk, staff = people
    img = Image.new("RGB", (1240, 1754), "white")
    ImageDraw.Draw(img).rectangle((100, 100, 1100, 300), outline="black", width=5)
    data = io.BytesIO()
    img.save(data, "PNG")
    result = services.upload_scan(user=clerk, application=submitted, upload=upload(data.getvalue(), "photo.png"))
    scan = result.scan
    assert not scan.verified and "未能从扫描件中识别出" in result.message
    assert selectors.current_scan(submitted.current_snapshot) is None
    with pytest.raises(NotAllowed):  # the applicant cannot vouch for its own scan
        services.accept_scan_manually(user=clerk, scan=scan, reason="核对无误")
    with pytest.raises(NotAllowed, match="理由"):
        services.accept_scan_manually(user=staff, scan=scan, reason="")
    services.accept_scan_manually(user=staff, scan=scan, reason="已与纸质原件逐页核对，内容一致")
    scan.refresh_from_db()
    assert scan.verified and scan.method == "manual" and scan.verified_by == staff and scan.state == "confirmed"
    assert selectors.current_scan(submitted.current_snapshot) == scan
    event = AuditEvent.objects.get(object_type="applications.scan", object_id=str(scan.pk),
                                   action="scan.accept_manually")
    assert event.actor == staff and event.note == "已与纸质原件逐页核对，内容一致"
    assert event.before == {"state": "unread"} and event.after["state"] == "confirmed"  # a diff (R-S33)
    assert event.after["scan"] == scan.pk


class Interrupted(SimpleUploadedFile):
    """An upload whose connection drops after the first chunk."""

    def chunks(self, chunk_size=None):
        yield self.read(64 * 1024)
        raise ConnectionResetError("client went away")


def test_a_failed_upload_leaves_the_previous_file_intact(submitted, people, media):
    _org, clerk, _staff = people
    snap = submitted.current_snapshot
    good = services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(snap))).scan
    path = Path(media) / good.file.name
    before = path.read_bytes()
    folder = path.parent
    listing = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ConnectionResetError):
        services.upload_scan(user=clerk, application=submitted,
                             upload=Interrupted("scan.pdf", b"%PDF-1.7\n" + b"x" * (300 * 1024)))
    with pytest.raises(services.ScanRefused):
        services.upload_scan(user=clerk, application=submitted, upload=upload(b"not a scan at all", "a.pdf"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == listing  # no temporary file left behind
    assert selectors.latest_scan(snap) == good
    assert Scan.objects.filter(application=submitted).count() == 1


def test_qr_text_round_trip():
    text = scans.qr_text(12, 3, "ab" * 32)
    ref = scans.parse_qr(text)
    assert (ref.application_id, ref.number, ref.fingerprint) == (12, 3, "ab" * 32)
    assert scans.parse_qr("https://example.cn") is None
    assert scans.sniff(b"%PDF-1.4") == "pdf" and scans.sniff(b"\x89PNG\r\n\x1a\nxx") == "png"
    assert scans.sniff(b"\xff\xd8\xff\xe0") == "jpg" and scans.sniff(b"PK\x03\x04") is None
