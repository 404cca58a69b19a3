"""Shared fixtures: the catalogue and the five calls loaded from calls/, organisations and users."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.conf import settings
from stdnum.cn import uscc

CALLS = Path(settings.CALLS_DIR)
ARTIFACTS = Path(__file__).parent / "artifacts"

CALL_FILES = {
    "liuzhou2026": "liuzhou-2026-kcfn.yaml",
    "guangxi2026": "guangxi-2026-tzzx.yaml",
    "guangxi2023": "guangxi-2023-tzzx.yaml",
    "hunan2024": "hunan-2024-kjcx.yaml",
    "changde2022": "changde-2022-xhfw.yaml",
}

_serial = itertools.count(1)


def credit_code(n: int | None = None) -> str:
    """A valid 统一社会信用代码 (GB 32100 check digit), different for each call unless n is given."""
    n = next(_serial) if n is None else n
    base = f"5145{n:014d}"[:17]
    return base + uscc.calc_check_digit(base)


@pytest.fixture
def catalogue(db):
    from shenbao.calls import services

    services.load_path(path=CALLS / "catalogue.yaml")


@pytest.fixture
def load_call(catalogue):
    """load_call("liuzhou2026") → the Call row, loaded from calls/ and published."""
    from shenbao.calls import services

    def _load(name: str, publish: bool = True):
        return services.load_path(path=CALLS / CALL_FILES.get(name, name), publish=publish).call

    return _load


@pytest.fixture
def make_org(catalogue):
    from shenbao.orgs.models import Category, Organisation, OrgAttribute

    def _make(name: str, category: str, parent=None, *, code: str | None = "auto", attrs: list[dict] | None = None,
              status: str = "active", **fields):
        org = Organisation.objects.create(
            name=name, category=Category.objects.get(code=category), parent=parent,
            credit_code=credit_code() if code == "auto" else code, status=status, **fields,
        )
        for a in attrs or []:
            OrgAttribute.objects.create(organisation=org, **a)
        return org

    return _make


@pytest.fixture
def make_user(db):
    from shenbao.orgs.models import RoleAssignment, User

    def _make(username: str, org=None, roles: tuple[str, ...] = (), password: str = "Shenbao#2026",
              must_change_password: bool = False, **fields):
        user = User.objects.create_user(username=username, password=password, organisation=org,
                                        must_change_password=must_change_password, **fields)
        for r in roles:
            RoleAssignment.objects.create(user=user, role=r, organisation=org)
        return user

    return _make


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
