"""Fuzzing shared by tests/test_fuzz.py (bounded, fixed seed, in CI) and bench/fuzz.py (longer).

The world is the demo's (the five calls, practice calls, one user per role, sample applications). As each
role (and anonymously):
- the API is fuzzed from its OpenAPI document with schemathesis (valid and invalid cases of every
  operation, ids of real applications mixed in), through Django's test client in this process;
- the pages' forms are found by crawling from the work bench as that user, and posted with
  hypothesis-generated values: text, very long text, non-numeric and foreign ids, missing fields, junk.
A response with status 500 is a finding; `Report` counts requests per role and keeps every 500.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROLES = ["clerk", "home", "funder", "finance", "expert", "sysadmin", "secadmin", "auditor", "anonymous"]
SKIP_ACTIONS = ("/accounts/logout/", "/i18n/setlang/", "/django-admin/")
SKIP_LINKS = re.compile(r"/accounts/logout/|/i18n/|/django-admin/|/static/|/media/|\.(pdf|docx|yaml|xlsx)$|/export")
MAX_PAGES = 40


# --- the world ---------------------------------------------------------------------------------------------


def build_world() -> dict:
    """The demo's data (idempotent) and the ids the fuzzers mix into what they send."""
    from django.conf import settings as dj

    from shenbao.applications.models import Application, ApplicationParticipant
    from shenbao.calls import services as calls
    from shenbao.calls.models import ProjectType
    from shenbao.demo import data as demo

    calls.load_directory(directory=dj.CALLS_DIR, publish=True)
    demo.ensure_demo_data()
    demo.ensure_practice_calls()
    demo.ensure_sample_applications()
    return {
        "applications": list(Application.objects.values_list("pk", flat=True)[:10]),
        "project_types": list(ProjectType.objects.values_list("pk", flat=True)[:10]),
        "participants": list(ApplicationParticipant.objects.values_list("pk", flat=True)[:5]),
    }


def login(client, role: str):
    from shenbao.orgs.models import User

    client.logout()
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))


@dataclass
class Report:
    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def note(self, role: str, what: str, response) -> None:
        self.requests[role] += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{role}: {what} → {response.status_code}")


def client():
    from django.test import Client

    return Client(raise_request_exception=False)  # a crash is a 500 response, counted, not an exception


# --- values ------------------------------------------------------------------------------------------------

JUNK = ["abc", "", " ", "-1", "0", "1e3", "1.5", "９", "99999999999999999999999", "null", "[]", "{}", "' OR 1=1 --",
        "<script>x</script>", "../../etc/passwd", "%00", "\x00", "2026-02-30", "true", "on"]


