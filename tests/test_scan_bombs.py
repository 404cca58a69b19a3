"""Scan and attachment bombs: images above a pixel limit and PDF pages above a size limit are refused before
anything is decoded or rendered, the reader runs in a child process under a memory and time limit (killed
on expiry), uploads stream to the app's own temp dir and stop at the limit while they are received, scans
per application are limited, and a worker killed mid-upload leaves nothing behind once the app restarts."""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shenbao.applications import printing, selectors, services
from shenbao.applications.models import Scan
from shenbao.documents import scans, uploads
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def clerk(call, make_org, make_user):
    return unit(make_org, make_user, name="柳州市炸弹学会", category="city_society", parent=call.issuer,
                prefix="bomb")[1]


@pytest.fixture
def submitted(call, clerk):
    app = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    return app


@pytest.fixture
def work_dir(settings, tmp_path):
    settings.SHENBAO_TMP_DIR = tmp_path / "tmp"
    return settings.SHENBAO_TMP_DIR


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that says width × height (bilevel) and carries one compressed row: what a decoder would
    allocate is decided by the header alone."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" + b"\x00" * ((width + 7) // 8))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def pdf_with_page(width_pt: float, height_pt: float) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=width_pt, height=height_pt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_image_above_the_pixel_limit_is_refused_before_decoding(submitted, clerk, work_dir, tmp_path):
    # R-S80: a 12000×12000 PNG took 9.5 s and 1.6 GB to decode; the header is read first
    good = services.upload_scan(user=clerk, application=submitted,
                                upload=SimpleUploadedFile("s.pdf", printing.pdf(submitted.current_snapshot))).scan
    with pytest.raises(services.ScanRefused, match="像素") as exc:
        services.upload_scan(user=clerk, application=submitted,
                             upload=SimpleUploadedFile("big.png", png_header_only(12000, 12000)))
    assert exc.value.code == "pixels"
    assert selectors.latest_scan(submitted.current_snapshot) == good  # the previous file stays
    assert Scan.objects.filter(application=submitted).count() == 1
    probe = tmp_path / "x.png"
    probe.write_bytes(png_header_only(12000, 12000))
    with pytest.raises(scans.ScanTooLarge):
        scans.inspect(probe, "png")
    probe.write_bytes(png_header_only(2480, 3508))  # A4 at 300 dpi
    scans.inspect(probe, "png")


def test_pil_itself_refuses_decompression_bombs():
    # R-S80: PIL's own limit is set to the platform's, so no other code path decodes a bomb either
    from PIL import Image

    assert Image.MAX_IMAGE_PIXELS == scans.MAX_IMAGE_PIXELS


def test_a_pdf_page_above_the_size_limit_is_refused_before_rendering(submitted, clerk, work_dir):
    # R-S81: a 200-inch page rendered 900 Mpx for 38 s and then failed with HTTP 500
    with pytest.raises(services.ScanRefused, match="页面过大") as exc:
        services.upload_scan(user=clerk, application=submitted,
                             upload=SimpleUploadedFile("huge.pdf", pdf_with_page(200 * 72, 200 * 72)))
    assert exc.value.code == "page_size"
    assert not Scan.objects.filter(application=submitted).exists()
    # an A3 page is fine
    result = services.upload_scan(user=clerk, application=submitted,
                                  upload=SimpleUploadedFile("a3.pdf", pdf_with_page(842, 1191)))
    assert not result.scan.verified  # no QR on a blank page: kept for manual acceptance


def test_the_reader_is_killed_at_its_time_limit(submitted, clerk, settings, work_dir, tmp_path):
    # R-S82: the QR reader runs in a child process; past the time limit it is killed and the scan refused
    marker = tmp_path / "reader-pid"
    settings.SHENBAO_SCAN_READER = [sys.executable, "-c",
                                    f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); "
                                    "time.sleep(60)"]
    settings.SHENBAO_SCAN_READ_SECONDS = 1
    started = time.monotonic()
    with pytest.raises(services.ScanRefused, match="超时") as exc:
        services.upload_scan(user=clerk, application=submitted,
                             upload=SimpleUploadedFile("s.pdf", printing.pdf(submitted.current_snapshot)))
    assert exc.value.code == "timeout" and time.monotonic() - started < 20
    pid = int(marker.read_text())
    assert not _alive(pid)
    assert not Scan.objects.filter(application=submitted).exists()


def test_the_reader_has_a_memory_limit(settings, work_dir, tmp_path):
    # R-S82: RLIMIT_AS in the child: allocating beyond it fails there, not in the server
    settings.SHENBAO_SCAN_READER = [sys.executable, "-c", "x = bytearray(4 * 1024 ** 3); print('[]')"]
    src = tmp_path / "a.png"
    src.write_bytes(png_header_only(10, 10))
    with pytest.raises(scans.ReaderFailed):
        scans.read_qr_limited(src, "png")


def test_the_default_reader_reads_the_qr_in_a_child(submitted, clerk, work_dir):
    # R-S82: the real reader (python -m shenbao.documents.scans) still verifies the printed form
    result = services.upload_scan(user=clerk, application=submitted,
                                  upload=SimpleUploadedFile("s.pdf", printing.pdf(submitted.current_snapshot)))
    assert result.scan.verified


