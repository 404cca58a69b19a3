"""Conflicts of interest (回避), computed and overridden (issue 8 item 3): same unit, parent or child unit in the
tree, a joint unit, the same home association only where the call asks, a shared e-mail domain but not a
public mail domain, the expert's declared relations, staff pins and lifts (audited, with a reason)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shenbao.applications.models import Application, ApplicationParticipant
from shenbao.calls import services as call_services
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Organisation, Role
from shenbao.review import conflicts
from shenbao.review.conflicts import conflict_causes, conflicts_between
from shenbao.review.models import ConflictOverride, Expert
from tests.conftest import CALLS

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def tree(call, make_org):
    """柳州市科协 (the issuer) above two societies, a university with a college, an enterprise, and a county
    association with its own society."""
    issuer = call.issuer
    county = make_org("柳江区科学技术协会", "county_association", parent=issuer)
    return {
        "issuer": issuer,
        "county": county,
        "soc_a": make_org("柳州市机械工程学会", "city_society", parent=issuer, email="office@lzjx.org.cn"),
        "soc_b": make_org("柳州市电子学会", "city_society", parent=issuer),
        "soc_c": make_org("柳江区农学会", "city_society", parent=county),
        "uni": make_org("广西科技大学", "other_unit", parent=issuer, email="kjc@gxust.edu.cn"),
        "firm": make_org("柳州某机械有限公司", "enterprise", parent=issuer),
    }


@pytest.fixture
def college(tree, make_org):
    return make_org("广西科技大学机械与汽车工程学院", "other_unit", parent=tree["uni"])


def _app(call, org, title="测试项目") -> Application:
    ptype = call.types.order_by("order").first()
    return Application.objects.create(call=call, project_type=ptype, applicant=org, title=title,
                                      status=Application.Status.SUBMITTED, submitted_at=timezone.now())


def _expert(call, name, org=None, *, org_name="", email="", user=None) -> Expert:
    return Expert.objects.create(funder=call.issuer, name=name, organisation=org,
                                 organisation_name=org_name or (org.name if org else "某研究院"), email=email, user=user)


def _codes(causes) -> list[str]:
    return [c.code for c in causes]


def test_same_organisation_is_a_conflict_with_its_cause(call, tree):
    app = _app(call, tree["soc_a"])
    same = _expert(call, "张三", tree["soc_a"])
    other = _expert(call, "李四", tree["soc_b"])
    causes = conflict_causes(app, same)
    assert _codes(causes) == [conflicts.SAME_ORG]
    assert causes[0].text == "专家所在单位与申报单位相同（柳州市机械工程学会）"
    assert conflict_causes(app, other) == []  # a sibling society is no conflict unless the call asks


def test_unmatched_organisation_name_still_matches_the_unit(call, tree):
    """An expert imported with the unit's name but not linked to the tree is still caught by the name."""
    app = _app(call, tree["soc_a"])
    e = _expert(call, "王五", None, org_name=" 柳州市机械工程学会 ")
    assert _codes(conflict_causes(app, e)) == [conflicts.SAME_ORG]


def test_parent_and_child_units_in_the_tree(call, tree, college):
    by_uni = _app(call, tree["uni"])
    by_college = _app(call, college)
    at_college = _expert(call, "赵六", college)
    at_uni = _expert(call, "钱七", tree["uni"])
    assert _codes(conflict_causes(by_uni, at_college)) == [conflicts.CHILD_ORG]
    assert "下属单位" in conflict_causes(by_uni, at_college)[0].text
    assert _codes(conflict_causes(by_college, at_uni)) == [conflicts.PARENT_ORG]
    assert "上级单位" in conflict_causes(by_college, at_uni)[0].text
    # the college's expert is not conflicted with 柳州市科协's other units (siblings of its university)
    assert conflict_causes(_app(call, tree["soc_b"]), at_college) == []


