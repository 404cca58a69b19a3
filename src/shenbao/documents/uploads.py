"""Uploaded files stream to the app's own temp dir and stop at the limit while they are received (R-S83);
whatever a killed worker leaves there, or half-written in the scans folder, is removed at the next start-up
(R-S85).

    LimitedUploadHandler      settings.FILE_UPLOAD_HANDLERS: every upload, to disk, at most
                              SHENBAO_MAX_UPLOAD_BYTES kept; beyond it the file is marked `too_large`
                              (its `size` is what arrived) and the rest is read and dropped
    process_dir() -> Path     this process's own temp dir: SHENBAO_TMP_DIR/<host>-<pid>
    incoming_name(token, ext) the name of a file being moved into the scans folder, owned by this process
    clean_stale(...) -> int   remove the temp dirs and incoming files of processes of this host that are gone
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the largest file the platform accepts (a stamped scan)
STRAY_SECONDS = 24 * 3600  # an entry of the temp dir not named by a process is removed after a day


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:40] or "host"


def tmp_root() -> Path:
    return Path(getattr(settings, "SHENBAO_TMP_DIR", None) or Path(settings.MEDIA_ROOT).parent / "tmp")


def process_dir() -> Path:
    """This process's temp dir (0700), created on first use."""
    path = tmp_root() / f"{_host()}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def incoming_name(token: str, ext: str) -> str:
    return f".incoming-{_host()}-{os.getpid()}-{token}.{ext}"


class StreamedUpload(UploadedFile):
    """An uploaded file on disk in `process_dir()`, removed when closed (Django closes uploads at the end
    of the request). `too_large` when more than the limit arrived: only the limit was kept."""

    def __init__(self, name, content_type, charset, content_type_extra):
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=process_dir())
        super().__init__(file, name, content_type, 0, charset, content_type_extra)
        self.too_large = False

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self):
        try:
            return self.file.close()
        except FileNotFoundError:
            pass


class LimitedUploadHandler(FileUploadHandler):
    """Writes each uploaded file to disk as it arrives and stops writing at SHENBAO_MAX_UPLOAD_BYTES."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.limit = int(getattr(settings, "SHENBAO_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
        self.received = 0
        self.file = StreamedUpload(self.file_name, self.content_type, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.file.too_large:
            return None
        if self.received > self.limit:
            self.file.too_large = True
            self.file.file.truncate(0)  # nothing of a refused file stays on disk
            return None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = self.received if self.file.too_large else file_size
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_OWNED = re.compile(r"^(?P<host>.+)-(?P<pid>\d+)$")
_INCOMING = re.compile(r"^\.incoming-(?P<host>.+)-(?P<pid>\d+)-[^-]+\.\w+$")


def _gone(host: str, pid: str) -> bool:
    return host == _host() and int(pid) != os.getpid() and not _alive(int(pid))


def clean_stale(*, tmp_dir: Path | None = None, media_root: Path | None = None) -> int:
    """Remove what processes of this host that no longer run left behind: their temp dirs (partial uploads,
    rendered pages) and their half-moved files in the scans folder; stray temp entries older than a day.
    Never touches what a running process owns. Returns how many entries were removed."""
    tmp_dir = Path(tmp_dir) if tmp_dir else tmp_root()
    media_root = Path(media_root) if media_root else Path(settings.MEDIA_ROOT)
    removed = 0
    if tmp_dir.is_dir():
        for entry in tmp_dir.iterdir():
            m = _OWNED.match(entry.name)
            stray = m is None and time.time() - entry.lstat().st_mtime > STRAY_SECONDS
            if stray or (m and _gone(m["host"], m["pid"])):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
    scans_dir = media_root / "scans"
    if scans_dir.is_dir():
        for entry in scans_dir.glob("*/.incoming-*"):
            m = _INCOMING.match(entry.name)
            if m and _gone(m["host"], m["pid"]):
                entry.unlink(missing_ok=True)
                removed += 1
    return removed
