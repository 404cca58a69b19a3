"""Ranking, selection under quota and money, staff adjustments and confirmation (issue 8 items 6, 7, 10):
the aggregate and z-scores against hand-computed examples, the CP-SAT proposal against a brute-force optimum
(hypothesis), every quota kind, caps, tiers from facts (R-C5), pools, ties at the cut-off, refusals of
amounts and moves that break the rules, quotas as plans (R-V2), and the funder's and finance's
confirmation by different people (R-V1)."""

from __future__ import annotations

import io
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from shenbao.applications.models import Application, Snapshot
from shenbao.calls import schema
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent, Job
from shenbao.orgs.models import Category, Organisation, Role
from shenbao.review import ranking, selection, selectors
from shenbao.review.models import Assignment, Decision, Expert, ScoreSheet
from tests.conftest import credit_code

_seq = itertools.count(1)


# --- pure functions: aggregate, z-scores, quota bounds ------------------------------------------------------


def test_mean_and_trimmed_mean_by_hand():
    assert ranking.aggregate([80, 90, 70]) == Decimal("80.000")
    # trimmed: the highest (100) and the lowest (60) dropped → (80 + 85) / 2
    assert ranking.aggregate([60, 80, 85, 100], "trimmed_mean") == Decimal("82.500")
    assert ranking.aggregate([60, 80, 85, 100], "mean") == Decimal("81.250")
    # fewer than 3 sheets: nothing is dropped
    assert ranking.aggregate([70, 91], "trimmed_mean") == Decimal("80.500")
    assert ranking.aggregate([88], "trimmed_mean") == Decimal("88.000")
    assert ranking.aggregate([], "mean") is None
    # 3 sheets: only the middle one stays
    assert ranking.aggregate([Decimal("70.5"), 99, 60], "trimmed_mean") == Decimal("70.500")


def test_zscores_per_expert_and_mapped_back_by_hand():
    sheets = [("a1", "A", 70), ("a2", "A", 80), ("a3", "A", 90), ("b1", "B", 50), ("b2", "B", 50)]
    z = ranking.zscores(sheets)
    # expert A: mean 80, population s.d. √(200/3) = 8.16497 → z = ∓1.22474, 0
    assert z["a1"] == pytest.approx(-1.224745, abs=1e-6)
    assert z["a2"] == pytest.approx(0.0)
    assert z["a3"] == pytest.approx(1.224745, abs=1e-6)
    # expert B gave the same score twice: s.d. 0 → z 0
    assert z["b1"] == z["b2"] == 0.0
    # mapped back with the mean 68 and the population s.d. 16 of all five sheets
    back = ranking.normalised_totals(sheets)
    assert float(back["a3"]) == pytest.approx(68 + 16 * 1.224745, abs=1e-4)
    assert float(back["a1"]) == pytest.approx(68 - 16 * 1.224745, abs=1e-4)
    assert back["a2"] == back["b1"] == Decimal("68.0")


def test_competition_ranks_share_equal_scores():
    assert ranking.competition_ranks([Decimal(90), Decimal(80), Decimal(80), Decimal(70)]) == [1, 2, 2, 4]


def _quota(**kw) -> schema.Quota:
    return schema.Quota(**kw)


def test_count_bounds_of_every_quota_kind():
    assert selection.count_bounds(_quota(kind="exactly", n=2)) == (2, 2)
    assert selection.count_bounds(_quota(kind="at_most", n=20)) == (0, 20)
    assert selection.count_bounds(_quota(kind="range", min=8, max=10)) == (8, 10)
    assert selection.count_bounds(_quota(kind="unstated")) == (0, None)
    assert selection.count_bounds(None) == (0, None)
    # about: ±20% of n (at least 1) unless the quota says
    assert selection.count_bounds(_quota(kind="about", n=10)) == (8, 12)
    assert selection.count_bounds(_quota(kind="about", n=2)) == (1, 3)
    assert selection.count_bounds(_quota(kind="about", n=10, tolerance=3)) == (7, 13)
    assert selection.count_bounds(_quota(kind="about", n=10, max=10)) == (8, 10)
    # 广西 2026-3 “约5个”, the overview table says ≤5: the note caps the upper side
    assert selection.count_bounds(_quota(kind="about", n=5, note="概览表立项数量≤5")) == (4, 5)
    with pytest.raises(ValueError):
        _quota(kind="exactly", n=2, tolerance=1)


