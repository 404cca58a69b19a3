"""Backup and restore: `shenbao backup DIR` then `shenbao restore DIR` into a fresh data dir (and on
PostgreSQL a fresh database) gives an identical export of every application; a damaged backup is refused
with the file named; a database holding data is not overwritten without --force; backups are private."""

from __future__ import annotations

import json
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from shenbao.applications import export, printing, services
from shenbao.core.models import AuditEvent
from tests import tasks_support
from tests.journey_support import filled_draft, reopen, unit
from tests.test_scans import upload

pytestmark = pytest.mark.usefixtures("fast_hashing")


def _cli(*args, env) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-m", "shenbao", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def fresh_target(tmp_path):
    """The environment of a fresh installation: its own data dir, and on PostgreSQL its own new database."""
    data = tmp_path / "fresh"
    env = tasks_support.worker_env(data)
    env.pop("SHENBAO_MEDIA_ROOT", None)
    dropped = None
    if connection.vendor == "postgresql":
        name = f"sb_restore_{uuid.uuid4().hex[:10]}"
        with connection.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        dropped = name
        env["SHENBAO_DATABASE_URL"] = tasks_support.database_url().rsplit("/", 1)[0] + "/" + name
    else:
        env["SHENBAO_DATABASE_URL"] = f"sqlite:///{data / 'shenbao.sqlite3'}"
    yield data, env
    if dropped:
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dropped}"')


def _modes(root: Path) -> set[tuple[str, int]]:
    return {("d" if p.is_dir() else "f", stat.S_IMODE(p.stat().st_mode)) for p in [root, *root.rglob("*")]}


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_install_gives_identical_applications(
        load_call, make_org, make_user, media, tmp_path, fresh_target):
    # R-S20, R-S21
    call = reopen(load_call("liuzhou2026"))
    _org, clerk, _head = unit(make_org, make_user, name="柳州市备份学会", category="city_society",
                              parent=call.issuer, prefix="bk")
    submitted = filled_draft(clerk, call, "2026-2")
    services.submit(user=clerk, application=submitted)
    submitted.refresh_from_db()
    services.upload_scan(user=clerk, application=submitted, upload=upload(printing.pdf(submitted.current_snapshot)))
    filled_draft(clerk, call, "2026-1")  # a draft too
    before = export.canonical_json(export.export_all())
    assert '"sha256":"' in before and len(export.export_all()) == 2

    target = tmp_path / "backup"
    call_command("backup", str(target))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["engine"] == connection.vendor
    assert any(name.startswith("media/") for name in manifest["files"])
    assert manifest["database"] in manifest["files"]
    # R-S21: nobody but the owner can read a backup
    assert _modes(target) == {("d", 0o700), ("f", 0o600)}
    assert AuditEvent.objects.filter(action="system.backup").count() == 1

    data, env = fresh_target
    restored = _cli("restore", str(target), env=env)
    assert restored.returncode == 0, restored.stderr
    assert _modes(data / "media") == {("d", 0o700), ("f", 0o600)}
    after = _cli("export-applications", env=env)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == before

    # the restored database now holds data: a second restore is refused unless forced
    again = _cli("restore", str(target), env=env)
    assert again.returncode != 0 and "already holds data" in again.stderr
    forced = _cli("restore", str(target), "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert _cli("export-applications", env=env).stdout.strip() == before


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_with_the_file_named(load_call, media, tmp_path, fresh_target):
    # R-S20
    load_call("liuzhou2026")
    (media / "scans").mkdir(parents=True)
    (media / "scans" / "a.pdf").write_bytes(b"%PDF-1.4 original")
    target = tmp_path / "backup"
    call_command("backup", str(target))
    _data, env = fresh_target
    intact = _cli("restore", str(target), "--verify-only", env=env)
    assert intact.returncode == 0 and "backup intact" in intact.stdout

    (target / "media" / "scans" / "a.pdf").write_bytes(b"%PDF-1.4 changed!")
    refused = _cli("restore", str(target), env=env)
    assert refused.returncode != 0 and "media/scans/a.pdf: sha256 differs" in refused.stderr

    (target / "media" / "scans" / "a.pdf").write_bytes(b"%PDF-1.4 original")
    (target / "media" / "extra.txt").write_text("slipped in")
    refused = _cli("restore", str(target), env=env)
    assert refused.returncode != 0 and "media/extra.txt: not in the manifest" in refused.stderr

    (target / "media" / "extra.txt").unlink()
    (target / manifest_db(target)).unlink()
    refused = _cli("restore", str(target), env=env)
    assert refused.returncode != 0 and f"{manifest_db(target)}: missing" in refused.stderr
    # nothing was restored by the refused attempts
    assert not (_data / "media").exists()


def manifest_db(target: Path) -> str:
    return json.loads((target / "manifest.json").read_text())["database"]


def test_backup_refuses_a_directory_that_is_not_empty(db, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("x")
    with pytest.raises(Exception, match="not empty"):
        call_command("backup", str(tmp_path / "old"))
