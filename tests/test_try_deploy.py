"""docs/deploy.md is tried: the configuration files it shows are the files in deploy/ (verbatim), and
scripts/try-deploy.sh runs its commands on this machine (nginx -t and nginx in front of `shenbao serve`
started as the systemd unit says, PostgreSQL, Redis, requests through nginx)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR).parent.parent


def test_the_document_shows_every_deploy_file_verbatim():
    doc = (ROOT / "docs/deploy.md").read_text("utf-8")
    shown = dict(re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```\n", doc, flags=re.S))
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "deploy").rglob("*") if p.is_file())
    assert sorted(shown) == files
    for path, text in shown.items():
        assert text == (ROOT / path).read_text("utf-8"), f"docs/deploy.md shows an old {path}"


@pytest.mark.slow
def test_the_deploy_document_works_on_this_machine():
    # R-S5: behind nginx with SHENBAO_HTTPS=1, the proxy's header and scheme believed, HSTS sent
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENBAO_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["SHENBAO_PYTHON"] = sys.executable
    out = subprocess.run(["bash", str(ROOT / "scripts/try-deploy.sh")], env=env, capture_output=True, text=True,
                         timeout=1200, check=False)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert out.stdout.strip().endswith("try-deploy: OK")
    for step in ("nginx -t", "systemd-analyze verify", "ExecStart", "a forged X-Forwarded-For",
                 "a 40 MB body is refused"):
        assert step in out.stdout
