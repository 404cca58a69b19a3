"""The exact expert assignment (review/assignment_solver.py) and the affinity (review/affinity.py), checked on
random small instances against independent references: a brute force over every assignment (tiny) and
OR-Tools CP-SAT (small), issue 8 item 4. Pure: no database."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shenbao.review.affinity import AppText, ExpertProfile, candidates, tokens
from shenbao.review.assignment_solver import Problem, solve


@st.composite
def instances(draw, max_apps=6, max_experts=6, regions=False):
    P = draw(st.integers(1, max_apps))
    R = draw(st.integers(1, max_experts))
    k = draw(st.integers(1, min(3, R)))
    max_load = draw(st.integers(1, P))
    min_load = draw(st.integers(0, min(2, max_load)))
    density = draw(st.floats(0.4, 1.0))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    mask = rng.random((P, R)) < density
    pa, pe = np.nonzero(mask)
    # affinities with 6 decimals, like the real ones (some exact ties)
    w = np.round(rng.choice([0.0, 0.25, 0.5], size=len(pa)) + rng.random(len(pa)) * 0.5, 6)
    conf = rng.random((P, R)) < 0.15
    fa, fe = np.nonzero(conf)
    pb = Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=w, k=k, max_load=max_load,
                 min_load=min_load, forbidden_app=fa, forbidden_expert=fe)
    if regions:
        pb.app_region = rng.integers(-1, 3, size=P)
        pb.expert_region = rng.integers(-1, 3, size=R)
    return pb


def allowed_matrix(pb: Problem) -> np.ndarray:
    """P × R affinities of the allowed pairs, NaN elsewhere."""
    W = np.full((pb.n_apps, pb.n_experts), np.nan)
    W[pb.pair_app, pb.pair_expert] = pb.affinity
    if pb.forbidden_app is not None:
        W[pb.forbidden_app, pb.forbidden_expert] = np.nan
    return W


def outside(pb: Problem, i: int, j: int) -> bool:
    a, e = pb.app_region[i], pb.expert_region[j]
    return a >= 0 and e >= 0 and a != e


def brute_force(pb: Problem) -> float | None:
    """The best total over every choice of k experts per application (None: infeasible)."""
    W = allowed_matrix(pb)
    options = []
    for i in range(pb.n_apps):
        ok = [j for j in range(pb.n_experts) if not np.isnan(W[i, j])]
        sets = []
        for c in itertools.combinations(ok, int(pb.k)):
            if pb.app_region is not None and pb.app_region[i] >= 0 and not any(outside(pb, i, j) for j in c):
                continue
            sets.append(c)
        options.append(sets)
    best = None
    for choice in itertools.product(*options):
        load = np.zeros(pb.n_experts, dtype=int)
        for c in choice:
            load[list(c)] += 1
        if (load > pb.max_load).any() or (load < pb.min_load).any():
            continue
        total = sum(W[i, j] for i, c in enumerate(choice) for j in c)
        best = total if best is None else max(best, total)
    return best


def cp_sat(pb: Problem) -> float | None:
    """The optimum by CP-SAT on 0/1 variables (an independent reference; affinities scaled ×1e6)."""
    from ortools.sat.python import cp_model

    W = allowed_matrix(pb)
    m = cp_model.CpModel()
    x = {(i, j): m.new_bool_var(f"x{i}_{j}") for i in range(pb.n_apps) for j in range(pb.n_experts)
         if not np.isnan(W[i, j])}
    for i in range(pb.n_apps):
        m.add(sum(v for (a, _), v in x.items() if a == i) == int(pb.k))
        if pb.app_region is not None and pb.app_region[i] >= 0:
            m.add(sum(v for (a, j), v in x.items() if a == i and outside(pb, a, j)) >= 1)
    for j in range(pb.n_experts):
        load = sum(v for (_, e), v in x.items() if e == j)
        m.add(load <= int(pb.max_load))
        m.add(load >= int(pb.min_load))
    m.maximize(sum(round(W[i, j] * 1e6) * v for (i, j), v in x.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return None
    assert status == cp_model.OPTIMAL
    return solver.objective_value / 1e6


def check_valid(pb: Problem, res) -> None:
    W = allowed_matrix(pb)
    pairs = set(zip(res.app.tolist(), res.expert.tolist(), strict=True))
    assert len(pairs) == len(res.app)  # distinct
    assert all(not np.isnan(W[i, j]) for i, j in pairs)  # no conflicted (forbidden) or unlisted pair
    per_app = np.bincount(res.app, minlength=pb.n_apps)
    assert (per_app == pb.k).all()  # exactly k each
    load = np.bincount(res.expert, minlength=pb.n_experts)
    assert (load <= pb.max_load).all() and (load >= pb.min_load).all()  # loads respected
    assert res.objective == pytest.approx(sum(W[i, j] for i, j in pairs), abs=1e-9)
    if pb.app_region is not None:
        for i in range(pb.n_apps):
            if pb.app_region[i] >= 0:
                assert any(outside(pb, i, j) for j in res.expert[res.app == i])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_apps=4, max_experts=4))
def test_tiny_instances_match_brute_force(pb):
    res = solve(pb)
    best = brute_force(pb)
    if best is None:
        assert not res.feasible and res.infeasible.message
        return
    assert res.feasible, res.infeasible
    check_valid(pb, res)
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert res.exact and res.bound == pytest.approx(res.objective)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_apps=10, max_experts=8))
def test_small_instances_match_cp_sat(pb):
    res = solve(pb)
    # the simple bound: each application's k best allowed affinities
    W = allowed_matrix(pb)
    naive = sum(sum(sorted((v for v in row if not np.isnan(v)), reverse=True)[:pb.k]) for row in W)
    assert res.topk_bound == pytest.approx(naive, abs=1e-9)
    ref = cp_sat(pb)
    if ref is None:
        assert not res.feasible and res.infeasible.message
        return
    assert res.feasible, res.infeasible
    check_valid(pb, res)
    assert res.objective == pytest.approx(ref, abs=1e-6)
    assert res.topk_bound >= res.objective - 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_apps=8, max_experts=7, regions=True))
def test_outside_region_is_exact_and_held(pb):
    res = solve(pb)
    ref = cp_sat(pb)
    if ref is None:
        assert not res.feasible and res.infeasible.message
        return
    assert res.feasible, res.infeasible
    check_valid(pb, res)
    assert res.objective == pytest.approx(ref, abs=1e-6)


def test_unrounded_affinities_report_a_bound_not_below_the_optimum():
    rng = np.random.default_rng(3)
    P, R = 8, 6
    pa, pe = np.nonzero(np.ones((P, R), dtype=bool))
    w = rng.random(len(pa)) * 7.123456789123  # many decimals, beyond 1: scaled and rounded
    pb = Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=w, k=2, max_load=3)
    res = solve(pb)
    ref = cp_sat(Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=np.round(w, 6), k=2,
                         max_load=3))
    assert res.feasible and not res.exact
    assert res.bound >= res.objective
    assert res.objective == pytest.approx(ref, abs=P * 2 * 1e-6 + res.gap)
    assert res.ratio > 0.999999


def test_infeasible_too_few_experts_names_the_application():
    pb = Problem(n_apps=3, n_experts=3, pair_app=np.array([0, 0, 0, 1, 1, 2, 2, 2]),
                 pair_expert=np.array([0, 1, 2, 0, 1, 0, 1, 2]), affinity=np.ones(8), k=3, max_load=3,
                 forbidden_app=np.array([2]), forbidden_expert=np.array([2]))
    res = solve(pb)
    assert not res.feasible
    assert res.infeasible.code == "few_candidates"
    assert res.infeasible.apps == [1, 2]  # 1 has two listed experts, 2 lost one to a conflict
    assert "少于所需的 3 位" in res.infeasible.message


def test_infeasible_total_capacity():
    P, R = 5, 3
    pa, pe = np.nonzero(np.ones((P, R), dtype=bool))
    res = solve(Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=np.ones(len(pa)), k=2,
                        max_load=3))
    assert not res.feasible and res.infeasible.code == "capacity"
    assert res.infeasible.detail == {"capacity": 9, "demand": 10}


def test_infeasible_hall_cut_names_the_crowded_applications():
    # applications 0-2 may only use experts 0 and 1 (load 2 each: 4 < 3 × 2); 3 and 4 use anyone
    P, R = 5, 5
    pairs = [(i, j) for i in range(3) for j in (0, 1)] + [(i, j) for i in (3, 4) for j in range(R)]
    pa, pe = map(np.array, zip(*pairs, strict=True))
    res = solve(Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=np.ones(len(pa)), k=2,
                        max_load=2))
    assert not res.feasible and res.infeasible.code == "cut"
    assert res.infeasible.apps == [0, 1, 2]
    assert "评审容量不足" in res.infeasible.message


def test_no_outside_expert_is_reported():
    pb = Problem(n_apps=2, n_experts=3, pair_app=np.array([0, 0, 1, 1, 1]), pair_expert=np.array([0, 1, 0, 1, 2]),
                 affinity=np.ones(5), k=2, max_load=2, app_region=np.array([0, 0]), expert_region=np.array([0, 0, 1]))
    res = solve(pb)
    assert not res.feasible and res.infeasible.code == "no_outside" and res.infeasible.apps == [0]


def test_min_loads_are_met_exactly():
    # without min loads everyone would pick expert 0 and 1; expert 2 must take two
    P, R = 4, 3
    pa, pe = np.nonzero(np.ones((P, R), dtype=bool))
    w = np.where(pe == 2, 0.1, 0.9)
    res = solve(Problem(n_apps=P, n_experts=R, pair_app=pa, pair_expert=pe, affinity=w, k=2, max_load=4,
                        min_load=np.array([0, 0, 2])))
    assert res.feasible
    assert np.bincount(res.expert, minlength=R)[2] == 2
    assert res.objective == pytest.approx(6 * 0.9 + 2 * 0.1)


# --- affinity -----------------------------------------------------------------------------------------


def test_tokens_drop_stopwords_and_single_characters():
    words = tokens("基于人工智能的汽车制造科普活动，以及相关工作")
    assert "人工智能" in words and "汽车" in words
    assert "的" not in words and "以及" not in words and "相关" not in words


def test_affinity_prefers_the_matching_expert_and_weights_keywords():
    apps = [AppText(1, "柳州螺蛳粉产业科普", "螺蛳粉发酵工艺与食品安全科普讲座"),
            AppText(2, "新能源汽车智能制造科普", "电池技术与智能制造")]
    experts = [ExpertProfile(10, ["食品科学"], ["螺蛳粉", "发酵"]),
               ExpertProfile(11, ["机械工程"], ["新能源汽车", "智能制造"]),
               ExpertProfile(12, ["螺蛳粉"], [])]  # the same word as a field only, not a keyword
    got = candidates(apps, experts, top_k=0).as_dict()
    assert got[(1, 10)] > got[(1, 11)] and got[(2, 11)] > got[(2, 10)]
    assert all(0.0 <= v <= 1.0 for v in got.values())
    # top-K with an excluded (conflicted) pair: the pair is left out, the list is still K long
    top = candidates(apps, experts, top_k=2, exclude={(1, 10)})
    pairs = top.as_dict()
    assert (1, 10) not in pairs and sum(1 for a, _ in pairs if a == 1) == 2
    assert sum(1 for a, _ in pairs if a == 2) == 2 and (2, 11) in pairs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_apps=8, max_experts=7), st.integers(0, 2**31 - 1))
def test_pair_order_and_duplicates_do_not_matter(pb, seed):
    """Pairs listed in any order, some twice with a lower affinity: the same optimum and bound."""
    rng = np.random.default_rng(seed)
    dup = rng.random(len(pb.pair_app)) < 0.3
    pa = np.r_[pb.pair_app, pb.pair_app[dup]]
    pe = np.r_[pb.pair_expert, pb.pair_expert[dup]]
    w = np.r_[pb.affinity, pb.affinity[dup] - 0.1]
    perm = rng.permutation(len(pa))
    shuffled = Problem(n_apps=pb.n_apps, n_experts=pb.n_experts, pair_app=pa[perm], pair_expert=pe[perm],
                       affinity=w[perm], k=pb.k, max_load=pb.max_load, min_load=pb.min_load,
                       forbidden_app=pb.forbidden_app, forbidden_expert=pb.forbidden_expert)
    a, b = solve(pb), solve(shuffled)
    assert a.feasible == b.feasible
    assert a.topk_bound == pytest.approx(b.topk_bound, abs=1e-9)
    if a.feasible:
        assert a.objective == pytest.approx(b.objective, abs=1e-9)
        check_valid(pb, b)
