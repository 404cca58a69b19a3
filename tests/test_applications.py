"""Applications: drafts, saves with a version check, submission into an immutable snapshot, withdrawal,
return for revision, own approval (R-E8), joint applications (R-E4) and the endorsement route (R-E9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from shenbao.applications import permissions, selectors, services
from shenbao.applications.models import Application, Endorsement, Snapshot
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role
from tests.journey_support import approve_own, filled_draft, reopen, set_deadline, unit, values_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def liuzhou(load_call):
    return reopen(load_call("liuzhou2026"))


@pytest.fixture
def lz_unit(liuzhou, make_org, make_user):
    return unit(make_org, make_user, name="柳州市测试学会", category="city_society", parent=liuzhou.issuer,
                prefix="lz")


def test_draft_save_and_submit_freezes_a_snapshot(liuzhou, lz_unit):
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    assert app.status == "draft" and app.version == 2
    result = services.submit(user=clerk, application=app, expected_version=app.version)
    assert result.created
    snap = result.snapshot
    app.refresh_from_db()
    assert app.status == "submitted" and app.current_snapshot == snap and snap.number == 1
    assert snap.values["values"]["project_name"] == app.data["project_name"]
    # the fingerprint is the sha256 of the canonical JSON of what is stored
    import hashlib
    import json

    canonical = json.dumps(snap.values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert snap.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_snapshot_is_never_changed(liuzhou, lz_unit):
    from django.db import DatabaseError
    from django.db.models import ProtectedError

    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    snap = services.submit(user=clerk, application=app).snapshot
    with pytest.raises(DatabaseError), transaction.atomic():
        Snapshot.objects.filter(pk=snap.pk).update(values={"forged": True})
    with pytest.raises((DatabaseError, ProtectedError)), transaction.atomic():
        Snapshot.objects.filter(pk=snap.pk).delete()
    snap.refresh_from_db()
    assert snap.values["values"]["project_name"] == app.data["project_name"]


def test_two_conflicting_saves_give_one_conflict_and_lose_no_text(liuzhou, lz_unit, make_user):
    org, clerk, _head = lz_unit
    other = make_user("lz_clerk2", org=org, roles=(Role.APPLICANT_CLERK,))
    app = filled_draft(clerk, liuzhou, "2026-2")
    loaded = app.version  # both clerks opened the page at this version
    mine = {**app.data, "goals": "甲经办人写的目标"}
    theirs = {**app.data, "goals": "乙经办人写的目标"}
    services.save_draft(user=clerk, application=Application.objects.get(pk=app.pk), values=mine,
                        expected_version=loaded)
    conflicts = []
    try:
        services.save_draft(user=other, application=Application.objects.get(pk=app.pk), values=theirs,
                            expected_version=loaded)
    except services.Conflict as exc:
        conflicts.append(exc)
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.theirs["goals"] == "甲经办人写的目标"  # the later saver is shown what the other saved
    assert conflict.version == loaded + 1 and "lz_clerk" in conflict.message
    app.refresh_from_db()
    assert app.data["goals"] == "甲经办人写的目标"  # nothing overwritten silently
    # the later clerk, told, saves again from the new version: their text is kept, nothing was lost
    services.save_draft(user=other, application=app, values=theirs, expected_version=conflict.version)
    app.refresh_from_db()
    assert app.data["goals"] == "乙经办人写的目标" and app.version == loaded + 2
    saves = AuditEvent.objects.filter(object_id=str(app.pk), action="application.save")
    assert [e.after["data"]["goals"] for e in saves.order_by("id")][-2:] == ["甲经办人写的目标", "乙经办人写的目标"]


def test_saving_what_is_stored_changes_nothing(liuzhou, lz_unit):
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    result = services.autosave(user=clerk, application=app, values=dict(app.data), expected_version=app.version - 1)
    assert not result.changed
    app.refresh_from_db()
    assert app.version == 2


def test_typed_values_are_kept_with_their_errors(liuzhou, lz_unit):
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    typed = {**app.data, "project_lead": {**app.data["project_lead"], "phone": "12345"}, "completion": "2026-13-45"}
    result = services.save_draft(user=clerk, application=app, values=typed, expected_version=app.version)
    assert set(result.errors) >= {"project_lead.phone", "completion"}
    app.refresh_from_db()
    assert app.data["project_lead"]["phone"] == "12345" and app.data["completion"] == "2026-13-45"
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=app)
    assert {"project_lead.phone", "completion"} <= set(exc.value.errors)
    assert not Snapshot.objects.filter(application=app).exists()


def test_only_the_units_clerk_edits(liuzhou, lz_unit, make_org, make_user):
    _org, clerk, head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    _stranger_org, stranger, _ = unit(make_org, make_user, name="柳州市别的学会", category="city_society",
                                     parent=liuzhou.issuer, prefix="other", head=False)
    for user in (stranger, head):
        with pytest.raises(NotAllowed):
            services.save_draft(user=user, application=app, values=app.data, expected_version=app.version + 5)
        with pytest.raises(NotAllowed):
            services.submit(user=user, application=app)


def test_withdraw_before_the_deadline_keeps_history(liuzhou, lz_unit):
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    first = services.submit(user=clerk, application=app).snapshot
    services.withdraw(user=clerk, application=app, reason="补充实施方案")
    app.refresh_from_db()
    assert app.status == "draft" and app.current_snapshot == first
    services.save_draft(user=clerk, application=app, values={**app.data, "plan": "补充后的实施方案"},
                        expected_version=app.version)
    second = services.submit(user=clerk, application=app).snapshot
    assert second.number == 2 and second.fingerprint != first.fingerprint
    assert Snapshot.objects.filter(application=app).count() == 2  # the withdrawn version is kept
    labels = [h.label for h in selectors.history(app)]
    assert labels.count("提交") == 2 and "撤回" in labels


def test_no_withdrawal_after_the_deadline(liuzhou, lz_unit):
    # R-E7
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    services.submit(user=clerk, application=app)
    set_deadline(liuzhou, timezone.now() - dt.timedelta(seconds=1))
    app = Application.objects.get(pk=app.pk)
    with pytest.raises(NotAllowed, match="已过截止时间"):
        services.withdraw(user=clerk, application=app)
    app.refresh_from_db()
    assert app.status == "submitted"


def test_return_for_revision_with_reason_and_new_deadline(liuzhou, lz_unit, make_user):
    _org, clerk, _head = lz_unit
    staff = make_user("lz_funder", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))
    app = filled_draft(clerk, liuzhou, "2026-2")
    services.submit(user=clerk, application=app)
    with pytest.raises(NotAllowed):  # the applicant cannot return its own application
        services.return_for_revision(user=clerk, application=app, reason="x", new_deadline=timezone.now()
                                     + dt.timedelta(days=3))
    new_deadline = timezone.now() + dt.timedelta(days=5)
    services.return_for_revision(user=staff, application=app, reason="经费预算未列明配套经费来源",
                                 new_deadline=new_deadline)
    app.refresh_from_db()
    assert app.status == "returned" and app.return_reason == "经费预算未列明配套经费来源"
    assert app.revision_deadline == new_deadline
    # the call's own deadline has passed meanwhile: the new deadline applies to the resubmission
    set_deadline(liuzhou, timezone.now() - dt.timedelta(hours=1))
    app = Application.objects.get(pk=app.pk)
    services.save_draft(user=clerk, application=app, values={**app.data, "budget": "申请资助2万元，自筹1万元"},
                        expected_version=app.version)
    snap = services.submit(user=clerk, application=app).snapshot
    app.refresh_from_db()
    assert app.status == "submitted" and snap.number == 2
    event = AuditEvent.objects.get(object_id=str(app.pk), action="application.return_for_revision")
    assert event.note == "经费预算未列明配套经费来源" and event.actor == staff


def test_resubmission_after_the_new_deadline_is_refused(liuzhou, lz_unit, make_user):
    _org, clerk, _head = lz_unit
    staff = make_user("lz_funder", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))
    app = filled_draft(clerk, liuzhou, "2026-2")
    services.submit(user=clerk, application=app)
    services.return_for_revision(user=staff, application=app, reason="请补充", new_deadline=timezone.now()
                                 + dt.timedelta(days=2))
    Application.objects.filter(pk=app.pk).update(revision_deadline=timezone.now() - dt.timedelta(seconds=1))
    set_deadline(liuzhou, timezone.now() - dt.timedelta(days=1))
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=Application.objects.get(pk=app.pk))
    assert [r.code for r in exc.value.reasons] == ["deadline"]


def test_third_application_refused_at_start_under_a_hard_limit(liuzhou, lz_unit):
    # R-E3 “最多不超过2个” (a hard limit): once two are sent on, a third draft could never be submitted, so
    # it is refused at the start, with the reason; a draft started before is refused at submission
    from tests.test_portal import variant

    hard = reopen(variant(liuzhou, code="lz-hard", mutate=lambda d: d.update(per_unit_limit="hard")))
    _org, clerk, _head = lz_unit
    early = filled_draft(clerk, hard, "2026-3")
    for code in ("2026-1", "2026-2"):
        services.submit(user=clerk, application=filled_draft(clerk, hard, code))
    with pytest.raises(NotAllowed, match="贵单位本通知已提交2项申报，每个单位最多2项"):
        services.create_draft(user=clerk, project_type=hard.types.get(code="2026-4"))
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=early)
    assert "quota_per_unit" in [r.code for r in exc.value.reasons]
    early.refresh_from_db()
    assert early.status == "draft" and early.current_snapshot is None


def test_third_application_warned_under_a_soft_limit(liuzhou, lz_unit):
    # R-E3 柳州: “同一单位申报项目原则上不超过2个” (a soft limit): the third may be started and submitted
    _org, clerk, _head = lz_unit
    for code in ("2026-1", "2026-2"):
        services.submit(user=clerk, application=filled_draft(clerk, liuzhou, code))
    third = filled_draft(clerk, liuzhou, "2026-3")
    assert services.submit(user=clerk, application=third).created
    third.refresh_from_db()
    assert third.status == "submitted"
    assert selectors.limit_state(third).over and not selectors.limit_state(third).accepted


def test_discarding_a_draft_keeps_it(liuzhou, lz_unit):
    _org, clerk, _head = lz_unit
    app = filled_draft(clerk, liuzhou, "2026-2")
    services.discard(user=clerk, application=app)
    app.refresh_from_db()
    assert app.status == "discarded"
    submitted = filled_draft(clerk, liuzhou, "2026-3")
    services.submit(user=clerk, application=submitted)
    services.withdraw(user=clerk, application=submitted)
    with pytest.raises(NotAllowed, match="已经提交过"):
        services.discard(user=clerk, application=Application.objects.get(pk=submitted.pk))


# --- R-E8: own approval --------------------------------------------------------------------------------


@pytest.fixture
def changde(load_call):
    return reopen(load_call("changde2022"))


@pytest.fixture
def cd_unit(changde, make_org, make_user):
    return unit(make_org, make_user, name="常德市测试学会", category="city_society", parent=changde.issuer, prefix="cd",
                attrs=[{"key": "has_party_branch", "value": True}, {"key": "has_activity_venue", "value": True}])


def _changde_values(app):
    return values_for(app, overrides={"budget_total": 15000, "own_funds": 10000, "city_funds": 5000})


def test_own_approval_precedes_submission(changde, cd_unit):
    # R-E8: 常德 2022: “经____会议研究审议，负责人签名确认后提出申报”
    _org, clerk, head = cd_unit
    app = services.create_draft(user=clerk, project_type=changde.types.get(code="1"))
    services.save_draft(user=clerk, application=app, values=_changde_values(app), expected_version=app.version)
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=app)
    assert [r.code for r in exc.value.reasons] == ["own_approval"]
    with pytest.raises(NotAllowed, match="会议类型"):
        services.record_own_approval(user=clerk, application=app, meeting_kind="茶话会", meeting_name="x",
                                     meeting_date=timezone.localdate())
    services.record_own_approval(user=clerk, application=app, meeting_kind="单位会议",
                                 meeting_name="第三届理事会第五次", meeting_date=timezone.localdate())
    with pytest.raises(services.Refused, match="单位负责人尚未确认承诺"):
        services.submit(user=clerk, application=app)
    with pytest.raises(NotAllowed, match="单位负责人"):
        services.accept_commitment(user=clerk, application=app)  # the clerk is not the head
    services.accept_commitment(user=head, application=app)
    snap = services.submit(user=clerk, application=app).snapshot
    approval = snap.values["own_approval"]
    assert approval["meeting_kind"] == "单位会议" and approval["accepted_by"] == "cd_head"
    assert "经第三届理事会第五次会议研究审议" in approval["commitment"]
    assert snap.values["values"]["_meeting"] == "第三届理事会第五次"


def test_changing_the_meeting_asks_the_head_again(changde, cd_unit):
    # R-E8
    _org, clerk, head = cd_unit
    app = services.create_draft(user=clerk, project_type=changde.types.get(code="1"))
    approve_own(app, clerk, head, name="第一次会议")
    services.record_own_approval(user=clerk, application=app, meeting_kind="单位会议", meeting_name="第二次会议",
                                 meeting_date=timezone.localdate())
    assert services.own_approval_problems(app)[0].message == "单位负责人尚未确认承诺"


def test_meeting_kinds_follow_the_applicant_category(load_call, make_org, make_user):
    # R-E8: 湖南 2024: 理事会/常务理事会 for societies, 常委会议 for university associations
    hunan = reopen(load_call("hunan2024"))
    _soc, soc_clerk, _ = unit(make_org, make_user, name="湖南省测试学会", category="province_society",
                             parent=hunan.issuer, prefix="hn")
    _uni, uni_clerk, _ = unit(make_org, make_user, name="湖南测试大学科协", category="university_association",
                             parent=hunan.issuer, prefix="hu")
    a = services.create_draft(user=soc_clerk, project_type=hunan.types.get(code="1-1"))
    b = services.create_draft(user=uni_clerk, project_type=hunan.types.get(code="1-1"))
    assert services.meeting_rule(a).kinds == ["理事会", "常务理事会"]
    assert services.meeting_rule(b).kinds == ["常委会议"]
    with pytest.raises(NotAllowed):
        services.record_own_approval(user=uni_clerk, application=b, meeting_kind="理事会", meeting_date=timezone.localdate())


# --- R-E4: joint applications ----------------------------------------------------------------------------


def test_participants_confirm_from_their_own_accounts(liuzhou, lz_unit, make_org, make_user):
    # R-E4 (柳州: 联合申报单位数量不超过2个; a unit outside the listed categories may join)
    _org, clerk, _head = lz_unit
    partner, partner_clerk, _ = unit(make_org, make_user, name="柳州某机械有限公司", category="enterprise",
                                     parent=liuzhou.issuer, prefix="lzp", head=False)
    third, _third_clerk, _ = unit(make_org, make_user, name="柳州另一有限公司", category="enterprise",
                                  parent=liuzhou.issuer, prefix="lzq", head=False)
    app = filled_draft(clerk, liuzhou, "2026-2")
    row = services.add_participant(user=clerk, application=app, organisation=partner)
    with pytest.raises(NotAllowed, match="不超过2个"):
        services.add_participant(user=clerk, application=app, organisation=third)
    with pytest.raises(services.Refused, match="尚未确认"):
        services.submit(user=clerk, application=app)
    with pytest.raises(NotAllowed):
        services.confirm_participation(user=clerk, participant=row)  # the lead cannot confirm for it
    services.confirm_participation(user=partner_clerk, participant=row)
    snap = services.submit(user=clerk, application=app).snapshot
    assert [p["name"] for p in snap.values["participants"]] == ["柳州某机械有限公司"]
    printed = selectors.print_values(snap)
    assert printed["applicant_unit"] == "柳州市测试学会（牵头单位）；参与单位：柳州某机械有限公司"
    assert app in selectors.for_user(partner_clerk)  # the participant sees the application


# --- R-E9: the endorsement route ----------------------------------------------------------------------


@pytest.fixture
def guangxi(load_call):
    return reopen(load_call("guangxi2026"))


@pytest.fixture
def gx_route(guangxi, make_org, make_user):
    city = make_org("柳州市科学技术协会", "city_association", parent=guangxi.issuer, code=None)
    reviewer = make_user("lz_home", org=city, roles=(Role.HOME_REVIEWER,))
    staff = make_user("gx_staff", org=guangxi.issuer, roles=(Role.FUNDER_STAFF,))
    org, clerk, _head = unit(make_org, make_user, name="柳州某园区科协", category="enterprise_association",
                            parent=city, prefix="park")
    return city, reviewer, staff, org, clerk


def test_routed_application_goes_to_the_home_association_first(guangxi, gx_route):
    # R-E9: 广西 2026-4 “属地市科协或高校科协意见”
    city, reviewer, staff, _org, clerk = gx_route
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.status == "awaiting_endorsement" and app.endorser == city
    assert app not in selectors.received(staff)  # the funder does not see it yet
    assert not permissions.can_view(staff, app)
    assert app in selectors.endorsement_queue(reviewer)
    with pytest.raises(NotAllowed):
        services.endorse(user=staff, application=app, opinion="同意")
    services.endorse(user=reviewer, application=app, opinion="情况属实，同意推荐。")
    app.refresh_from_db()
    assert app.status == "submitted" and app in selectors.received(staff)
    endorsement = Endorsement.objects.get(application=app)
    assert endorsement.opinion == "情况属实，同意推荐。" and endorsement.organisation == city
    assert endorsement.snapshot == app.current_snapshot
    assert permissions.can_view(staff, app)
    # the form the funder reads carries the opinion in its 属地市科协或高校科协意见 block
    shown = selectors.display_values(app.current_snapshot)
    assert shown["opinion_home"]["text"] == "情况属实，同意推荐。" and shown["opinion_home"]["signer"] == "lz_home"


def test_home_association_returns_with_a_reason(guangxi, gx_route):
    # R-E9
    _city, reviewer, _staff, _org, clerk = gx_route
    app = filled_draft(clerk, guangxi, "2026-4", "brand")
    services.submit(user=clerk, application=app)
    services.return_by_endorser(user=reviewer, application=app, reason="请补充园区企业名单")
    app.refresh_from_db()
    assert app.status == "returned" and app.return_reason == "请补充园区企业名单"
    services.save_draft(user=clerk, application=app, values={**app.data, "plan": "补充了园区企业名单"},
                        expected_version=app.version)
    services.submit(user=clerk, application=app)
    app.refresh_from_db()
    assert app.status == "awaiting_endorsement" and app.current_snapshot.number == 2


def test_routing_by_category_with_finance(load_call, make_org, make_user):
    # R-E9: 湖南 2024: 企业（园区）科协 go through their 市州科协 (with finance); 省级学会 apply directly
    hunan = reopen(load_call("hunan2024"))
    city = make_org("常德市科学技术协会", "city_association", parent=hunan.issuer, code=None)
    _ent, ent_clerk, ent_head = unit(make_org, make_user, name="常德某企业科协", category="enterprise_association",
                                    parent=city, prefix="hent")
    _soc, soc_clerk, soc_head = unit(make_org, make_user, name="湖南省测试学会", category="province_society",
                                    parent=hunan.issuer, prefix="hsoc")
    routed = filled_draft(ent_clerk, hunan, "1-1", "high_end_event")
    direct = filled_draft(soc_clerk, hunan, "1-1", "high_end_event")
    approve_own(routed, ent_clerk, ent_head, kind="企业管理层会议")
    approve_own(direct, soc_clerk, soc_head, kind="理事会")
    services.submit(user=ent_clerk, application=routed)
    services.submit(user=soc_clerk, application=direct)
    routed.refresh_from_db()
    direct.refresh_from_db()
    assert routed.status == "awaiting_endorsement" and routed.endorser == city
    assert "会同财政部门" in routed.routing_label
    assert direct.status == "submitted" and direct.endorser is None
    # the city association endorses only having summarised jointly with the finance department
    reviewer = make_user("cd_home", org=city, roles=(Role.HOME_REVIEWER,))
    with pytest.raises(NotAllowed, match="会同财政部门汇总"):
        services.endorse(user=reviewer, application=routed, opinion="同意推荐")
    routed.refresh_from_db()
    assert routed.status == "awaiting_endorsement"
    row = services.endorse(user=reviewer, application=routed, opinion="同意推荐", with_finance=True)
    routed.refresh_from_db()
    assert row.with_finance and routed.status == "submitted"
