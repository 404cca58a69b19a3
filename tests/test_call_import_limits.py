"""A funder's call import cannot exhaust the server: input size capped for files and pasted text, YAML
aliases within a budget, CEL expressions bounded in size and cost at load, a malformed `kind` refused,
and problems never echo large input back."""

from __future__ import annotations

import time

import pytest
import yaml
from django.urls import reverse

from shenbao.calls import schema
from shenbao.calls.models import Call
from shenbao.core.expressions import ExpressionError, compile_expression
from shenbao.orgs.models import Role
from tests.test_portal import text_of

pytestmark = pytest.mark.django_db

# 6 levels of 9: 515 bytes at 9 levels expand to 9⁹ nodes; 6 levels (~350 bytes) already to half a million.
BOMB = "kind: call\n" + "a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 7))


@pytest.fixture
def liuzhou(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def staff(liuzhou, make_user, client):
    user = make_user("imp_funder", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))
    client.force_login(user)
    return user


def _paste(client, text: str, filename: str = "x.yaml"):
    return client.post(reverse("calls:import"), {"text": text, "filename": filename})


def test_an_alias_bomb_is_refused_with_a_short_page(client, staff):
    # R-S77
    started = time.monotonic()
    r = _paste(client, BOMB)
    assert r.status_code == 400 and len(r.content) < 50_000
    assert "节点" in r.content.decode() or "别名" in r.content.decode()
    assert time.monotonic() - started < 10
    with pytest.raises(schema.CallFormatError, match="节点"):
        schema.parse_yaml(BOMB, "bomb.yaml")


def test_too_many_aliases_are_refused():
    # R-S77
    text = "kind: call\nx: &x 1\ny: [" + ",".join(["*x"] * (schema.MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(schema.CallFormatError, match="别名"):
        schema.parse_yaml(text, "many.yaml")


def test_pasted_text_has_the_file_limit(client, staff, liuzhou):
    # R-S76
    text = liuzhou.source_yaml + "\n# " + "x" * (2 * 1024 * 1024) + "\n"
    r = _paste(client, text, "liuzhou-2026-kcfn.yaml")
    assert r.status_code == 400 and "过大" in r.content.decode()
    assert len(r.content) < 200_000  # the pasted text is not sent back
    liuzhou.refresh_from_db()
    assert liuzhou.revision == 1
    with pytest.raises(schema.CallFormatError, match="过大"):
        schema.load_text(text, "big.yaml")


@pytest.mark.parametrize("kind", ["[call]", "{call: 1}", "null", "7"])
def test_a_kind_that_is_not_a_word_is_a_400(client, staff, kind):
    # R-S78
    r = _paste(client, f"kind: {kind}\ncode: x\n")
    assert r.status_code == 400 and "须为 call 或 catalogue" in r.content.decode()


def test_large_input_is_never_echoed_back(client, staff, liuzhou):
    # R-S78
    huge = "契" * 300_000
    r = _paste(client, yaml.safe_dump({"kind": huge}, allow_unicode=True))
    assert r.status_code == 400  # the pasted text stays in its box (typed text is kept), the problem is short
    assert len(text_of(r.content.decode(), class_="problem-list")) < 2000
    data = yaml.safe_load(liuzhou.source_yaml)
    data["project_types"][0]["quota"]["kind"] = huge
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    r = client.post(reverse("calls:import"), {"file": _upload(text)})
    assert r.status_code == 400 and r.content.decode().count("契") < 1000


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("big.yaml", text.encode(), content_type="application/yaml")


NESTED = ("[1,2,3,4,5,6,7,8,9,10].exists(a, [1,2,3,4,5,6,7,8,9,10].exists(b, [1,2,3,4,5,6,7,8,9,10].exists(c, "
          "[1,2,3,4,5,6,7,8,9,10].exists(d, [1,2,3,4,5,6,7,8,9,10].exists(e, [1,2,3,4,5,6,7,8,9,10].exists(f, "
          "a + b + c + d + e + f < 0 && org.founded_year > 0)))))) || true")


def test_a_costly_condition_is_refused_at_load(client, staff, liuzhou):
    # R-S79: six nested comprehensions over ten elements are a million evaluations per page
    data = yaml.safe_load(liuzhou.source_yaml)
    data["code"] = "lz-cel-bomb"
    data["project_types"][0].setdefault("eligibility", {})["conditions"] = [{"expr": NESTED, "message": "x"}]
    r = client.post(reverse("calls:import"), {"file": _upload(yaml.safe_dump(data, allow_unicode=True))})
    assert r.status_code == 400 and "嵌套" in r.content.decode()
    assert not Call.objects.filter(code="lz-cel-bomb").exists()


@pytest.mark.parametrize("source,words", [
    ("1 + " * 400 + "1", "过长"),
    ("(" * 20 + "1" + ")" * 20, "嵌套过深"),
    ("[" + ",".join(["1"] * 150) + "].size() > 0", "列表过长"),
    ("[1].all(x, [1].all(y, [1].all(z, true)))", "嵌套过深"),
    (" && ".join(["[1].exists(x, x == 1)"] * 5), "过多"),
])
def test_expression_bounds(source, words):
    # R-S79
    with pytest.raises(ExpressionError, match=words):
        compile_expression(source)


def test_ordinary_expressions_still_compile():
    # R-S79: strings with brackets and commas are not counted; two levels of comprehension are fine
    assert compile_expression('"((((((((((((((,,," == org.name').source
    assert compile_expression("org.attrs.a.all(x, [1, 2].exists(y, y == x))").source