def test_grandparent_units_up_to_the_first_association(call, tree, college, make_org):
    """A lab under the college under the university: the university is above the lab too; the chain stops at
    the first association (柳州市科协), so the province above it is no parent."""
    lab = make_org("广西科技大学智能制造实验室", "other_unit", parent=college)
    at_lab = _expert(call, "李实验", lab)
    at_uni = _expert(call, "钱七", tree["uni"])
    at_issuer = _expert(call, "郑一", tree["issuer"])
    by_uni, by_lab = _app(call, tree["uni"]), _app(call, lab)
    assert _codes(conflict_causes(by_uni, at_lab)) == [conflicts.CHILD_ORG]
    assert _codes(conflict_causes(by_lab, at_uni)) == [conflicts.PARENT_ORG]
    assert "广西科技大学智能制造实验室" in conflict_causes(by_lab, at_uni)[0].text
    assert _codes(conflict_causes(by_lab, at_issuer)) == [conflicts.PARENT_ORG]  # the first association above
    province = make_org("广西壮族自治区科学技术协会", "province_association")
    Organisation.objects.filter(pk=tree["issuer"].pk).update(parent=province)
    at_province = _expert(call, "王省", province)  # above the first association: no parent
    assert conflict_causes(by_lab, at_province) == [] and conflict_causes(by_uni, at_province) == []


def test_joint_unit_of_the_application(call, tree):
    app = _app(call, tree["soc_a"])
    at_firm = _expert(call, "孙八", tree["firm"])
    assert conflict_causes(app, at_firm) == []
    p = ApplicationParticipant.objects.create(application=app, organisation=tree["firm"],
                                              confirmed_at=timezone.now())
    causes = conflict_causes(app, at_firm)
    assert _codes(causes) == [conflicts.JOINT_UNIT] and "柳州某机械有限公司" in causes[0].text
    # a joint unit that left the application no longer counts
    ApplicationParticipant.objects.filter(pk=p.pk).update(removed_at=timezone.now())
    assert conflict_causes(app, at_firm) == []


def test_same_home_association_only_where_the_call_asks(call, tree):
    app = _app(call, tree["soc_a"])
    sibling = _expert(call, "周九", tree["soc_b"])  # also under 柳州市科协
    county = _expert(call, "吴十", tree["soc_c"])  # under 柳江区科协
    at_home = _expert(call, "郑一", tree["issuer"])  # the home association itself
    assert not call.document.review.same_home_association_conflict
    assert conflict_causes(app, sibling) == []
    assert conflict_causes(app, county) == []
    # the issuer is the society's parent: a conflict by the tree anyway
    assert _codes(conflict_causes(app, at_home)) == [conflicts.PARENT_ORG]

    doc = call.document.model_copy(update={"review": call.document.review.model_copy(
        update={"same_home_association_conflict": True})})
    causes = conflict_causes(app, sibling, call_document=doc)
    assert _codes(causes) == [conflicts.SAME_HOME]
    assert causes[0].text == "专家所在单位与申报单位同属一个属地科协（柳州市科学技术协会）"
    assert conflict_causes(app, county, call_document=doc) == []
    assert conflicts.SAME_HOME in _codes(conflict_causes(app, at_home, call_document=doc))


