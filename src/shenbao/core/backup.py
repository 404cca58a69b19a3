"""Backup and restore of the database and the media tree, with a manifest of hashes.

A backup is a directory (0700) holding, each file 0600:
- `db.sqlite3` (SQLite, copied with SQLite's online backup API: consistent while the server runs) or
  `db.dump` (PostgreSQL, `pg_dump -Fc`);
- `media/…`, a copy of the uploaded and generated files;
- `manifest.json`: format, time, database engine, and the size and sha256 of every other file.

`restore` verifies the whole manifest before touching anything (a missing, changed or unlisted file is
refused, named), refuses a database that already holds data unless forced, then restores the database
and the media tree (files 0600, directories 0700).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

MANIFEST = "manifest.json"
FORMAT = 1
FILE_MODE = 0o600
DIR_MODE = 0o700
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message names the file or the reason."""


@dataclass
class Summary:
    directory: Path
    engine: str
    files: int
    bytes: int
    manifest_sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database engine: {vendor}")
    return vendor


def _private_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)


def _pg_env_and_args() -> tuple[dict, list[str]]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    args = ["-h", s.get("HOST") or "127.0.0.1", "-p", str(s.get("PORT") or 5432)]
    if s.get("USER"):
        args += ["-U", s["USER"]]
    return env, args


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy the files under src into dst with private modes (no symlinks followed)."""
    _private_dir(dst)
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        _private_dir(dst / rel)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        for name in files:
            source = Path(root) / name
            if source.is_symlink() or not source.is_file():
                continue
            target = dst / rel / name
            with source.open("rb") as fin, os.fdopen(
                    os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK)
            target.chmod(FILE_MODE)


def backup(directory: Path) -> Summary:
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new or empty directory")
    old_umask = os.umask(0o077)
    try:
        _private_dir(directory)
        engine = _engine()
        if engine == "sqlite":
            database = "db.sqlite3"
            target = directory / database
            connection.ensure_connection()
            dst = sqlite3.connect(target)
            try:
                connection.connection.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal/-shm beside it
            finally:
                dst.close()
        else:
            database = "db.dump"
            env, args = _pg_env_and_args()
            run = subprocess.run(
                ["pg_dump", "-Fc", "--no-owner", "--no-privileges", *args, "-f", str(directory / database),
                 connection.settings_dict["NAME"]], env=env, capture_output=True, text=True)
            if run.returncode:
                raise BackupError(f"pg_dump failed: {run.stderr.strip()[:500]}")
        (directory / database).chmod(FILE_MODE)
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.is_dir():
            _copy_tree(media_root, directory / "media")
        files = {}
        total = 0
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            rel = path.relative_to(directory).as_posix()
            size = path.stat().st_size
            total += size
            files[rel] = {"size": size, "sha256": sha256_of(path)}
        manifest = {
            "format": FORMAT, "created_at": timezone.now().isoformat(), "engine": engine,
            "database": database, "files": files,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        fd = os.open(directory / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
    finally:
        os.umask(old_umask)
    return Summary(directory, engine, len(files), total, hashlib.sha256(body).hexdigest())


def verify(directory: Path) -> dict:
    """The manifest, once every file it lists is present with its size and hash and nothing else is there;
    otherwise BackupError naming the first file that is wrong."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path}: missing (not a Shenbao backup?)")
    try:
        manifest = json.loads(path.read_text("utf-8"))
        files = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(files, dict):
            raise ValueError("unknown format")
    except (ValueError, KeyError, TypeError) as e:
        raise BackupError(f"{path}: unreadable manifest ({e})") from e
    if manifest.get("database") not in files:
        raise BackupError(f"{path}: the database file is not listed")
    for rel, meta in sorted(files.items()):
        target = (directory / rel).resolve()
        if directory.resolve() not in target.parents or ".." in Path(rel).parts:
            raise BackupError(f"{rel}: a path outside the backup")
        if not target.is_file():
            raise BackupError(f"{rel}: missing")
        if target.stat().st_size != meta.get("size"):
            raise BackupError(f"{rel}: size differs from the manifest (damaged or changed)")
        if sha256_of(target) != meta.get("sha256"):
            raise BackupError(f"{rel}: sha256 differs from the manifest (damaged or changed)")
    for extra in sorted(p for p in directory.rglob("*") if p.is_file() or p.is_symlink()):
        rel = extra.relative_to(directory).as_posix()
        if rel != MANIFEST and rel not in files:
            raise BackupError(f"{rel}: not in the manifest")
    return manifest


def _project_models():
    return [m for m in apps.get_models()
            if m.__module__.startswith("shenbao.") or m._meta.label_lower == settings.AUTH_USER_MODEL.lower()]


def database_holds_data() -> bool:
    tables = set(connection.introspection.table_names())
    return any(m._meta.db_table in tables and m._default_manager.exists() for m in _project_models())


def media_holds_files() -> bool:
    root = Path(settings.MEDIA_ROOT)
    return root.is_dir() and any(p.is_file() for p in root.rglob("*"))


def restore(directory: Path, *, force: bool = False) -> dict:
    directory = Path(directory)
    manifest = verify(directory)
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError(f"this backup is of a {manifest['engine']} database; the configured one is {engine}")
    if not force and database_holds_data():
        raise BackupError("the configured database already holds data: restore into an empty one, or --force")
    if not force and media_holds_files():
        raise BackupError(f"{settings.MEDIA_ROOT} already holds files: restore into an empty one, or --force")
    dump = directory / manifest["database"]
    if engine == "sqlite":
        connection.ensure_connection()
        src = sqlite3.connect(f"file:{dump}?mode=ro&immutable=1", uri=True)  # writes nothing beside it
        try:
            src.backup(connection.connection)
        finally:
            src.close()
        connections.close_all()
        Path(connection.settings_dict["NAME"]).chmod(FILE_MODE)
    else:
        connections.close_all()
        env, args = _pg_env_and_args()
        run = subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", *args, "-d", connection.settings_dict["NAME"], str(dump)],
            env=env, capture_output=True, text=True)
        if run.returncode:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()[:500]}")
    media_root = Path(settings.MEDIA_ROOT)
    if (directory / "media").is_dir():
        if force and media_root.is_dir():
            shutil.rmtree(media_root)
        old_umask = os.umask(0o077)
        try:
            _copy_tree(directory / "media", media_root)
        finally:
            os.umask(old_umask)
    return manifest
