"""The stages stay layered (DEVELOPERS.md): core < orgs < calls < forms < documents < applications < review <
projects < demo; no module imports a later stage, only pages compose. The contract is pyproject.toml's
[tool.importlinter]; these tests make CI fail when an import goes the wrong way."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                          capture_output=True, text=True, timeout=300)


def test_no_stage_imports_a_later_one():
    result = lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_of_a_later_stage_fails_the_contract(tmp_path):
    """The check can fail: eligibility importing projects (the cycle the award would make) is refused."""
    shutil.copytree(ROOT / "src" / "shenbao", tmp_path / "shenbao",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"))
    eligibility = tmp_path / "shenbao" / "applications" / "eligibility.py"
    eligibility.write_text(eligibility.read_text("utf-8") + "\nfrom shenbao.projects import models  # noqa\n",
                           "utf-8")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "shenbao.applications is not allowed to import shenbao.projects" in result.stdout
    assert "shenbao.applications.eligibility -> shenbao.projects" in result.stdout


def test_pages_may_compose_but_core_may_not(tmp_path):
    """A stage's views may import a later stage; core's views may not (core knows no stage)."""
    shutil.copytree(ROOT / "src" / "shenbao", tmp_path / "shenbao",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"))
    views = tmp_path / "shenbao" / "calls" / "views.py"
    views.write_text(views.read_text("utf-8") + "\nfrom shenbao.projects import models  # noqa\n", "utf-8")
    assert lint(tmp_path).returncode == 0
    core_views = tmp_path / "shenbao" / "core" / "views.py"
    core_views.write_text(core_views.read_text("utf-8") + "\nfrom shenbao.orgs import models  # noqa\n", "utf-8")
    result = lint(tmp_path)
    assert result.returncode == 1 and "shenbao.core.views -> shenbao.orgs" in result.stdout, result.stdout


def test_the_unit_record_is_kept_by_projects():
    """Eligibility reads bars and past projects through the hook projects fills (applications/record.py),
    with the statuses projects stores."""
    from shenbao.applications import record
    from shenbao.projects.models import Project
    from shenbao.projects.record import ProjectsRecord

    assert isinstance(record.keeper(), ProjectsRecord)
    assert record.UNFINISHED == Project.Status.UNFINISHED
    assert record.DEFERRED == Project.Status.DEFERRED
