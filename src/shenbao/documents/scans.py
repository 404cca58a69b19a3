"""Stamped scans of printed forms: what the file is (sniffed from its bytes, never from its name) and the
QR codes it carries (read with zxing-cpp; a PDF's pages are rendered with pdftoppm first).

    sniff(head: bytes) -> "pdf" | "jpg" | "png" | None
    inspect(path, kind)                         ScanTooLarge before anything is decoded or rendered
    read_qr_limited(path, kind, want_text=None) read_qr in a child process under a memory and time limit
    read_qr(path, kind) -> list[str]            every QR text found (first pages first), in this process
    parse_qr(text) -> QrRef | None              "shenbao:<application>:<version>:<fingerprint>"
    qr_text(application_id, number, fingerprint) -> str
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext_noop  # marks msgids only: no settings needed (the reader child)

KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
QR_RE = re.compile(r"^shenbao:(\d+):(\d+):([0-9a-f]{64})$")
PDF_DPI = 150  # enough for a 25 mm QR code on A4; a rescan at 300 dpi is read at this density too
MAX_PDF_PAGES = 10  # the QR is on every page: stop looking after this many
# R-S80: an A4 page at 600 dpi is 35 Mpx, a phone photo 12–50 Mpx; a 12000×12000 PNG (144 Mpx) is refused
# from its header. PIL's own bomb check uses the same figure (it refuses twice that outright).
MAX_IMAGE_PIXELS = 60_000_000
# R-S81: a PDF page at most 50 inches on a side (A0 is 33 × 47) and at most MAX_IMAGE_PIXELS at PDF_DPI.
MAX_PAGE_INCHES = 50
READER_MEMORY = 1536 * 1024 * 1024  # R-S82: address space of the reader child (RLIMIT_AS)
READER_SECONDS = 30                 # R-S82: wall time of the reader child before it is killed


def _set_pil_limit() -> None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


_set_pil_limit()


class ScanTooLarge(Exception):
    """The file would decode or render too large. `message` is a Chinese msgid (gettext_noop) with
    `params`; `code` is "pixels" or "page_size"."""

    def __init__(self, message: str, code: str, params: dict):
        self.message, self.code, self.params = message, code, params
        super().__init__(message % params)


@dataclass
class ReaderFailed(Exception):
    """The reader child did not finish: "timeout" (killed at its time limit) or "failed" (it crashed,
    e.g. at its memory limit)."""

    code: str
    detail: str = field(default="")

    def __str__(self) -> str:
        return f"{self.code}: {self.detail[:200]}"


def inspect(path: str | Path, kind: str) -> None:
    """Refuse a file whose pixels would be too many, from what it says about itself, before anything is
    decoded (an image's header) or rendered (each PDF page's MediaBox, read with pypdf)."""
    path = Path(path)
    if kind in ("png", "jpg"):
        from PIL import Image

        try:
            with Image.open(path) as img:  # reads the header only
                width, height = img.size
        except Image.DecompressionBombError:
            width, height = MAX_IMAGE_PIXELS, 2
        except Exception:
            return  # not a decodable image: the reader finds no QR in it
        if width * height > MAX_IMAGE_PIXELS:
            raise ScanTooLarge(gettext_noop("图片像素过多（%(width)s×%(height)s）：扫描件不能超过 %(mp)s 百万像素，请以 "
                                     "150–300 dpi 扫描后上传"), "pixels",
                               {"width": width, "height": height, "mp": MAX_IMAGE_PIXELS // 1_000_000})
        return
    if kind == "pdf":
        for n, (w_in, h_in) in enumerate(_pdf_page_inches(path)[:MAX_PDF_PAGES], start=1):
            if max(w_in, h_in) > MAX_PAGE_INCHES or w_in * h_in * PDF_DPI * PDF_DPI > MAX_IMAGE_PIXELS:
                raise ScanTooLarge(gettext_noop("PDF 第 %(page)s 页页面过大（%(w)s×%(h)s 英寸）：扫描件的页面不能大于 "
                                         "%(max)s 英寸，请按 A4 或 A3 纸张扫描"), "page_size",
                                   {"page": n, "w": round(w_in), "h": round(h_in), "max": MAX_PAGE_INCHES})


def _pdf_page_inches(path: Path) -> list[tuple[float, float]]:
    """(width, height) in inches of each page (MediaBox × UserUnit); [] when pypdf cannot read the file
    (its pages are then rendered at a bounded size, see `_render`)."""
    try:
        from pypdf import PdfReader

        out = []
        for page in PdfReader(str(path)).pages[:MAX_PDF_PAGES]:
            box = page.mediabox
            unit = float(page.get("/UserUnit", 1) or 1)
            out.append((abs(float(box.width)) * unit / 72, abs(float(box.height)) * unit / 72))
        return out
    except Exception:
        return []


def _child_limits(memory: int, seconds: int):
    """preexec_fn of a child: its own address-space and CPU limits, and killed with its parent (Linux)."""
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds + 5, seconds + 5))
        import contextlib
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # not Linux: the CPU limit still ends the child
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    return apply


def read_qr_limited(path: str | Path, kind: str, *, want_text: str | None = None,
                    work_dir: str | Path | None = None) -> list[str]:
    """`read_qr` in a child process (settings.SHENBAO_SCAN_READER, default `python -m
    shenbao.documents.scans`) with RLIMIT_AS = SHENBAO_SCAN_READER_MEMORY and a wall-clock limit of
    SHENBAO_SCAN_READ_SECONDS: past it the child and everything it started are killed (ReaderFailed
    "timeout"); a crash (the memory limit) is ReaderFailed "failed". The child dies with its parent."""
    from django.conf import settings

    from shenbao.documents import uploads

    command = list(getattr(settings, "SHENBAO_SCAN_READER", None) or [sys.executable, "-m", "shenbao.documents.scans"])
    seconds = int(getattr(settings, "SHENBAO_SCAN_READ_SECONDS", READER_SECONDS))
    memory = int(getattr(settings, "SHENBAO_SCAN_READER_MEMORY", READER_MEMORY))
    work = Path(work_dir) if work_dir else uploads.process_dir()
    args = [*command, str(path), kind, "--tmp", str(work)] + (["--want", want_text] if want_text else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=_child_limits(memory, seconds))
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ReaderFailed("timeout", f"{seconds} s") from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise ReaderFailed("failed", err.decode("utf-8", "replace")[-500:])
    try:
        texts = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ReaderFailed("failed", "no answer") from None
    return [t for t in texts if isinstance(t, str)]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.kill()
    proc.wait()


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


def _pdf_texts(path: Path, *, want=None, tmp_dir: str | None = None) -> list[str]:
    """Render pages one by one and read them, stopping at the first page whose QR `want` accepts. A page
    pypdf could not measure is rendered no larger than MAX_PAGE_INCHES at PDF_DPI (-scale-to)."""
    found: list[str] = []
    pages = min(_pdf_page_count(path), MAX_PDF_PAGES)
    bound = [] if _pdf_page_inches(path) else ["-scale-to", str(int(MAX_IMAGE_PIXELS ** 0.5))]
    with tempfile.TemporaryDirectory(prefix="sb-scan-", dir=tmp_dir) as tmp:
        for n in range(1, max(pages, 1) + 1):
            prefix = Path(tmp) / f"p{n}"
            try:
                subprocess.run(["pdftoppm", "-r", str(PDF_DPI), *bound, "-gray", "-png", "-f", str(n), "-l", str(n),
                                "-singlefile", str(path), str(prefix)], check=True, capture_output=True,
                               timeout=READER_SECONDS, preexec_fn=_child_limits(READER_MEMORY, READER_SECONDS))
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


def read_qr(path: str | Path, kind: str, *, want=None, tmp_dir: str | None = None) -> list[str]:
    """Every QR text read from the file (a PDF page by page; `want(text)` stops at a wanted one). In this
    process, without limits: the server calls `read_qr_limited`."""
    path = Path(path)
    if kind == "pdf":
        return _pdf_texts(path, want=want, tmp_dir=tmp_dir)
    try:
        return _image_texts(path)
    except Exception:  # a file that claims to be an image but does not decode has no QR to read
        return []


def main(argv: list[str] | None = None) -> int:
    """The reader child: `python -m shenbao.documents.scans PATH KIND [--tmp DIR] [--want TEXT]` prints the
    QR texts as a JSON list on its last line. No Django here: it only reads the file."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shenbao.documents.scans")
    parser.add_argument("path")
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--tmp")
    parser.add_argument("--want")
    args = parser.parse_args(argv)
    want = (lambda t: t == args.want) if args.want else None
    print(json.dumps(read_qr(args.path, args.kind, want=want, tmp_dir=args.tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
