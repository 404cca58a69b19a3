"""Shared fixtures: the catalogue and the five calls loaded from calls/, organisations and users."""

from __future__ import annotations

import functools
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
    base = f"5145{n:013d}"  # 17 digits, then the check digit
    return base + uscc.calc_check_digit(base)


@functools.cache
def _catalogue_doc():
    from shenbao.calls import schema

    return schema.load_text((CALLS / "catalogue.yaml").read_text("utf-8"), "catalogue.yaml")


def org_context(doc, *, category: str, founded_year: int = 0, max_: dict | None = None,
                yearly_rating: dict | None = None, name: str = "测试单位", region: str = "", parent: str = "",
                **attrs) -> dict:
    """The eligibility context of the contract (`org`, `call`) for an applicant of `category` under the
    call document `doc`, built by hand from calls/catalogue.yaml (no database): every catalogue attribute
    present with its default unless given in `attrs`; `max_` and `yearly_rating` are org.max and
    org.yearly.rating."""
    cat = _catalogue_doc()
    parents = {c.code: c.parent for c in cat.categories}
    lineage, node = [], category
    while node:
        lineage.append(node)
        node = parents[node]
    return {
        "org": {"name": name, "category": category, "categories": lineage, "region": region, "parent": parent,
                "attrs": {a.key: a.default for a in cat.attributes} | attrs, "max": max_ or {}, "ever": {},
                "yearly": {"rating": yearly_rating or {}}, "founded_year": founded_year},
        "call": {"code": doc.code, "year": doc.year},
    }


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """The tests run with the production static storage (hashed, compressed manifest; DEBUG is off), so a
    template naming a missing asset fails here as it would in production. The files are collected into the
    data dir once and again only when a source asset is newer than the manifest. The live server's static
    handler looks files up through the finders: one more finder lets it find the collected (hashed) names."""
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    newest = max((Path(storage.path(name)).stat().st_mtime for finder in finders.get_finders()
                  for name, storage in finder.list(None)), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        call_command("collectstatic", interactive=False, verbosity=0)
    settings.STATICFILES_FINDERS = [*settings.STATICFILES_FINDERS, "tests.static_collected.CollectedFinder"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request with the English switch leaves English active in its thread: every test starts and ends
    in the default language (Chinese), so messages built outside a request are Chinese unless switched."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Background tasks run at once, in the test (the immediate backend); tests of the real queue and worker
    ask for `db_queue` (tests/test_jobs.py, tests/test_worker.py)."""
    settings.SHENBAO_TASKS_BACKEND = "immediate"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def db_queue(settings):
    """Tasks go to the database queue (django-tasks-db), to be run by `shenbao worker`."""
    settings.SHENBAO_TASKS_BACKEND = "db"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: every test starts with an empty one."""
    from django.core.cache import cache

    cache.clear()
    yield


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
def fast_hashing(settings):
    """MD5 instead of Argon2, which is slow on purpose, for tests about something else
    (tests/test_accounts_auth.py proves Argon2 is the configured hasher). Use with
    `pytestmark = pytest.mark.usefixtures("fast_hashing")`."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- headless Chromium (Debian's package, driven by Playwright) ---------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def _chromium():
    import os

    # Playwright's sync API runs an event loop in this thread; Django must still let the test touch the DB.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(_chromium, live_server, artifacts):
    """A fresh browser page (1280×900, zh-CN) against the live test server; `page.base` is its URL."""
    context = _chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base = live_server.url
    yield pg
    context.close()


@pytest.fixture
def phone(_chromium, live_server):
    """A phone-sized page (390×844, touch, zh-CN) against the live test server; `phone.base` is its URL.
    A test module may define its own `phone` for another size."""
    context = _chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base = live_server.url
    yield pg
    context.close()


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded and generated files go to a fresh folder for the test; returns it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
