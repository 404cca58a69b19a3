"""项目申报用户注册: a unit registers itself; its home association or a funder above approves or rejects."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs import selectors, services
from shenbao.orgs.models import Category, Organisation, Role, User
from tests.conftest import credit_code

pytestmark = pytest.mark.usefixtures("fast_hashing")  # tests/conftest.py
PASSWORD = "Reg#2026ok"


@pytest.fixture
def world(make_org, make_user, load_call):
    gx = make_org("广西壮族自治区科学技术协会", "province_association", code=None)
    lz = make_org("柳州市科学技术协会", "city_association", gx, code=None)
    yf = make_org("柳州市鱼峰区科学技术协会", "county_association", lz, code=None)
    load_call("liuzhou2026")  # its eligibility groups make the applicant categories
    return {
        "gx": gx, "lz": lz, "yf": yf,
        "home": make_user("home", lz, roles=(Role.HOME_REVIEWER,)),
        "funder": make_user("funder", lz, roles=(Role.FUNDER_STAFF,)),
        "gx_funder": make_user("gx_funder", gx, roles=(Role.FUNDER_STAFF,)),
        "yf_home": make_user("yf_home", yf, roles=(Role.HOME_REVIEWER,)),
    }


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


def register(world, **over):
    d = form_data(world, **over)
    return services.register_unit(
        name=d["name"], credit_code=d["credit_code"], category=Category.objects.get(pk=d["category"]),
        home_association=Organisation.objects.get(pk=d["home_association"]), address=d["address"],
        contact_name=d["contact_name"], contact_phone=d["contact_phone"], username=d["username"],
        password=d["password1"], display_name=d["display_name"], phone=d["phone"],
    )


def login(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password}, follow=True)


# --- categories and associations offered ---------------------------------------------------------------


def test_applicant_categories_come_from_the_catalogue(world):
    # R-E1: every applicant category of the notices may register; funders and finance may not
    codes = set(selectors.applicant_categories().values_list("code", flat=True))
    assert {"city_society", "county_association", "enterprise_association", "university_association",
            "doctoral_station_host", "journal", "society_party_branch", "group_member", "society_union",
            "non_profit", "alliance_lead", "pilot_city_association", "city_association"} <= codes
    assert not codes & {"finance_department", "province_association", "national_association"}


def test_home_associations_are_active_associations(world, make_org):
    make_org("某企业", "enterprise")
    names = set(selectors.home_associations().values_list("name", flat=True))
    assert names == {"广西壮族自治区科学技术协会", "柳州市科学技术协会", "柳州市鱼峰区科学技术协会"}


# --- the page ------------------------------------------------------------------------------------------


def test_register_page_creates_a_pending_unit_and_user(world, client):
    r = client.post("/accounts/register/", form_data(world, credit_code=credit_code(901).lower()))
    assert r.status_code == 302 and r.url == "/accounts/register/done/"
    org = Organisation.objects.get(name="柳州市电子学会")
    assert org.status == Organisation.Status.PENDING
    assert org.parent == world["lz"]
    assert org.credit_code == credit_code(901)  # lower-case input normalised
    user = User.objects.get(username="dz_clerk")
    assert user.organisation == org and not user.roles.exists() and not user.must_change_password
    assert AuditEvent.objects.filter(action="registration.submit", object_id=str(org.pk), actor_name="dz_clerk").exists()
    done = client.get(r.url).content.decode()
    assert "柳州市科学技术协会" in done and "审核" in done


def test_bad_credit_code_shows_the_message_beside_the_field_and_keeps_what_was_typed(world, client):
    bad = credit_code(901)[:17] + ("0" if credit_code(901)[17] != "0" else "1")
    r = client.post("/accounts/register/", form_data(world, credit_code=bad))
    html = r.content.decode()
    assert r.status_code == 200
    assert "统一社会信用代码校验位不正确" in html
    assert r.context["form"].errors["credit_code"] == ["统一社会信用代码校验位不正确，请核对"]
    for typed in ("柳州市电子学会", bad, "柳州市城中区文昌路1号", "dz_clerk", "13800000005"):
        assert f'value="{typed}"' in html
    assert PASSWORD not in html  # passwords are not echoed back
    assert not Organisation.objects.filter(name="柳州市电子学会").exists()


def test_same_credit_code_or_name_cannot_register_twice(world, client):
    register(world)
    r = client.post("/accounts/register/", form_data(world, name="另一个学会", username="other",
                                                     credit_code=credit_code(901).lower()))
    errors = r.context["form"].errors
    # R-S62: a stranger hears one neutral message, not the unit's name and status
    assert "无法注册" in errors["__all__"][0] and "柳州市电子学会" not in errors["__all__"][0]
    assert 'value="另一个学会"' in r.content.decode()
    r = client.post("/accounts/register/", form_data(world, credit_code=credit_code(902), username="other"))
    assert "无法注册" in r.context["form"].errors["__all__"][0]
    assert Organisation.objects.filter(name="柳州市电子学会").count() == 1
    with pytest.raises(services.RegistrationError) as exc:
        register(world, username="third")
    assert set(exc.value.errors) == {"__all__"}


def test_weak_password_and_taken_username_refused(world, client, make_user):
    make_user("taken")
    r = client.post("/accounts/register/", form_data(world, username="taken", password1="abcdefgh",
                                                     password2="abcdefgh"))
    errors = r.context["form"].errors
    assert "登录用户名已被使用" in errors["__all__"][0]  # R-S62: in the one neutral message
    assert any("至少3类" in e for e in errors["password1"])


def test_category_must_be_an_applicant_category(world):
    with pytest.raises(services.RegistrationError) as exc:
        register(world, category=Category.objects.get(code="finance_department").pk)
    assert exc.value.errors == {"category": "请选择申报单位类别"}


# --- review --------------------------------------------------------------------------------------------


def test_pending_user_logs_in_and_sees_the_wait(world, client):
    register(world)
    page = login(client, "dz_clerk").content.decode()
    assert "等待 柳州市科学技术协会 审核" in page


def test_home_reviewer_approves_and_the_clerk_gets_the_role(world, client):
    org, user = register(world)
    client.force_login(world["home"])
    page = client.get("/accounts/registrations/").content.decode()
    assert "柳州市电子学会" in page and "通过" in page
    r = client.post(f"/accounts/registrations/{org.pk}/decide/", {"action": "approve", "next": "//evil.example/"})
    assert r.status_code == 302 and r.url == "/accounts/registrations/"  # never back to another site
    org.refresh_from_db()
    assert org.status == Organisation.Status.ACTIVE and org.reviewed_by == world["home"]
    assert user.has_role(Role.APPLICANT_CLERK)
    ev = AuditEvent.objects.get(action="registration.approve", object_id=str(org.pk))
    assert ev.actor == world["home"] and ev.before == {"status": "pending"} and ev.after == {"status": "active"}
    client.logout()
    home = login(client, "dz_clerk").content.decode()
    assert "申报单位经办人" in home and "已通过" in home


def test_reject_needs_a_reason_which_the_applicant_sees_at_login(world, client):
    # R-E9: the home association reviews; its reason reaches the applicant
    org, _ = register(world)
    with pytest.raises(ValidationError, match="理由"):
        services.reject_registration(actor=world["home"], org=org, reason="  ")
    client.force_login(world["home"])
    client.post(f"/accounts/registrations/{org.pk}/decide/", {"action": "reject", "reason": ""})
    org.refresh_from_db()
    assert org.status == Organisation.Status.PENDING
    client.post(f"/accounts/registrations/{org.pk}/decide/",
                {"action": "reject", "reason": "统一社会信用代码与登记证书不符"})
    org.refresh_from_db()
    assert org.status == Organisation.Status.REJECTED
    assert AuditEvent.objects.filter(action="registration.reject", note="统一社会信用代码与登记证书不符").exists()
    client.logout()
    page = login(client, "dz_clerk").content.decode()
    assert "注册未通过审核" in page and "统一社会信用代码与登记证书不符" in page
    assert not User.objects.get(username="dz_clerk").roles.exists()


def test_rejected_unit_corrects_and_resubmits(world, client):
    org, user = register(world)
    services.reject_registration(actor=world["home"], org=org, reason="地址不全")
    client.force_login(user)
    r = client.get("/accounts/register/resubmit/")
    assert r.status_code == 200 and "地址不全" in r.content.decode()
    data = form_data(world, address="柳州市城中区文昌路1号科技大楼3楼")
    r = client.post("/accounts/register/resubmit/", data)
    assert r.status_code == 302
    org.refresh_from_db()
    assert org.status == Organisation.Status.PENDING and org.address.endswith("3楼")
    assert AuditEvent.objects.filter(action="registration.resubmit", object_id=str(org.pk)).exists()


def test_only_the_home_association_or_a_funder_above_may_review(world, client, make_user):
    org, _ = register(world)
    # the county's reviewer does not review a unit of the city association
    with pytest.raises(NotAllowed, match="柳州市科学技术协会的审核人"):
        services.approve_registration(actor=world["yf_home"], org=org)
    client.force_login(world["yf_home"])
    r = client.post(f"/accounts/registrations/{org.pk}/decide/", {"action": "approve"})
    assert r.status_code == 403 and "柳州市科学技术协会的审核人" in r.content.decode()
    assert "柳州市电子学会" not in client.get("/accounts/registrations/?status=all").content.decode()
    # a clerk has no registrations page
    clerk = make_user("someone", world["yf"], roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    r = client.get("/accounts/registrations/")
    assert r.status_code == 403 and "属地科协审核人和主办方业务人员" in r.content.decode()
    # the province funder sits above: it sees and may approve
    client.force_login(world["gx_funder"])
    assert "柳州市电子学会" in client.get("/accounts/registrations/").content.decode()
    services.approve_registration(actor=world["gx_funder"], org=org)
    org.refresh_from_db()
    assert org.status == Organisation.Status.ACTIVE
    # an approved unit cannot be approved again
    with pytest.raises(NotAllowed):
        services.approve_registration(actor=world["home"], org=org)


def test_registrations_page_lists_pending_and_registered_units_under_the_funder(world, client, make_org):
    pending, _ = register(world)
    active = make_org("柳州市农学会", "city_society", world["lz"])
    under_county = make_org("鱼峰区某企业科协", "enterprise_association", world["yf"], status="pending")
    elsewhere = make_org("南宁市某学会", "city_society", world["gx"], status="pending")
    client.force_login(world["funder"])
    pending_page = client.get("/accounts/registrations/").content.decode()
    assert pending.name in pending_page and under_county.name in pending_page
    assert active.name not in pending_page and elsewhere.name not in pending_page
    registered = client.get("/accounts/registrations/?status=active").content.decode()
    assert active.name in registered and pending.name not in registered
    # the home reviewer sees only the units directly under the association
    client.force_login(world["home"])
    page = client.get("/accounts/registrations/").content.decode()
    assert pending.name in page and under_county.name not in page
    found = client.get("/accounts/registrations/", {"status": "all", "q": credit_code(901).lower()}).content.decode()
    assert pending.name in found and active.name not in found


def test_demo_data_includes_a_registration_to_approve(load_call, client):
    from shenbao.demo import data as demo

    load_call("liuzhou2026")
    logins = demo.ensure_demo_data()
    demo.ensure_demo_data()  # idempotent
    assert any(u == demo.PENDING_USER for u, _, _ in logins)
    org = Organisation.objects.get(name=demo.PENDING_ORG)
    assert org.status == Organisation.Status.PENDING and org.parent.name == "柳州市科学技术协会"
    client.force_login(User.objects.get(username="home"))
    assert demo.PENDING_ORG in client.get("/accounts/registrations/").content.decode()
    services.approve_registration(actor=User.objects.get(username="funder"), org=org)
    assert User.objects.get(username=demo.PENDING_USER).has_role(Role.APPLICANT_CLERK)
