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
    "mp4": "video/mp4",
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


# --- keeping an upload of a later stage (projects: photos, screenshots, deliverables …) ---------------

MP4_BRANDS = (b"ftyp",)


class FileRefused(Exception):
    """An upload refused: `message` (Chinese, translated) says why; nothing was kept."""

    def __init__(self, message: str, code: str):
        self.message, self.code = message, code
        super().__init__(message)


def sniff_any(path: str | Path) -> str | None:
    """`sniff`, and an MP4 video (an ISO media file: `ftyp` at byte 4)."""
    kind = sniff(path)
    if kind is None:
        with open(path, "rb") as fh:
            head = fh.read(12)
        if head[4:8] in MP4_BRANDS:
            return "mp4"
    return kind


def keep(upload, *, accept: list[str], max_bytes: int, label: str) -> dict:
    """Check an uploaded file (size while it is read, type from its content, the pixel and page limits of
    `scans.inspect`) and keep it by content hash. Returns {file, sha256, size, type, content_type, pages,
    original_name}; raises FileRefused with the reason, leaving nothing behind."""
    import hashlib
    import uuid

    from django.utils.translation import gettext as _

    from shenbao.documents import uploads

    size = getattr(upload, "size", None)
    if upload is None:
        raise FileRefused(_("请选择要上传的文件"), "missing")
    if getattr(upload, "too_large", False) or (size is not None and size > max_bytes):
        raise FileRefused(_("文件过大（%(size)s MB）：%(label)s不能超过 %(max)s MB")
                          % {"size": f"{(size or 0) / 1024 / 1024:.1f}", "label": label,
                             "max": max_bytes // 1024 // 1024}, "too_large")
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    tmp = where / uploads.incoming_name(uuid.uuid4().hex, "part")
    try:
        digest, total = hashlib.sha256(), 0
        with open(tmp, "wb") as out:
            for chunk in upload.chunks():
                total += len(chunk)
                if total > max_bytes:
                    raise FileRefused(_("文件过大：%(label)s不能超过 %(max)s MB")
                                      % {"label": label, "max": max_bytes // 1024 // 1024}, "too_large")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if total == 0:
            raise FileRefused(_("文件是空的"), "empty")
        kind = sniff_any(tmp)
        if kind not in accept:
            raise FileRefused(_("%(label)s只接受 %(types)s 格式的文件（按文件内容识别，不看扩展名）")
                              % {"label": label, "types": "、".join(a.upper() for a in accept)}, "type")
        if kind in scans.KINDS:
            try:
                scans.inspect(tmp, kind)  # R-S80, R-S81: the pixel and page-size limits of the scan upload
            except scans.ScanTooLarge as exc:
                raise FileRefused(_(exc.message) % (exc.params or {}), exc.code) from None
        sha = digest.hexdigest()
        n_pages = pages(tmp, kind)
        name = store(tmp, sha, kind)
        return {"file": name, "sha256": sha, "size": total, "type": kind, "pages": n_pages,
                "content_type": CONTENT_TYPES.get(kind, "application/octet-stream"),
                "original_name": (getattr(upload, "name", "") or "")[-200:]}
    finally:
        tmp.unlink(missing_ok=True)