def test_uploads_stream_to_the_apps_temp_dir_and_stop_at_the_limit(settings, work_dir):
    # R-S83: the handler writes into the app's own temp dir and stops writing at the limit
    settings.SHENBAO_MAX_UPLOAD_BYTES = 1024 * 1024
    handler = uploads.LimitedUploadHandler()
    handler.new_file("file", "big.pdf", "application/pdf", None)
    chunk = b"x" * 65536
    for _ in range(40):  # 2.5 MB arrive
        handler.receive_data_chunk(chunk, 0)
    f = handler.file_complete(40 * len(chunk))
    assert f.too_large and f.size == 40 * len(chunk)
    path = Path(f.temporary_file_path())
    assert path.parent.parent == work_dir and path.stat().st_size <= settings.SHENBAO_MAX_UPLOAD_BYTES
    f.close()
    assert not path.exists()


def test_a_too_large_upload_through_the_page_is_refused_with_nothing_left(client, submitted, clerk, settings,
                                                                         work_dir, media):
    # R-S83
    settings.SHENBAO_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    client.force_login(clerk)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"x" * (3 * 1024 * 1024))
    r = client.post(reverse("applications:upload_scan", args=[submitted.pk]), {"scan": big}, follow=True)
    assert "过大" in r.content.decode()
    assert not Scan.objects.exists()
    assert [p for p in Path(media).rglob("*") if p.is_file()] == []
    assert not any(p.is_file() for p in work_dir.rglob("*"))
    r = client.post(f"/api/v1/applications/{submitted.pk}/scan", {"file": SimpleUploadedFile(
        "big.pdf", b"%PDF-1.7\n" + b"x" * (3 * 1024 * 1024))})
    assert r.status_code == 422 and "过大" in r.json()["detail"]


def test_scans_per_application_are_limited(submitted, clerk, settings, work_dir):
    # R-S84
    settings.SHENBAO_MAX_SCANS_PER_APPLICATION = 2
    pdf = printing.pdf(submitted.current_snapshot)
    for _ in range(2):
        services.upload_scan(user=clerk, application=submitted, upload=SimpleUploadedFile("s.pdf", pdf))
    with pytest.raises(services.ScanRefused, match="2") as exc:
        services.upload_scan(user=clerk, application=submitted, upload=SimpleUploadedFile("s.pdf", pdf))
    assert exc.value.code == "too_many" and Scan.objects.filter(application=submitted).count() == 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_worker_killed_mid_upload_leaves_nothing_after_restart(tmp_path, media):
    # R-S85: a worker is killed (SIGKILL) while an upload is half received and its reader child runs; the
    # child dies with it, and the start-up clean removes the partial upload, the reader's temp dir and the
    # scans folder's incoming file
    tmp = tmp_path / "tmp"
    script = textwrap.dedent(f"""
        import os, sys, time
        os.environ["DJANGO_SETTINGS_MODULE"] = "shenbao.settings"
        import django
        from django.conf import settings
        django.setup()
        settings.SHENBAO_TMP_DIR = {str(tmp)!r}
        settings.MEDIA_ROOT = {str(media)!r}
        settings.SHENBAO_SCAN_READER = [sys.executable, "-c", "import time; time.sleep(120)"]
        from pathlib import Path
        from shenbao.documents import scans, uploads
        h = uploads.LimitedUploadHandler()
        h.new_file("scan", "s.pdf", "application/pdf", None)
        h.receive_data_chunk(b"%PDF-1.7 half of it", 0)
        incoming = Path(settings.MEDIA_ROOT) / "scans" / "1" / uploads.incoming_name("x", "part")
        incoming.parent.mkdir(parents=True, exist_ok=True)
        incoming.write_bytes(b"partial")
        src = Path(h.file.temporary_file_path())
        print(src, flush=True)
        scans.read_qr_limited(src, "pdf")
    """)
    env = {**os.environ, "SHENBAO_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True)
    try:
        partial = Path(proc.stdout.readline().strip())
        deadline = time.monotonic() + 30
        children: list[int] = []
        while time.monotonic() < deadline and not children:
            children = _children(proc.pid)
            time.sleep(0.1)
        assert partial.exists() and children
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not any(_alive(c) for c in children)  # the reader died with its worker
    assert partial.exists()  # what SIGKILL leaves …
    removed = uploads.clean_stale(tmp_dir=tmp, media_root=Path(media))
    assert removed >= 2
    assert not partial.exists() and not any(tmp.rglob("*"))  # … the next start-up removes
    assert not list((Path(media) / "scans").rglob(".incoming-*"))


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_clean_stale_keeps_what_live_processes_are_writing(tmp_path, media, work_dir):
    # R-S85: a restarting worker never removes the uploads of workers that are still running
    mine = uploads.process_dir()
    (mine / "live.upload").write_bytes(b"x")
    uploads.clean_stale(tmp_dir=work_dir, media_root=Path(media))
    assert (mine / "live.upload").exists()