def test_award_rules_of_each_funding_kind():
    F = schema.Funding
    fixed = selection.award_rule(F(kind="fixed", amount=20000), 50000)
    assert (fixed.lo, fixed.hi, fixed.check(20000), bool(fixed.check(15000))) == (20000, 20000, None, True)
    rng = selection.award_rule(F(kind="range", min=10000, max=20000), 15000)
    assert (rng.lo, rng.hi) == (10000, 15000) and rng.check(20000) is None and rng.check(20001)
    assert selection.award_rule(F(kind="range", min=10000, max=20000), 5000).hi == 10000
    cap = selection.award_rule(F(kind="cap", max=40000), 45000)
    assert (cap.lo, cap.hi) == (40000, 40000) and cap.check(1000) is None and cap.check(40001)
    pool = selection.award_rule(F(kind="pool", total=300000), None)
    assert pool.hi is None and pool.check(299999) is None
    # 可单独或叠加申报 (广西 2023-5): the tracks' amounts add up
    both = selection.combined_rule([fixed, selection.award_rule(F(kind="fixed", amount=10000), None)])
    assert both.exact == 30000 and both.check(30000) is None and both.check(20000)


# --- the optimiser against a brute force -----------------------------------------------------------------


def _quota_strategy():
    return st.one_of(
        st.builds(lambda n: _quota(kind="exactly", n=n), st.integers(0, 4)),
        st.builds(lambda n: _quota(kind="at_most", n=n), st.integers(0, 4)),
        st.builds(lambda n, t: _quota(kind="about", n=n, tolerance=t), st.integers(1, 4), st.none() | st.integers(0, 2)),
        st.builds(lambda a, b: _quota(kind="range", min=min(a, b), max=max(a, b)), st.integers(0, 4), st.integers(0, 4)),
        st.just(_quota(kind="unstated")),
    )


@st.composite
def instances(draw):
    groups = []
    for key in ("type", "track:a", "track:b"):
        lo, hi = selection.count_bounds(draw(_quota_strategy()))
        pool = draw(st.none() | st.integers(0, 120))
        groups.append(selection.Group(key, key, lo, hi, pool))
    n = draw(st.integers(0, 7))
    items = []
    for i in range(n):
        lo = draw(st.integers(1, 40))
        hi = lo + draw(st.sampled_from([0, 0, 5, 20]))
        track = draw(st.sampled_from([(), ("track:a",), ("track:b",)]))
        items.append(selection.Item(i, draw(st.integers(0, 100_000)), lo, hi, ("type", *track), i))
    return items, groups


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_selection_is_optimal_and_respects_quota_and_money(instance):
    items, groups = instance
    sol = selection.solve(items, groups)
    assert sol.optimal
    # the same least shortfall and the same greatest total score as every subset tried
    assert (sol.shortfall, sol.score) == selection.brute_force(items, groups)
    assert sol.score == sum(it.score for it in items if it.key in sol.selected)
    by_key = {it.key: it for it in items}
    for k in sol.selected:  # each award within its rule
        assert by_key[k].lo <= sol.amounts[k] <= by_key[k].hi
    for g in groups:
        chosen = [k for k in sol.selected if g.key in by_key[k].groups]
        if g.count_hi is not None:
            assert len(chosen) <= g.count_hi
        if g.pool is not None:
            assert sum(sol.amounts[k] for k in chosen) <= g.pool


def test_amounts_are_cut_toward_the_minimum_only_as_the_pool_needs():
    items = [selection.Item(i, 100 - i, 10, 20, ("type",), i) for i in range(3)]
    sol = selection.solve(items, [selection.Group("type", "t", 0, 3, 50)])
    assert sol.selected == {0, 1, 2} and sum(sol.amounts.values()) == 50


# --- data: calls, applications, experts and sheets --------------------------------------------------------


def _unit(call, name: str | None = None) -> Organisation:
    return Organisation.objects.create(name=name or f"参评学会{next(_seq):04d}", category=Category.objects.get(code="city_society"),
                                       parent=call.issuer, credit_code=credit_code(), status="active")


