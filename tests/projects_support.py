"""Awarded projects on the five real calls, with the people around them (the unit's clerk, the funder's staff
and leader, the funder's finance), for the tests of the stages after the award."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from shenbao.orgs.models import Role
from shenbao.projects.services import record_project
from tests.journey_support import unit

# a type of each call and an amount within its funding
TYPES = {
    "liuzhou2026": ("2026-1", 20000),
    "guangxi2026": ("2026-1", 15000),
    "guangxi2023": ("2023-2", 20000),
    "hunan2024": ("1-1", 80000),
    "changde2022": ("2-2", 20000),
}


@dataclass
class Award:
    project: object
    clerk: object
    staff: object
    leader: object
    finance: object


def award(load_call, make_org, make_user, name: str, *, type_code: str | None = None, amount: int | None = None,
          prefix: str = "p") -> Award:
    call = load_call(name)
    code, default_amount = TYPES[name]
    ptype = call.types.get(code=type_code or code)
    org, clerk, _head = unit(make_org, make_user, name=f"{call.issuer.name[:6]}{prefix}学会", category="city_society",
                             parent=call.issuer, prefix=f"{prefix}{name}")
    staff = make_user(f"{prefix}{name}_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    leader = make_user(f"{prefix}{name}_leader", org=call.issuer, roles=(Role.FUNDER_LEADER,))
    finance = make_user(f"{prefix}{name}_fin", org=call.issuer, roles=(Role.FINANCE,))
    project = record_project(applicant=org, title=f"{ptype.name}（测试立项）", year=call.year, call=call,
                             project_type=ptype, amount=amount or default_amount, code=f"{call.year}-T{ptype.pk}")
    return Award(project, clerk, staff, leader, finance)


def scan_of(pdf: bytes, tmp_path: Path, *, page: int = 1, dpi: int = 150) -> SimpleUploadedFile:
    """Page `page` of a printed PDF as a PNG, the way a scanner returns it."""
    src = tmp_path / f"print-{page}.pdf"
    src.write_bytes(pdf)
    prefix = tmp_path / f"scan-{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile", str(src),
                    str(prefix)], check=True)
    return SimpleUploadedFile("合同扫描.png", prefix.with_suffix(".png").read_bytes())