def values(ids: list[int]):
    """What goes into one form field: junk, ids (real or not), text of any size, nothing at all."""
    return st.one_of(
        st.sampled_from(JUNK),
        st.sampled_from([str(i) for i in ids] or ["1"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=40),
        st.text(alphabet="测试申报字段", min_size=1000, max_size=3000).map(lambda s: s * 20),
        st.none(),  # the field is left out
    )


# --- the API -----------------------------------------------------------------------------------------------

_SCHEMA = None


def api_operations() -> list:
    """Every operation of the OpenAPI document, loaded in-process from the WSGI application."""
    global _SCHEMA
    import schemathesis
    from django.core.wsgi import get_wsgi_application

    if _SCHEMA is None:
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        # as Django's test client does: the WSGI handler's signals would close the test's connection
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
        try:
            _SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        finally:
            for signal in (request_started, request_finished):
                signal.connect(close_old_connections)
    return [result.ok() for result in _SCHEMA.get_all_operations()]


def _send_case(c, case, real_ids: dict[str, int]):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from schemathesis.core import NOT_SET

    params = {**(case.path_parameters or {}), **real_ids}
    path = case.path
    for k, v in params.items():
        path = path.replace("{" + k + "}", str(v))
    if "{" in path:
        path = case.formatted_path
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    url = path + ("?" + urlencode(query, doseq=True) if query else "")
    method = case.method.upper()
    body = case.body
    if body is NOT_SET or body is None:
        return c.generic(method, url), f"{method} {url}"
    if (case.media_type or "").startswith("multipart/"):
        data = {}
        for k, v in (body.items() if isinstance(body, dict) else []):
            if v is None:  # a multipart form cannot carry None (Django's test client refuses it)
                continue
            data[k] = SimpleUploadedFile("f.bin", v if isinstance(v, bytes) else str(v).encode()) if k == "file" else v
        return c.post(url, data), f"{method} {url} (multipart)"
    return (c.generic(method, url, json.dumps(body, default=str), content_type="application/json"),
            f"{method} {url} {json.dumps(body, default=str)[:200]}")


def fuzz_api(role: str, world: dict, report: Report, *, examples: int, seed: int = 0) -> None:
    from schemathesis import GenerationMode

    operations = api_operations()
    c = client()
    login(c, role)

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        op = data.draw(st.sampled_from(operations))
        mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
        try:
            case = data.draw(op.as_strategy(mode))
        except Exception:  # schemathesis cannot make a negative case for every operation
            case = data.draw(op.as_strategy(GenerationMode.POSITIVE))
        real = {}
        if "{pk}" in op.path and world["applications"] and data.draw(st.booleans()):
            real["pk"] = data.draw(st.sampled_from(world["applications"]))
        response, what = _send_case(c, case, real)
        report.note(role, what, response)

    run()


# --- the pages' forms --------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]]  # name → the values the page offers (options, the value attribute)
    files: list[str]


class _Forms(HTMLParser):
    def __init__(self, base: str):
        super().__init__()
        self.base = base
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(urldefrag(urljoin(self.base, a["href"]))[0])
        elif tag == "form":
            self._form = Form(urljoin(self.base, a.get("action") or self.base), (a.get("method") or "get").lower(),
                              {}, [])
        elif self._form is not None and tag in ("input", "textarea", "select", "button") and a.get("name"):
            name = a["name"]
            if tag == "input" and a.get("type") == "file":
                self._form.files.append(name)
                return
            self._form.fields.setdefault(name, [])
            if a.get("value") is not None:
                self._form.fields[name].append(a["value"])
            if tag == "select":
                self._select = name
        elif tag == "option" and self._form is not None and self._select and a.get("value") is not None:
            self._form.fields[self._select].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def crawl(c, start: list[str]) -> list[Form]:
    """The forms on the pages reachable from `start` (same site, at most MAX_PAGES pages)."""
    seen: set[str] = set()
    queue = list(start)
    forms: dict[tuple, Form] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or url in seen or SKIP_LINKS.search(parts.path):
            continue
        seen.add(url)
        response = c.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Forms("http://testserver" + url if url.startswith("/") else url)
        parser.feed(response.content.decode("utf-8", "replace"))
        for f in parser.forms:
            path = urlsplit(f.action).path
            if f.method == "post" and not path.startswith(SKIP_ACTIONS):
                forms.setdefault((path, tuple(sorted(f.fields)), tuple(f.files)), Form(path, f.method, f.fields, f.files))
        for link in parser.links:
            p = urlsplit(link)
            if p.netloc in ("", "testserver"):
                queue.append(p.path + (f"?{p.query}" if p.query else ""))
    return list(forms.values())


START = ["/", "/accounts/home/", "/apply/", "/apply/offers/", "/apply/endorse/", "/apply/received/",
         "/manage/calls/", "/manage/calls/import/", "/accounts/registrations/", "/accounts/system/",
         "/accounts/security/", "/accounts/audit/", "/accounts/register/"]


def fuzz_forms(role: str, world: dict, report: Report, *, examples: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client()
    login(c, role)
    forms = crawl(c, START)
    if not forms:
        return
    ids = [*world["applications"], *world["project_types"], *world["participants"]]

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        form = data.draw(st.sampled_from(forms))
        post: dict = {}
        for name, offered in form.fields.items():
            choice = data.draw(st.one_of(st.sampled_from(offered or [""]), values(ids)))
            if choice is not None:
                post[name] = choice
        for name in form.files:
            if data.draw(st.booleans()):
                post[name] = SimpleUploadedFile("x.pdf", data.draw(st.sampled_from(
                    [b"%PDF-1.4\n%junk", b"\x89PNG\r\n\x1a\n", b"kind: call\n", b"", b"\xff\xd8\xffjunk"])))
        login(c, role)  # a posted form may have ended the session (a password change, a deactivation)
        response = c.post(form.action, post)
        report.note(role, f"POST {form.action} {sorted(post)}", response)

    run()
