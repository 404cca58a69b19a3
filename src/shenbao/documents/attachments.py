"""Files attached to a form (the `attachment` field kind): what a file is, from its bytes, and where it is
kept, by its content hash. The limits of the scan upload apply (streamed upload handler, 20 MB, pixel and
page-size limits of `scans.inspect`).

    sniff(path) -> "pdf" | "jpg" | "png" | "doc" | "xls" | "docx" | "xlsx" | "zip" | None
    pages(path, kind) -> int | None          a PDF's page count
    store(tmp, sha256, kind) -> str          move into MEDIA_ROOT/attachments/<sha[:2]>/<sha>.<kind>
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from django.conf import settings

from shenbao.documents import scans

DEFAULT_ACCEPT = ["pdf", "jpg", "png"]
CONTENT_TYPES = {
    **scans.KINDS,
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(path: str | Path) -> str | None:
    """The kind of a file from its content: magic numbers, and for a ZIP the parts it names (an Office
    Open XML file is a ZIP with `word/` or `xl/`); an OLE file (old Office) is doc unless it holds a
    Workbook stream."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    kind = scans.sniff(head)
    if kind:
        return kind
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:  # reads the central directory only, nothing is inflated
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        return "zip"
    if head.startswith(OLE):
        with open(path, "rb") as fh:
            body = fh.read(4 * 1024 * 1024)
        return "xls" if "Workbook".encode("utf-16-le") in body or "Book".encode("utf-16-le") in body else "doc"
    return None


def pages(path: str | Path, kind: str) -> int | None:
    if kind != "pdf":
        return None
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages)
    except Exception:
        return None


def folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "attachments"


def store(tmp: str | Path, sha256: str, kind: str) -> str:
    """Move a checked file to its place by content hash and return its name relative to MEDIA_ROOT. A file
    with the same hash already there is kept as it is (the same bytes) and `tmp` is removed."""
    target = folder() / sha256[:2] / f"{sha256}.{kind}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        Path(tmp).unlink(missing_ok=True)
    else:
        os.replace(tmp, target)
    return str(target.relative_to(Path(settings.MEDIA_ROOT)))
