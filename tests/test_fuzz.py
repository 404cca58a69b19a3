"""Item 5 of issue 6: the API fuzzed from its OpenAPI document (schemathesis) and the pages' forms with
hypothesis-generated values, as each role and anonymously: no response is a 500. Fixed seed
(derandomize) and a bounded number of examples; bench/fuzz.py runs the same for longer."""

from __future__ import annotations

import pytest

from tests import fuzzing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "fast_hashing")]
API_EXAMPLES = 12    # per role
FORM_EXAMPLES = 12   # per role


@pytest.fixture
def world(settings, tmp_path):
    settings.SHENBAO_TMP_DIR = tmp_path / "tmp"
    return fuzzing.build_world()


def test_the_api_never_answers_500_to_any_role(world):
    # R-S86
    report = fuzzing.Report()
    for role in fuzzing.ROLES:
        fuzzing.fuzz_api(role, world, report, examples=API_EXAMPLES)
    assert set(report.requests) == set(fuzzing.ROLES)
    assert report.errors == [], "\n".join(report.errors)


def test_the_pages_forms_never_answer_500_to_any_role(world):
    # R-S86, R-S71
    report = fuzzing.Report()
    for role in fuzzing.ROLES:
        fuzzing.fuzz_forms(role, world, report, examples=FORM_EXAMPLES)
    assert {"clerk", "funder", "sysadmin", "secadmin", "anonymous"} <= set(report.requests)
    assert report.errors == [], "\n".join(report.errors)
