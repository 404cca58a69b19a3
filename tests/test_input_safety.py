"""What a user sends is bounded and checked: draft values only for the form's fields and within their
limits, a body cap, ids that are numbers (bad input is a 400 with a message, never a 500), and the
applicant's unsubmitted edits stay inside the applicant unit."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from shenbao.applications import services
from shenbao.applications.models import Application, ApplicationParticipant
from shenbao.orgs.models import Role
from tests.journey_support import filled_draft, reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
API = "/api/v1/applications"
SECRET = "尚未提交的秘密修改"


@pytest.fixture
def call(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def people(call, make_org, make_user):
    org, clerk, head = unit(make_org, make_user, name="柳州市边界学会", category="city_society", parent=call.issuer,
                            prefix="lim")
    return org, clerk, head


@pytest.fixture
def draft(call, people):
    return filled_draft(people[1], call, "2026-2")


# --- unsubmitted edits stay in the unit ----------------------------------------------------------------------


def _edit_after_submit(app, clerk):
    app = Application.objects.get(pk=app.pk)
    services.save_draft(user=clerk, application=app, values={**app.data, "plan": SECRET, "project_name": SECRET},
                        expected_version=app.version)


def test_the_funder_reads_only_the_submitted_version_after_a_return(client, call, people, draft, make_user):
    # R-S70
    _org, clerk, head = people
    staff = make_user("lim_funder", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    submitted = services.submit(user=clerk, application=draft).snapshot
    services.return_for_revision(user=staff, application=Application.objects.get(pk=draft.pk), reason="请补充",
                                 new_deadline=timezone.now() + dt.timedelta(days=3))
    _edit_after_submit(draft, clerk)
    client.force_login(staff)
    out = client.get(f"{API}/{draft.pk}").json()
    assert SECRET not in json.dumps(out, ensure_ascii=False)
    assert out["values"]["plan"] == submitted.values["values"]["plan"] and out["title"] == submitted.values["title"]
    page = client.get(reverse("applications:detail", args=[draft.pk])).content.decode()
    assert SECRET not in page
    assert SECRET not in client.get(reverse("applications:received")).content.decode()
    client.force_login(head)  # inside the unit the draft is visible
    assert client.get(f"{API}/{draft.pk}").json()["values"]["plan"] == SECRET


def test_the_endorser_and_funder_read_only_the_submitted_version_after_a_withdrawal(client, load_call, make_org,
                                                                                    make_user):
    # R-S70
    gx = reopen(load_call("guangxi2026"))
    city = make_org("柳州市科学技术协会", "city_association", parent=gx.issuer, code=None)
    reviewer = make_user("lim_home", org=city, roles=(Role.HOME_REVIEWER,))
    staff = make_user("lim_gx", org=gx.issuer, roles=(Role.FUNDER_STAFF,))
    _org, clerk, _ = unit(make_org, make_user, name="柳州某边界科协", category="enterprise_association", parent=city,
                          prefix="limgx")
    app = filled_draft(clerk, gx, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    services.endorse(user=reviewer, application=Application.objects.get(pk=app.pk), opinion="同意推荐。")
    services.withdraw(user=clerk, application=Application.objects.get(pk=app.pk), reason="补充")
    _edit_after_submit(app, clerk)
    for user in (reviewer, staff):
        client.force_login(user)
        r = client.get(f"{API}/{app.pk}")
        assert r.status_code == 200 and SECRET not in json.dumps(r.json(), ensure_ascii=False)
        assert SECRET not in client.get(reverse("applications:detail", args=[app.pk])).content.decode()


def test_a_never_submitted_draft_shows_no_values_outside_the_unit(client, call, people, draft, make_org, make_user):
    # R-S70: a participant unit sees the application but not the lead unit's draft
    _org, clerk, _head = people
    other, other_clerk, _ = unit(make_org, make_user, name="柳州市参与学会", category="city_society",
                                 parent=call.issuer, prefix="limp", head=False)
    services.add_participant(user=clerk, application=draft, organisation=other)
    client.force_login(other_clerk)
    r = client.get(f"{API}/{draft.pk}")
    assert r.status_code == 200 and r.json()["values"] == {}


# --- ids in posted forms and query strings --------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "1e3", "", "99999999999999999999999", "-1", "1;DROP"])
def test_a_non_numeric_project_type_is_a_400(client, people, value):
    # R-S71
    client.force_login(people[1])
    r = client.post(reverse("applications:create"), {"project_type": value})
    assert r.status_code in (400, 404)
    if value in ("abc", "1e3", "", "1;DROP"):
        assert r.status_code == 400 and "项目类型" in r.content.decode()


def test_a_non_numeric_participant_is_a_400(client, people, draft):
    # R-S71
    client.force_login(people[1])
    r = client.post(reverse("applications:approval", args=[draft.pk]), {"action": "remove", "participant": "abc"})
    assert r.status_code == 400 and "参与单位" in r.content.decode()
    assert ApplicationParticipant.objects.count() == 0


def test_a_non_numeric_attribute_is_a_400(client, make_org, make_user, catalogue):
    # R-S71
    sysadmin = make_user("lim_sys", roles=(Role.SYSTEM_ADMIN,))
    org = make_org("柳州市属性学会", "city_society")
    client.force_login(sysadmin)
    for action in ("end", "remove"):
        r = client.post(reverse("orgs:unit", args=[org.pk]), {"action": action, "attribute": "abc"})
        assert r.status_code == 400, action


def test_a_non_numeric_assignment_is_a_400(client, make_user):
    # R-S71
    secadmin = make_user("lim_sec", roles=(Role.SECURITY_ADMIN,))
    target = make_user("lim_target")
    client.force_login(secadmin)
    r = client.post(reverse("orgs:security_user", args=[target.pk]), {"action": "revoke", "assignment": "abc"})
    assert r.status_code == 400


def test_parse_id_refuses_what_is_not_an_id():
    # R-S71
    from shenbao.core.http import BadInput, parse_id

    assert parse_id("42", what="x") == 42 and parse_id(" 7 ", what="x") == 7
    for bad in ("abc", "", None, "-1", "0", "1.5", "１２", "9" * 30, ["1"]):
        with pytest.raises(BadInput):
            parse_id(bad, what="x")


# --- draft values: only the form's fields, each within its limit -----------------------------------------


def test_unknown_keys_are_refused_with_their_names(client, people, draft):
    # R-S72
    client.force_login(people[1])
    values = {**draft.data, "evil": "x" * 100, "_meeting": "伪造"}
    r = client.put(f"{API}/{draft.pk}", {"values": values, "version": draft.version}, content_type="application/json")
    assert r.status_code == 400
    assert "evil" in r.json()["detail"] and "_meeting" in r.json()["detail"]
    draft.refresh_from_db()
    assert "evil" not in draft.data and draft.version == 2


@pytest.mark.parametrize("key,value", [
    ("plan", "很长" * 200_000),                              # a long text far beyond any sensible length
    ("project_name", {"nested": {"deeper": ["x"] * 10}}),    # a structure where text is asked for
    ("goals", ["x"] * 5000),                                 # a list where text is asked for
    ("project_lead", {"name": "张三", "hobby": "x"}),          # a part the person block does not have
])
def test_values_beyond_their_field_limit_are_refused(people, draft, key, value):
    # R-S73
    with pytest.raises(services.InputRefused) as exc:
        services.save_draft(user=people[1], application=draft, values={**draft.data, key: value},
                            expected_version=draft.version)
    assert key in exc.value.errors
    draft.refresh_from_db()
    assert draft.version == 2 and draft.data.get(key) != value


def _changde_form():
    from django.conf import settings

    from shenbao.calls.schema import load_text

    path = next(p for p in settings.CALLS_DIR.glob("changde-*.yaml"))
    doc = load_text(path.read_text(), path.name)
    ptype = doc.project_types[0]
    return doc.form_for(ptype)


def test_tables_and_numbers_have_limits():
    # R-S73: rows of a table, digits of a number; a huge number is a field error, never a crash
    from shenbao.forms.validation import oversize, validate

    form = _changde_form()
    table = next(f for f in form.every_field() if f.kind == "table")
    assert table.key in oversize(form, {table.key: [{c.key: "1" for c in table.columns}] * 5000})
    assert oversize(form, {table.key: [{c.key: "1" for c in table.columns}] * 5}) == {}
    assert table.key in oversize(form, {table.key: [{"nope": "1"}]})
    integer = next(f for f in form.every_field() if f.kind == "integer")
    money = next(f for f in form.every_field() if f.kind == "money")
    result = validate(form=form, values={integer.key: "9" * 5000, money.key: "9" * 40}, partial=True)
    assert integer.key in result.errors and money.key in result.errors


def test_a_25_mb_save_is_refused_and_not_stored(client, people, draft):
    # R-S74
    from shenbao.core.models import AuditEvent

    client.force_login(people[1])
    events = AuditEvent.objects.count()
    big = "测" * (25 * 1024 * 1024 // 3)
    r = client.put(f"{API}/{draft.pk}", {"values": {**draft.data, "plan": big}, "version": draft.version},
                   content_type="application/json")
    assert r.status_code == 400 and "过大" in r.json()["detail"]
    r = client.post(reverse("applications:edit", args=[draft.pk]), {"version": draft.version, "f-plan": big})
    assert r.status_code == 400 and "过大" in r.content.decode()
    draft.refresh_from_db()
    assert draft.version == 2 and AuditEvent.objects.count() == events


def test_an_over_limit_text_on_the_page_is_a_400_that_keeps_the_typed_text(client, people, draft):
    # R-S73: the page answers with the form again, the typed text in it, nothing stored
    client.force_login(people[1])
    typed = "超长" * 30_000
    r = client.post(reverse("applications:edit", args=[draft.pk]), {"version": draft.version, "f-plan": typed})
    assert r.status_code == 400 and typed in r.content.decode()
    draft.refresh_from_db()
    assert draft.version == 2


# --- findings of the fuzzer (tests/test_fuzz.py, bench/fuzz.py) ------------------------------------------


@pytest.mark.parametrize("back", ["7770", "-335", "registrations", "javascript:alert(1)"])
def test_a_next_that_is_not_a_path_goes_back_to_the_list(client, call, make_org, make_user, back):
    # R-S86: redirect("7770") took the number for a view name (NoReverseMatch, HTTP 500)
    home = make_user("lim_home2", org=call.issuer, roles=(Role.HOME_REVIEWER,))
    org = make_org("柳州市待审学会", "city_society", parent=call.issuer, status="pending")
    client.force_login(home)
    r = client.post(f"/accounts/registrations/{org.pk}/decide/", {"action": "reject", "reason": "材料不全",
                                                                     "next": back})
    assert r.status_code == 302 and r.url == reverse("orgs:registrations")