def _app(call, type_code: str, *, track: str | None = None, values: dict | None = None, asked: int | None = None,
         unit: Organisation | None = None) -> Application:
    ptype = call.types.get(code=type_code)
    tr = ptype.tracks.get(code=track) if track else None
    unit = unit or _unit(call)
    i = next(_seq)
    vals = dict(values or {})
    if track:
        vals.setdefault("track", track)
    vals.setdefault("project_contact", {"name": "王五", "phone": "13877201234"})
    now = timezone.now()
    app = Application.objects.create(call=call, project_type=ptype, track=tr, applicant=unit, title=f"参评项目{i}",
                                     status="submitted", number=f"T-{i:05d}", amount_asked=asked, submitted_at=now)
    snap = Snapshot.objects.create(application=app, number=1, draft_version=1,
                                   values={"title": app.title, "values": vals}, fingerprint=f"{i:064x}",
                                   submitted_at=now)
    Application.objects.filter(pk=app.pk).update(current_snapshot=snap)
    app.current_snapshot = snap
    return app


def _expert(call, name: str | None = None) -> Expert:
    return Expert.objects.create(funder=call.issuer, name=name or f"专家{next(_seq)}", organisation_name="广西大学")


def _score(app, totals, experts=None) -> None:
    """Submitted sheets of live assignments with these totals (made directly: the scoring pages are the
    scoring helper's)."""
    experts = experts or [_expert(app.call) for _ in totals]
    for expert, total in zip(experts, totals, strict=True):
        a = Assignment.objects.create(application=app, expert=expert)
        ScoreSheet.objects.create(assignment=a, values={"overall": total}, total=Decimal(str(total)),
                                  state=ScoreSheet.State.SUBMITTED, submitted_at=timezone.now())


def _decision(app) -> Decision:
    return Decision.objects.get(application=app)


def _set_review(call, **review):
    """The call's review block changed in place (the typed document is cached by content hash)."""
    from shenbao.calls.models import Call

    spec = dict(call.spec)
    spec["review"] = {**spec.get("review", {}), **review}
    Call.objects.filter(pk=call.pk).update(spec=spec, content_hash=f"test-{next(_seq)}")
    return Call.objects.get(pk=call.pk)


