"""Anonymous enumeration: registration and “add participant” do not tell strangers which units, credit
codes or user names exist (nor their status), and both are rate-limited."""

from __future__ import annotations

import pytest

from shenbao.applications.models import ApplicationParticipant
from shenbao.orgs.models import Category, Organisation, Role
from tests.conftest import credit_code
from tests.journey_support import filled_draft, reopen, unit

pytestmark = pytest.mark.usefixtures("fast_hashing")
PASSWORD = "Reg#2026ok"
NEUTRAL = "无法注册"


@pytest.fixture
def world(make_org, make_user, load_call):
    lz = make_org("柳州市科学技术协会", "city_association", code=None)
    call = reopen(load_call("liuzhou2026"))
    pending = make_org("柳州市保密学会", "city_society", lz, code=credit_code(777), status="pending")
    active = make_org("柳州市公开学会", "city_society", lz, code=credit_code(778))
    make_user("taken_name", pending)
    return {"lz": lz, "call": call, "pending": pending, "active": active}


def form_data(world, **over):
    data = {
        "name": "柳州市电子学会", "credit_code": credit_code(901), "category": Category.objects.get(code="city_society").pk,
        "home_association": world["lz"].pk, "address": "柳州市城中区文昌路1号", "postcode": "545001",
        "contact_name": "韦明", "contact_phone": "0772-2800001", "email": "dz@example.cn",
        "display_name": "韦明", "phone": "13800000005", "username": "dz_clerk",
        "password1": PASSWORD, "password2": PASSWORD,
    }
    data.update(over)
    return data


def test_registration_says_one_neutral_thing_about_what_exists(world, client):  # R-S62
    pages = []
    for over in ({"credit_code": credit_code(777)}, {"name": "柳州市保密学会"}, {"username": "taken_name"}):
        r = client.post("/accounts/register/", form_data(world, **over))
        html = r.content.decode()
        assert r.status_code == 200 and NEUTRAL in html
        # neither the unit's name (from its credit code) nor its status, nor which of the three it was
        assert "柳州市保密学会" not in html.replace('value="柳州市保密学会"', "")
        assert "待审核" not in html and "已被使用，请换一个" not in html
        errors = r.context["form"].errors
        assert set(errors) == {"__all__"}, errors
        pages.append(errors["__all__"])
    assert pages[0] == pages[1] == pages[2]
    assert not Organisation.objects.filter(name="柳州市电子学会").exists()


def test_registration_is_rate_limited_per_address(world, client, settings):  # R-S63
    limit = settings.SHENBAO_REGISTER_RATE[0]
    for _ in range(limit):
        r = client.post("/accounts/register/", form_data(world, password2="Other#2026x"),
                        REMOTE_ADDR="203.0.113.20")
        assert r.status_code == 200
    r = client.post("/accounts/register/", form_data(world), REMOTE_ADDR="203.0.113.20")
    assert r.status_code == 429 and "操作过于频繁" in r.content.decode()
    assert 'value="柳州市电子学会"' in r.content.decode()  # what was typed is kept
    assert not Organisation.objects.filter(name="柳州市电子学会").exists()
    assert client.post("/accounts/register/", form_data(world), REMOTE_ADDR="203.0.113.21").status_code == 302


def test_add_participant_names_only_active_units_at_a_limited_rate(world, client, make_org, make_user,
                                                                    settings):  # R-S64
    _org, clerk, _head = unit(make_org, make_user, name="柳州市测试学会", category="city_society",
                              parent=world["call"].issuer, prefix="lz")
    app = filled_draft(clerk, world["call"], "2026-2")
    client.force_login(clerk)
    url = f"/apply/{app.pk}/approval/"
    # a pending unit's credit code does not turn into its name
    r = client.post(url, {"action": "add", "unit": credit_code(777)}, follow=True)
    html = r.content.decode()
    assert "没有找到" in html and "柳州市保密学会" not in html
    assert not ApplicationParticipant.objects.filter(application=app).exists()
    # an active unit is found
    r = client.post(url, {"action": "add", "unit": credit_code(778)}, follow=True)
    assert "柳州市公开学会" in r.content.decode()
    # lookups are limited per user
    limit = settings.SHENBAO_PARTICIPANT_LOOKUP_RATE[0]
    for _ in range(limit):
        client.post(url, {"action": "add", "unit": credit_code(999)})
    r = client.post(url, {"action": "add", "unit": credit_code(778)}, follow=True)
    assert "过于频繁" in r.content.decode()
    assert Role.APPLICANT_CLERK in clerk.role_codes()
