"""Stamped scans of printed forms: what the file is (sniffed from its bytes, never from its name) and the
QR codes it carries (read with zxing-cpp; a PDF's pages are rendered with pdftoppm first).

    sniff(head: bytes) -> "pdf" | "jpg" | "png" | None
    read_qr(path, kind) -> list[str]            every QR text found (first pages first)
    parse_qr(text) -> QrRef | None              "shenbao:<application>:<version>:<fingerprint>"
    qr_text(application_id, number, fingerprint) -> str
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
QR_RE = re.compile(r"^shenbao:(\d+):(\d+):([0-9a-f]{64})$")
PDF_DPI = 150  # enough for a 25 mm QR code on A4; a rescan at 300 dpi is read at this density too
MAX_PDF_PAGES = 10  # the QR is on every page: stop looking after this many


@dataclass(frozen=True)
class QrRef:
    application_id: int
    number: int
    fingerprint: str


def qr_text(application_id: int, number: int, fingerprint: str) -> str:
    return f"shenbao:{application_id}:{number}:{fingerprint}"


def parse_qr(text: str) -> QrRef | None:
    m = QR_RE.match((text or "").strip())
    if not m:
        return None
    return QrRef(int(m.group(1)), int(m.group(2)), m.group(3))


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes (magic numbers)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _read_image(image) -> list[str]:
    import zxingcpp

    found = []
    for candidate in (image, image.convert("L")):
        for result in zxingcpp.read_barcodes(candidate, formats=zxingcpp.BarcodeFormat.QRCode):
            if result.text and result.text not in found:
                found.append(result.text)
        if found:
            break
    return found


def _image_texts(path: Path) -> list[str]:
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img)  # a phone photo's orientation
        img.load()
        texts = _read_image(img.convert("RGB"))
        if not texts and max(img.size) > 3000:  # a very large photo: a smaller copy reads better
            small = img.copy()
            small.thumbnail((2000, 2000))
            texts = _read_image(small.convert("RGB"))
        return texts


def _pdf_page_count(path: Path) -> int:
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages)
    except Exception:
        return MAX_PDF_PAGES


def _pdf_texts(path: Path, *, want=None) -> list[str]:
    """Render pages one by one and read them, stopping at the first page whose QR `want` accepts."""
    found: list[str] = []
    pages = min(_pdf_page_count(path), MAX_PDF_PAGES)
    with tempfile.TemporaryDirectory(prefix="sb-scan-") as tmp:
        for n in range(1, max(pages, 1) + 1):
            prefix = Path(tmp) / f"p{n}"
            try:
                subprocess.run(["pdftoppm", "-r", str(PDF_DPI), "-gray", "-png", "-f", str(n), "-l", str(n),
                                "-singlefile", str(path), str(prefix)], check=True, capture_output=True, timeout=60)
            except (subprocess.SubprocessError, OSError):
                continue
            png = prefix.with_suffix(".png")
            if not png.exists():
                continue
            for text in _image_texts(png):
                if text not in found:
                    found.append(text)
            if want is not None and any(want(t) for t in found):
                break
    return found


def read_qr(path: str | Path, kind: str, *, want=None) -> list[str]:
    """Every QR text read from the file (a PDF page by page; `want(text)` stops at a wanted one)."""
    path = Path(path)
    if kind == "pdf":
        return _pdf_texts(path, want=want)
    try:
        return _image_texts(path)
    except Exception:  # a file that claims to be an image but does not decode has no QR to read
        return []