@pytest.fixture
def liuzhou(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def staff(liuzhou, make_user):
    return make_user("sel_staff", org=liuzhou.issuer, roles=(Role.FUNDER_STAFF,))


# --- ranking from sheets ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ranking_uses_live_submitted_sheets_and_shows_incomplete_ones(liuzhou):
    a, b, c = (_app(liuzhou, "2026-1", asked=20000) for _ in range(3))
    _score(a, [80, 90, 70])
    _score(b, [60, 100, 95])
    _score(c, [99, 98])                       # two of three: incomplete
    draft = Assignment.objects.create(application=c, expert=_expert(liuzhou))
    ScoreSheet.objects.create(assignment=draft, total=Decimal(100), state=ScoreSheet.State.DRAFT)
    gone = Assignment.objects.create(application=a, expert=_expert(liuzhou), removed_at=timezone.now())
    ScoreSheet.objects.create(assignment=gone, total=Decimal(0), state=ScoreSheet.State.SUBMITTED)
    rows = ranking.rank(liuzhou)["2026-1"]
    by = {r.application.pk: r for r in rows}
    assert by[a.pk].score == Decimal("80.000") and by[b.pk].score == Decimal("85.000")
    assert [r.application.pk for r in rows] == [b.pk, a.pk, c.pk] and by[b.pk].rank == 1 and by[a.pk].rank == 2
    assert not by[c.pk].complete and by[c.pk].rank is None and by[c.pk].sheets == 2
    assert "评分不足（已提交2份，需3份）" == by[c.pk].status_text
    # trimmed mean from the call's data
    call = _set_review(liuzhou, aggregate="trimmed_mean")
    by = {r.application.pk: r for r in ranking.rank(call)["2026-1"]}
    assert by[a.pk].score == Decimal("80.000") and by[b.pk].score == Decimal("95.000")


@pytest.mark.django_db
def test_normalised_ranking_maps_each_experts_z_scores_back(liuzhou):
    call = _set_review(liuzhou, normalise=True, experts_per_application=1)
    hard, soft = _expert(call, "严格专家"), _expert(call, "宽松专家")
    a1, a2, a3 = (_app(call, "2026-1", asked=20000) for _ in range(3))
    _score(a1, [70], [hard])
    _score(a2, [80], [hard])
    _score(a3, [90], [hard])
    b1, b2 = (_app(call, "2026-2", asked=20000) for _ in range(2))
    _score(b1, [50], [soft])
    _score(b2, [50], [soft])
    ranks = ranking.rank(call)
    score = {r.application.pk: r.score for rows in ranks.values() for r in rows}
    # hand-computed above: mean 68, s.d. 16 of the five sheets; the strict expert's z = -1.2247, 0, 1.2247
    assert score[a3.pk] == Decimal("87.596") and score[a1.pk] == Decimal("48.404")
    assert score[a2.pk] == score[b1.pk] == score[b2.pk] == Decimal("68.000")


# --- the proposal on the real calls -------------------------------------------------------------------------


@pytest.mark.django_db
def test_proposal_explains_each_and_shows_ties_at_the_cut_off(liuzhou, staff):
    """柳州 2026-1: exactly 2, 1–2万 each. Scores 90, 80, 80, 70 and one unscored: the two 80s tie at the cut."""
    apps = [_app(liuzhou, "2026-1", asked=a) for a in (20000, 15000, 20000, 20000, 20000)]
    for app, s in zip(apps, (90, 80, 80, 70), strict=False):
        _score(app, [s, s, s])
    result = selection.propose(user=staff, call=liuzhou, project_type=liuzhou.types.get(code="2026-1"))
    assert result.selected == 2 and result.shortfall == 0 and result.optimal and result.incomplete == 1
    d = [_decision(a) for a in apps]
    assert d[0].state == "proposed" and d[0].rank == 1 and d[0].amount == 20000
    assert "得分90.000，第1名，名额内" in d[0].explanation
    tied = [x for x in d[1:3]]
    assert sorted(x.state for x in tied) == ["not_selected", "proposed"] and all(x.tie for x in tied)
    assert all(x.rank == 2 for x in tied)
    out = next(x for x in tied if x.state == "not_selected")
    assert "并列" in out.explanation and "名额已满" in out.explanation
    assert set(result.ties) == {tied[0].application_id, tied[1].application_id}
    assert d[3].state == "not_selected" and "低于入选的最低分80.000" in d[3].explanation and not d[3].tie
    assert d[4].state == "not_selected" and d[4].score is None and "评分未完成" in d[4].explanation
    # the ask of 15000 is kept within 1–2万; the selected amounts follow the asks
    assert all(x.amount in (15000, 20000) for x in d if x.state == "proposed")
    assert AuditEvent.objects.filter(action="review.selection.propose").count() == 1
    assert AuditEvent.objects.filter(action="review.decision.propose").count() == 5


@pytest.mark.django_db
def test_quotas_are_plans_short_of_applications_the_proposal_says_so(liuzhou, staff):  # R-V2
    """柳州 2026-1 plans exactly 2: with one scored application the proposal takes it, warns, and the result
    can still be confirmed (the final number comes after review)."""
    app = _app(liuzhou, "2026-1", asked=12000)
    _score(app, [75, 80, 85])
    result = selection.propose(user=staff, call=liuzhou, project_type=liuzhou.types.get(code="2026-1"))
    assert result.selected == 1 and result.shortfall == 1
    tv = selectors.selection_view(liuzhou, liuzhou.types.get(code="2026-1"))
    assert tv.problems == [] and any("计划立项2个，当前拟立项1个" in w for w in tv.warnings)
    selection.confirm(user=staff, call=liuzhou, party="funder")
    assert selectors.confirmation_missing(liuzhou) == []


@pytest.mark.django_db
def test_guangxi_about_quota_capped_by_its_note_and_the_pool(load_call, make_user):  # R-V2
    """广西 2026-3: “约5个”, the overview table ≤5, at most 4万 each, 20万 in all: of 7 scored applications
    asking 4万, five are proposed (the note's ≤5, and 5 × 4万 = 20万)."""
    call = load_call("guangxi2026")
    staff = make_user("gx_sel", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    apps = [_app(call, "2026-3", track="international", asked=40000) for _ in range(7)]
    for i, app in enumerate(apps):
        _score(app, [90 - i] * 3)
    r = selection.propose(user=staff, call=call, project_type=call.types.get(code="2026-3"))
    assert r.selected == 5
    chosen = Decision.objects.filter(application__in=apps, state="proposed")
    assert sum(d.amount for d in chosen) == 200000
    assert {d.application_id for d in chosen} == {a.pk for a in apps[:5]}


@pytest.mark.django_db
def test_guangxi_pool_and_track_caps_together(load_call, make_user):  # R-V2
    """广西 2026-1: ≤20 in all and 30万; 讲坛学术交流 ≤20 at most 1.5万 each, 服务与策划 ≤1 at most 4万.
    Twenty lectures asking 1.5万 and the best-scored service asking 4万: the pool cannot take all 21."""
    call = load_call("guangxi2026")
    staff = make_user("gx_pool", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    service = _app(call, "2026-1", track="service", asked=40000)
    _score(service, [99, 99, 99])
    lectures = [_app(call, "2026-1", track="lecture", asked=15000) for _ in range(20)]
    for i, app in enumerate(lectures):
        _score(app, [80 - i * 0.5] * 3)
    r = selection.propose(user=staff, call=call, project_type=call.types.get(code="2026-1"))
    chosen = list(Decision.objects.filter(application__project_type__code="2026-1", application__call=call,
                                          state="proposed"))
    assert len(chosen) == r.selected <= 20
    assert sum(d.amount for d in chosen) <= 300000
    assert all(d.amount <= (40000 if d.application_id == service.pk else 15000) for d in chosen)
    # by hand: the service (99) takes 4万, leaving room for 17 lectures (1,292 + 99 = 1,391); twenty lectures
    # make 1,505 for exactly 30万: the optimum leaves the best-scored application out, and says why
    lecture_scores = [80 - i * 0.5 for i in range(20)]
    assert 99 + sum(lecture_scores[:17]) == 1391 and sum(lecture_scores) == 1505
    assert r.total_score == Decimal(1505) and r.selected == 20
    out = _decision(service)
    assert out.state == "not_selected" and out.rank == 1
    assert "名额已满" in out.explanation and "资金池已用尽" in out.explanation and "剩余0元" in out.explanation


@pytest.mark.django_db
def test_tiers_from_the_applications_facts(load_call, make_user):  # R-C5
    """广西 2023-3 八桂科技讲坛学术交流活动: an academician reporting → 3万, a foreign scholar → 2万, otherwise
    1万, not cumulative. (The 2026 call has no tiers: its types give caps and pools.)"""
    call = load_call("guangxi2023")
    staff = make_user("gx23_sel", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    facts = [{"academician_speakers": 1}, {"foreign_countries": 2}, {"academician_speakers": 2, "foreign_countries": 3},
             {"academician_speakers": 0, "foreign_countries": 0}, {}]
    apps = [_app(call, "2023-3", track="forum_exchange", values=f, asked=30000) for f in facts]
    annual = _app(call, "2023-3", track="annual_exchange", values={"academician_speakers": 1}, asked=30000)
    for app in [*apps, annual]:
        _score(app, [85, 85, 85])
    r = selection.propose(user=staff, call=call, project_type=call.types.get(code="2023-3"))
    assert r.selected == 6 and r.shortfall == 24  # range 30–40 planned: six applications only (R-V2)
    amounts = [_decision(a).amount for a in apps]
    assert amounts == [30000, 20000, 30000, 10000, 10000]
    assert _decision(annual).amount == 30000
    assert "分档：有两院院士出席并做大会报告的" in _decision(apps[0]).explanation
    # staff may not give the academician's event the foreign-scholar amount
    with pytest.raises(NotAllowed, match="须为30,000元"):
        selection.set_amount(user=staff, decision=_decision(apps[0]), amount=20000)
    assert _decision(apps[0]).amount == 30000


# --- staff adjustments --------------------------------------------------------------------------------------


@pytest.fixture
def proposed(liuzhou, staff):
    apps = [_app(liuzhou, "2026-1", asked=20000) for _ in range(3)]
    for app, s in zip(apps, (90, 85, 70), strict=True):
        _score(app, [s] * 3)
    selection.propose(user=staff, call=liuzhou, project_type=liuzhou.types.get(code="2026-1"))
    return apps


@pytest.mark.django_db
def test_amounts_breaking_the_rules_are_refused_with_the_reason(proposed, staff):
    d = _decision(proposed[0])
    with pytest.raises(NotAllowed, match="不得超过20,000元"):
        selection.set_amount(user=staff, decision=d, amount=25000)
    with pytest.raises(NotAllowed, match="不得低于10,000元"):
        selection.set_amount(user=staff, decision=d, amount=5000)
    with pytest.raises(NotAllowed, match="整数"):
        selection.set_amount(user=staff, decision=d, amount="一万")
    with pytest.raises(NotAllowed, match="1元至100,000,000元"):
        selection.move(user=staff, decision=_decision(proposed[2]), selected=True, reason="x", amount=10**20)
    assert _decision(proposed[0]).amount == 20000  # nothing changed
    selection.set_amount(user=staff, decision=d, amount=16000, reason="按预算核减")
    assert _decision(proposed[0]).amount == 16000
    ev = AuditEvent.objects.filter(action="review.decision.amount").get()
    assert ev.after["amount"] == 16000 and ev.before["amount"] == 20000
    # an unscored or over-quota move in is refused: exactly 2 planned and 2 chosen
    third = _decision(proposed[2])
    with pytest.raises(NotAllowed, match="不能再增加"):
        selection.move(user=staff, decision=third, selected=True, reason="专家组建议")
    with pytest.raises(NotAllowed, match="理由"):
        selection.move(user=staff, decision=_decision(proposed[1]), selected=False, reason=" ")
    selection.move(user=staff, decision=_decision(proposed[1]), selected=False, reason="存在重复申报")
    selection.move(user=staff, decision=third, selected=True, reason="专家组建议", amount=12000)
    third.refresh_from_db()
    assert third.state == "proposed" and third.amount == 12000 and third.source == "staff"
    assert third.explanation == "人工调入：专家组建议"
    assert AuditEvent.objects.filter(action__in=["review.decision.move_in", "review.decision.move_out"]).count() == 2


@pytest.mark.django_db
def test_a_pool_is_never_exceeded_by_staff(load_call, make_user):
    call = load_call("guangxi2026")
    staff = make_user("gx_pool2", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    lectures = [_app(call, "2026-1", track="lecture", asked=15000) for _ in range(20)]
    for i, app in enumerate(lectures):
        _score(app, [90 - i] * 3)
    service = _app(call, "2026-1", track="service", asked=40000)
    _score(service, [10, 10, 10])
    selection.propose(user=staff, call=call, project_type=call.types.get(code="2026-1"))
    assert _decision(service).state == "not_selected"
    selection.move(user=staff, decision=_decision(lectures[-1]), selected=False, reason="放弃")
    with pytest.raises(NotAllowed, match="资金总额300,000元，调整后合计325,000元"):
        selection.move(user=staff, decision=_decision(service), selected=True, reason="确需支持")
    with pytest.raises(NotAllowed, match="不得超过40,000元"):
        selection.move(user=staff, decision=_decision(service), selected=True, reason="确需支持", amount=45000)
    selection.move(user=staff, decision=_decision(service), selected=True, reason="确需支持", amount=15000)
    assert _decision(service).state == "proposed"


# --- confirmation (R-V1) -------------------------------------------------------------------------------------


@pytest.fixture
def hunan(load_call, make_user, make_org):
    call = load_call("hunan2024")
    finance_dept = make_org("湖南省财政厅", "finance_department", code=None)
    return call, finance_dept


@pytest.mark.django_db
def test_hunan_finance_confirms_by_a_different_person(hunan, make_user, make_org):  # R-V1
    call, finance_dept = hunan
    staff = make_user("hn_sel_staff", org=call.issuer, roles=(Role.FUNDER_STAFF, Role.FINANCE))
    other_finance = make_user("hn_fin", org=finance_dept, roles=(Role.FINANCE,))
    stranger = make_user("other_fin", org=make_org("长沙市财政局", "finance_department", code=None), roles=(Role.FINANCE,))
    apps = [_app(call, "1-2", asked=200000) for _ in range(2)]
    for app in apps:
        _score(app, [88, 90, 92])
    assert selectors.confirmation_missing(call) == ["尚未生成立项建议名单", "主办方尚未确认评审结果", "财务部门尚未确认评审结果"]
    with pytest.raises(NotAllowed, match="尚未生成立项建议"):
        selection.confirm(user=staff, call=call, party="funder")
    selection.propose(user=staff, call=call, project_type=call.types.get(code="1-2"))
    selection.confirm(user=staff, call=call, party="funder", note="同意")
    assert selectors.confirmation_missing(call) == ["财务部门尚未确认评审结果"]
    # the same person may not confirm for finance too, although holding the role
    with pytest.raises(NotAllowed, match="不同人员"):
        selection.confirm(user=staff, call=call, party="finance")
    with pytest.raises(NotAllowed, match="财务部门人员"):  # finance of a unit the call does not name
        selection.confirm(user=stranger, call=call, party="finance")
    c = selection.confirm(user=other_finance, call=call, party="finance", note="资金已落实")
    assert c.by == other_finance and selectors.confirmation_missing(call) == []
    with pytest.raises(NotAllowed, match="无需重复确认"):
        selection.confirm(user=other_finance, call=call, party="finance")
    # confirmed: decisions are frozen until a confirmation is revoked (with a reason, audited)
    d = _decision(apps[0])
    with pytest.raises(NotAllowed, match="须先撤销确认"):
        selection.set_amount(user=staff, decision=d, amount=150000)
    with pytest.raises(NotAllowed, match="须先撤销确认"):
        selection.propose(user=staff, call=call, project_type=call.types.get(code="1-2"))
    with pytest.raises(NotAllowed, match="只有确认人本人或主办方领导"):
        selection.revoke_confirmation(user=staff, confirmation=c, reason="调整金额")
    with pytest.raises(NotAllowed, match="理由"):
        selection.revoke_confirmation(user=other_finance, confirmation=c, reason="")
    selection.revoke_confirmation(user=other_finance, confirmation=c, reason="金额需调整")
    assert "财务部门尚未确认评审结果" in selectors.confirmation_missing(call)
    selection.revoke_confirmation(user=staff, confirmation=call.confirmations.get(party="funder"), reason="金额需调整")
    selection.set_amount(user=staff, decision=d, amount=150000)
    assert _decision(apps[0]).amount == 150000
    assert AuditEvent.objects.filter(action="review.confirmation.confirm").count() == 2
    assert AuditEvent.objects.filter(action="review.confirmation.revoke").count() == 2


@pytest.mark.django_db
def test_liuzhou_needs_no_finance_confirmation(proposed, liuzhou, staff, make_user):  # R-V1
    fin = make_user("lz_fin", org=liuzhou.issuer, roles=(Role.FINANCE,))
    with pytest.raises(NotAllowed, match="无需财务部门确认"):
        selection.confirm(user=fin, call=liuzhou, party="finance")
    clerk = make_user("lz_clerk_sel", org=_unit(liuzhou), roles=(Role.APPLICANT_CLERK,))
    with pytest.raises(NotAllowed, match="主办方"):
        selection.confirm(user=clerk, call=liuzhou, party="funder")
    selection.confirm(user=staff, call=liuzhou, party="funder")
    assert selectors.confirmation_missing(liuzhou) == []


@pytest.mark.django_db
def test_confirmation_refused_while_decisions_break_the_rules(proposed, liuzhou, staff):
    Decision.objects.filter(application=proposed[0]).update(amount=30000)  # as if written outside the platform
    with pytest.raises(NotAllowed, match="不得超过20,000元"):
        selection.confirm(user=staff, call=liuzhou, party="funder")


# --- pages, export, API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_propose_move_and_confirm(client, liuzhou, staff, make_user, django_capture_on_commit_callbacks):
    apps = [_app(liuzhou, "2026-1", asked=20000) for _ in range(3)]
    for app, s in zip(apps, (90, 85, 85), strict=True):
        _score(app, [s] * 3)
    client.force_login(staff)
    r = client.get(reverse("review:selection_call", args=[liuzhou.code]))
    assert r.status_code == 200 and "主办方尚未确认评审结果" in r.content.decode()
    url = reverse("review:selection_type", args=[liuzhou.code, "2026-1"])
    with django_capture_on_commit_callbacks(execute=True):  # a background job (the immediate backend here)
        r = client.post(reverse("review:selection_propose", args=[liuzhou.code, "2026-1"]))
    job = Job.objects.get()
    assert r.url == job.get_absolute_url() and job.state == "done" and job.result_url == url
    assert job.message.startswith("拟立项2个，总分175") and "并列" in job.message and job.done == job.total == 3
    page = client.get(url).content.decode()
    assert "并列" in page and 'data-tie="1"' in page
    out = next(d for d in Decision.objects.filter(application__in=apps) if d.state == "not_selected")
    r = client.post(reverse("review:decision_move", args=[out.pk]), {"selected": "1", "reason": "专家组建议"}, follow=True)
    assert "不能再增加" in r.content.decode()
    r = client.post(reverse("review:decision_amount", args=[_decision(apps[0]).pk]), {"amount": "99999"}, follow=True)
    assert "不得超过20,000元" in r.content.decode() and _decision(apps[0]).amount == 20000
    r = client.post(reverse("review:selection_confirm", args=[liuzhou.code]), {"party": "funder"}, follow=True)
    assert "评审结果已确认" in r.content.decode()
    r = client.get(url)
    assert "须先撤销确认" in r.content.decode() and 'id="propose"' not in r.content.decode()
    clerk = make_user("sel_clerk", org=apps[0].applicant, roles=(Role.APPLICANT_CLERK,))
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert client.post(reverse("review:selection_propose", args=[liuzhou.code, "2026-1"])).status_code == 302
    assert AuditEvent.objects.filter(action="review.selection.propose").count() == 1


@pytest.mark.django_db
def test_xlsx_masks_phones_unless_the_role_needs_them(client, proposed, liuzhou, staff, make_user):
    leader = make_user("sel_leader", org=liuzhou.issuer, roles=(Role.FUNDER_LEADER,))
    url = reverse("review:selection_xlsx", args=[liuzhou.code, "2026-1"])

    def sheet(user):
        client.force_login(user)
        r = client.get(url)
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(r.content)).active
        return [[c.value for c in row] for row in ws.iter_rows(min_row=3)]

    rows = sheet(staff)
    assert len(rows) == 3 and rows[0][0] == 1 and rows[0][10] == "拟立项" and rows[0][11] == 20000
    assert rows[0][6] == "13877201234" and "名额内" in rows[0][13]
    masked = sheet(leader)
    assert masked[0][6] == "138****1234" and masked[0][11] == 20000


@pytest.mark.django_db
def test_api_selection_proposal_and_refusals(client, liuzhou, staff, make_user, django_capture_on_commit_callbacks):
    apps = [_app(liuzhou, "2026-1", asked=20000) for _ in range(3)]
    for app, s in zip(apps, (90, 85, 70), strict=True):
        _score(app, [s] * 3)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/v1/review/selection/{liuzhou.code}/types/2026-1/proposal")
    assert r.status_code == 202
    assert client.get(r.json()["url"]).json()["state"] == "done"
    body = client.get(f"/api/v1/review/selection/{liuzhou.code}").json()
    t = next(t for t in body["types"] if t["type_code"] == "2026-1")
    assert [row["state"] for row in t["rows"]] == ["proposed", "proposed", "not_selected"]
    did = t["rows"][0]["decision_id"]
    r = client.post(f"/api/v1/review/decisions/{did}/amount", {"amount": 30000}, content_type="application/json")
    assert r.status_code == 403 and "不得超过" in r.json()["detail"]
    r = client.post(f"/api/v1/review/selection/{liuzhou.code}/confirmations", {"party": "funder"},
                    content_type="application/json")
    assert r.status_code == 200 and body["missing"] == ["主办方尚未确认评审结果"]
    other = make_user("api_clerk", org=apps[0].applicant, roles=(Role.APPLICANT_CLERK,))
    client.force_login(other)
    assert client.get(f"/api/v1/review/selection/{liuzhou.code}").status_code == 403


@pytest.mark.django_db
def test_work_bench_links_selection_and_finance_sees_only_calls_to_confirm(client, hunan, liuzhou, make_user):
    call, finance_dept = hunan
    fin = make_user("hn_fin_bench", org=finance_dept, roles=(Role.FINANCE,))
    client.force_login(fin)
    assert reverse("review:selection") in client.get(reverse("orgs:home")).content.decode()
    page = client.get(reverse("review:selection")).content.decode()
    assert call.title in page and liuzhou.title not in page  # only the call that names 湖南省财政厅
    assert client.get(reverse("review:selection_call", args=[call.code])).status_code == 200
    assert client.get(reverse("review:selection_call", args=[liuzhou.code])).status_code == 403
    lz_fin = make_user("lz_fin_bench", org=liuzhou.issuer, roles=(Role.FINANCE,))
    client.force_login(lz_fin)
    assert "暂无需要您查看或确认的评审结果" in client.get(reverse("review:selection")).content.decode()


@pytest.mark.django_db
def test_openapi_lists_the_selection_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in ("/api/v1/review/selection/{code}", "/api/v1/review/selection/{code}/types/{type_code}/proposal",
              "/api/v1/review/decisions/{pk}/amount", "/api/v1/review/decisions/{pk}/move",
              "/api/v1/review/selection/{code}/confirmations", "/api/v1/review/confirmations/{pk}/revoke"):
        assert p in paths, p


@pytest.mark.django_db
def test_once_screening_began_only_accepted_applications_are_ranked(liuzhou):
    from shenbao.review.models import Screening

    a, b = (_app(liuzhou, "2026-1", asked=20000) for _ in range(2))
    _score(a, [80, 80, 80])
    _score(b, [90, 90, 90])
    assert {r.application.pk for r in ranking.rank(liuzhou)["2026-1"]} == {a.pk, b.pk}
    Screening.objects.create(application=a, state=Screening.State.ACCEPTED)
    Screening.objects.create(application=b, state=Screening.State.PENDING)
    assert [r.application.pk for r in ranking.rank(liuzhou)["2026-1"]] == [a.pk]