def test_same_home_association_read_from_the_loaded_call(catalogue, call, tree):
    """A call file that says `same_home_association_conflict: true`, loaded like any call, turns the rule on
    for its applications and not for the other call's."""
    text = (CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8")
    text = text.replace("code: liuzhou-2026-kcfn", "code: liuzhou-2026-kcfn-home", 1)
    text = text.replace("review:\n  by: funder\n", "review:\n  by: funder\n  same_home_association_conflict: true\n", 1)
    strict = call_services.load_call(text=text, filename="home.yaml", publish=True).call
    assert strict.document.review.same_home_association_conflict
    sibling = _expert(call, "周九", tree["soc_b"])
    lax_app, strict_app = _app(call, tree["soc_a"]), _app(strict, tree["soc_a"])
    found = conflicts_between([lax_app, strict_app], [sibling])
    assert (lax_app.pk, sibling.pk) not in found
    assert _codes(found[(strict_app.pk, sibling.pk)]) == [conflicts.SAME_HOME]


def test_shared_mail_domain_of_the_unit_or_its_users(call, tree, make_user):
    by_uni = _app(call, tree["uni"])
    by_soc = _app(call, tree["soc_b"])
    # the unit's own address: kjc@gxust.edu.cn
    e1 = _expert(call, "冯二", None, org_name="某研究院", email="feng@GXUST.edu.cn")
    causes = conflict_causes(by_uni, e1)
    assert _codes(causes) == [conflicts.EMAIL_DOMAIN] and "gxust.edu.cn" in causes[0].text
    # a user of the unit: its clerk's address
    make_user("soc_b_clerk", org=tree["soc_b"], roles=(Role.APPLICANT_CLERK,), email="clerk@lzdz.org.cn")
    e2 = _expert(call, "陈三", None, org_name="另一研究院", email="chen@lzdz.org.cn")
    assert _codes(conflict_causes(by_soc, e2)) == [conflicts.EMAIL_DOMAIN]
    assert conflict_causes(by_uni, e2) == []


def test_public_mail_domain_makes_no_conflict(call, tree, make_user):
    app = _app(call, tree["soc_b"])
    make_user("soc_b_qq", org=tree["soc_b"], roles=(Role.APPLICANT_CLERK,), email="12345@qq.com")
    make_user("soc_b_163", org=tree["soc_b"], roles=(Role.UNIT_HEAD,), email="boss@vip.163.com")
    for i, email in enumerate(["67890@qq.com", "someone@163.com", "x@vip.163.com", "y@gmail.com"]):
        e = _expert(call, f"专家{i}", None, org_name=f"研究院{i}", email=email)
        assert conflict_causes(app, e) == [], email


def test_public_mail_domains_follow_the_setting(call, tree, make_user, settings):
    app = _app(call, tree["soc_b"])
    make_user("soc_b_qq", org=tree["soc_b"], roles=(Role.APPLICANT_CLERK,), email="12345@qq.com")
    e = _expert(call, "褚四", None, org_name="研究院", email="67890@qq.com")
    settings.SHENBAO_PUBLIC_MAIL_DOMAINS = ["163.com"]  # qq.com no longer counted public
    assert _codes(conflict_causes(app, e)) == [conflicts.EMAIL_DOMAIN]


def test_declared_relation_by_the_expert(call, tree, make_user):
    user = make_user("expert_zhang", org=call.issuer, roles=(Role.EXPERT,))
    e = _expert(call, "张专家", tree["soc_b"], user=user)
    app_a, app_c = _app(call, tree["soc_a"]), _app(call, tree["soc_c"])
    assert conflict_causes(app_a, e) == []
    conflicts.declare(actor=user, expert=e, organisation=tree["soc_a"], reason="本人为该学会理事")
    causes = conflict_causes(app_a, e)
    assert _codes(causes) == [conflicts.DECLARED] and "本人为该学会理事" in causes[0].text
    assert conflict_causes(app_c, e) == []
    # a declared unit that is a joint unit elsewhere conflicts there too
    ApplicationParticipant.objects.create(application=app_c, organisation=tree["soc_a"])
    assert _codes(conflict_causes(app_c, e)) == [conflicts.DECLARED]
    # only the expert declares for themself
    other = make_user("someone", org=tree["soc_b"], roles=(Role.APPLICANT_CLERK,))
    with pytest.raises(NotAllowed):
        conflicts.declare(actor=other, expert=e, organisation=tree["soc_c"], reason="x")
    assert ConflictOverride.objects.filter(expert=e).count() == 1


def test_staff_pin_adds_and_lift_removes_computed_conflicts(call, tree, make_user):
    # R-V1: the funder runs the review: its staff pin and lift conflicts, each with a reason, audited
    staff = make_user("lz_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    clerk = make_user("lz_clerk", org=tree["soc_a"], roles=(Role.APPLICANT_CLERK,))
    app = _app(call, tree["soc_a"])
    same = _expert(call, "蒋五", tree["soc_a"])
    free = _expert(call, "沈六", tree["soc_b"])

    # pinned: a conflict the data cannot see, with its reason
    with pytest.raises(NotAllowed):
        conflicts.pin(actor=clerk, expert=free, application=app, reason="x")
    with pytest.raises(NotAllowed, match="理由"):
        conflicts.pin(actor=staff, expert=free, application=app, reason="  ")
    assert not ConflictOverride.objects.exists()
    o = conflicts.pin(actor=staff, expert=free, application=app, reason="与项目负责人为师生关系")
    again = conflicts.pin(actor=staff, expert=free, application=app, reason="与项目负责人为师生关系")
    assert again.pk == o.pk  # a double submit adds nothing
    assert _codes(conflict_causes(app, free)) == [conflicts.PINNED]
    assert AuditEvent.objects.filter(action="review.conflict.pinned", object_id=str(o.pk)).count() == 1

    # lifted: the computed conflict is gone for that pair only
    lifted = conflicts.lift(actor=staff, expert=same, application=app, reason="已调离该学会三年以上")
    assert conflict_causes(app, same) == []
    assert _codes(conflicts_between([app], [same], lifts=False)[(app.pk, same.pk)]) == [conflicts.SAME_ORG]
    assert conflicts.lifted_pairs([app], [same, free]) == {(app.pk, same.pk)}
    other_app = _app(call, tree["soc_a"], "另一个项目")
    assert _codes(conflict_causes(other_app, same)) == [conflicts.SAME_ORG]
    assert AuditEvent.objects.filter(action="review.conflict.lifted").count() == 1

    # a lift does not overrule a pin or the expert's declaration: a lift of the pinned pair replaces the pin
    conflicts.lift(actor=staff, expert=free, application=app, reason="核实后无师生关系")
    assert conflict_causes(app, free) == []
    assert ConflictOverride.objects.get(pk=o.pk).revoked_at is not None

    # revoked overrides are ignored: revoking the lift brings the computed conflict back
    conflicts.revoke(actor=staff, override=lifted)
    conflicts.revoke(actor=staff, override=lifted)  # twice: harmless
    assert _codes(conflict_causes(app, same)) == [conflicts.SAME_ORG]
    assert AuditEvent.objects.filter(action="review.conflict.revoke", object_id=str(lifted.pk)).count() == 1


def test_lift_keeps_a_declared_conflict(call, tree, make_user):
    staff = make_user("lz_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    user = make_user("expert_li", org=call.issuer, roles=(Role.EXPERT,))
    e = _expert(call, "李专家", tree["soc_a"], user=user)
    app = _app(call, tree["soc_a"])
    conflicts.declare(actor=user, expert=e, application=app, reason="本人参与了该项目的前期工作")
    conflicts.lift(actor=staff, expert=e, application=app, reason="单位已变更")
    assert _codes(conflict_causes(app, e)) == [conflicts.DECLARED]


def test_staff_of_another_funder_cannot_pin(call, tree, make_user, load_call):
    hunan = load_call("hunan2024")
    outsider = make_user("hn_staff", org=hunan.issuer, roles=(Role.FUNDER_STAFF,))
    e = _expert(call, "韩七", tree["soc_b"])
    with pytest.raises(NotAllowed):
        conflicts.pin(actor=outsider, expert=e, application=_app(call, tree["soc_a"]), reason="x")


def test_many_pairs_in_a_fixed_number_of_queries(call, tree, college, make_org):
    """Thousands × hundreds: the queries do not grow with the number of applications or experts, and the bulk
    answer is the pair-by-pair answer."""
    units = [tree["soc_a"], tree["soc_b"], tree["soc_c"], tree["uni"], college, tree["firm"]]
    units += [make_org(f"柳州市生成学会{i:02d}", "city_society", parent=tree["issuer"]) for i in range(20)]
    apps = [_app(call, units[i % len(units)], f"项目{i}") for i in range(120)]
    for i, a in enumerate(apps[::7]):
        ApplicationParticipant.objects.create(application=a, organisation=units[(i + 3) % len(units)])
    experts = [_expert(call, f"专家{i}", units[i % len(units)] if i % 3 else None, org_name=f"院{i}",
                       email=f"e{i}@{'gxust.edu.cn' if i % 5 == 0 else 'qq.com'}") for i in range(40)]

    with CaptureQueriesContext(connection) as small:
        conflicts_between(apps[:5], experts[:3])
    with CaptureQueriesContext(connection) as large:
        found = conflicts_between(apps, experts)
    assert len(large.captured_queries) == len(small.captured_queries) <= 10, [q["sql"] for q in large.captured_queries]
    assert found  # the generated data has conflicts
    for a in apps[:30]:
        for e in experts:
            assert found.get((a.pk, e.pk), []) == conflict_causes(a, e)
