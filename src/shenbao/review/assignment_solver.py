"""Expert assignment as an exact optimisation (pure: numpy and OR-Tools, no Django).

The problem: P applications, R experts, a sparse list of allowed (application, expert) pairs with an
affinity each (conflicted pairs are left out or passed as `forbidden`); every application gets exactly
k_i distinct experts, every expert j takes between min_load_j and max_load_j applications; maximise the
total affinity. Optionally every application with a known region gets at least one expert whose region
is known and different ("outside the applicant's region").

It is a transportation problem on a bipartite graph, so a min-cost flow gives the integer optimum:

    source ──k_i──▶ app i ──1, −w_ij──▶ expert j ──max_j − min_j──▶ sink
                        (expert j has a demand of min_j: the min loads are node supplies, exact, no big-M)

With the outside-region constraint each application i is split: its in-region experts hang off a
sub-node i' reached by an arc i → i' of capacity k_i − 1, so at least one unit leaves i through an
outside-region arc. The constraint matrix stays a network matrix: the flow optimum is exact.

Affinities are floats; the flow works on integers: w_ij is scaled (×1e6 when affinities lie in [−1, 1],
so 6-decimal data is exact) and rounded. For any feasible assignment x with n pairs the rounded
objective differs from the true one by at most n·δ/scale, so the true optimum is at most
objective + 2·n·δ/scale (`bound`, δ the largest rounding error in scaled units, at most 1/2); when every
scaled affinity is an integer (up to float noise) the bound is the objective itself (`exact`). `topk_bound` (each application's k best allowed affinities, loads ignored) is reported too.

Infeasibility is explained: applications with fewer than k allowed experts (or no allowed expert from
outside their region), total capacity below the demand, min loads above it, or else a min cut of the
max flow naming a set of applications whose allowed experts cannot together take them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

#: affinities within [−1, 1] are multiplied by this before rounding (exact for 6 decimals)
UNIT_SCALE = 1_000_000
#: the largest absolute integer cost used (keeps OR-Tools' cost scaling far from int64 overflow)
MAX_COST = 2_000_000_000


@dataclass
class Problem:
    """Indices are 0-based: applications 0..n_apps−1, experts 0..n_experts−1."""

    n_apps: int
    n_experts: int
    pair_app: np.ndarray            # int, one entry per allowed pair
    pair_expert: np.ndarray         # int
    affinity: np.ndarray            # float, higher is better
    k: int | np.ndarray = 5          # experts per application (scalar or per application)
    max_load: int | np.ndarray = 1_000_000
    min_load: int | np.ndarray = 0
    forbidden_app: np.ndarray | None = None      # pairs to leave out (conflicts), even if listed
    forbidden_expert: np.ndarray | None = None
    # outside-region constraint: integer region codes, −1 = unknown. An application with a known region
    # needs one expert whose region is known and different; unknown regions never count as "outside".
    app_region: np.ndarray | None = None
    expert_region: np.ndarray | None = None


@dataclass
class Infeasible:
    code: str                        # few_candidates | no_outside | capacity | min_load | cut
    message: str                     # Chinese, for the user
    apps: list[int] = field(default_factory=list)   # the applications concerned (indices)
    detail: dict = field(default_factory=dict)


@dataclass
class Result:
    feasible: bool
    app: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))     # assigned pairs
    expert: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    affinity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    objective: float = 0.0           # total affinity, original units
    bound: float = 0.0               # certified upper bound on the optimum (objective + rounding slack)
    topk_bound: float = 0.0          # each application's k best allowed affinities, loads ignored
    scale: float = 1.0
    exact: bool = False              # no rounding: objective is the optimum
    infeasible: Infeasible | None = None
    seconds: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """bound − objective (0 when exact)."""
        return max(0.0, self.bound - self.objective)

    @property
    def ratio(self) -> float:
        """objective / bound (1.0 when exact)."""
        return 1.0 if self.bound <= 0 else self.objective / self.bound

    def summary(self) -> dict:
        if not self.feasible:
            return {"feasible": False, "reason": self.infeasible.message if self.infeasible else "",
                    "code": self.infeasible.code if self.infeasible else ""}
        return {"feasible": True, "pairs": len(self.app), "objective": self.objective,
                "bound": self.bound, "gap": self.gap, "ratio": self.ratio, "topk_bound": self.topk_bound,
                "exact": self.exact, "seconds": self.seconds}


def _per(value, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.int64)
    if arr.ndim == 0:
        arr = np.full(n, int(arr), dtype=np.int64)
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected a scalar or {n} values")
    if (arr < 0).any():
        raise ValueError(f"{name}: negative value")
    return arr


def _clean_pairs(pb: Problem):
    """Allowed pairs: in range, finite, de-duplicated (best affinity kept), forbidden pairs removed."""
    pa = np.asarray(pb.pair_app, dtype=np.int64).ravel()
    pe = np.asarray(pb.pair_expert, dtype=np.int64).ravel()
    w = np.asarray(pb.affinity, dtype=np.float64).ravel()
    if not (len(pa) == len(pe) == len(w)):
        raise ValueError("pair_app, pair_expert and affinity differ in length")
    ok = (pa >= 0) & (pa < pb.n_apps) & (pe >= 0) & (pe < pb.n_experts) & np.isfinite(w)
    if not ok.all():
        raise ValueError("pairs out of range or affinities not finite")
    key = pa * pb.n_experts + pe
    if pb.forbidden_app is not None and len(pb.forbidden_app):
        fkey = np.unique(np.asarray(pb.forbidden_app, dtype=np.int64) * pb.n_experts
                         + np.asarray(pb.forbidden_expert, dtype=np.int64))
        pos = np.minimum(np.searchsorted(fkey, key), len(fkey) - 1)
        keep = fkey[pos] != key
        pa, pe, w, key = pa[keep], pe[keep], w[keep], key[keep]
    if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):
        return pa, pe, w  # already sorted and distinct (the usual case): no sort needed
    # de-duplicate: sort by key, then by affinity descending; keep the first of each key
    order = np.lexsort((-w, key))
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    order = order[first]
    return pa[order], pe[order], w[order]


def _scale_for(w: np.ndarray) -> float:
    m = float(np.abs(w).max()) if len(w) else 0.0
    if m <= 1.0:
        return float(UNIT_SCALE)
    # keep the largest cost within MAX_COST / 2; the power of ten keeps decimal data exact when it can be
    return float(10 ** math.floor(math.log10(MAX_COST / 2 / m)))


def _topk_sum(pa: np.ndarray, w: np.ndarray, k: np.ndarray) -> float:
    """Sum over applications of their k best affinities among the given pairs (`pa` sorted)."""
    if not len(pa):
        return 0.0
    starts = np.flatnonzero(np.r_[True, pa[1:] != pa[:-1]])
    kk = k[pa[starts]]
    rounds = int(kk.max())
    if rounds > 20:
        order = np.lexsort((-w, pa))
        pa_s, w_s = pa[order], w[order]
        first = np.searchsorted(pa_s, np.arange(len(k)))
        rank = np.arange(len(pa_s)) - first[pa_s]
        return float(w_s[rank < k[pa_s]].sum())
    # k rounds of "each group's maximum, then drop one occurrence of it": linear, no sort
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(pa)]))
    work = np.asarray(w, dtype=np.float64).copy()
    total = 0.0
    for r in range(rounds):
        m = np.maximum.reduceat(work, starts)
        ok = np.isfinite(m) & (r < kk)
        total += float(m[ok].sum())
        hit = work == m[seg]
        c = np.cumsum(hit)
        before = np.r_[0, c][starts]
        work[hit & (c - before[seg] == 1)] = -np.inf
    return total


def _outside_mask(pb: Problem, pa: np.ndarray, pe: np.ndarray):
    if pb.app_region is None or pb.expert_region is None:
        return None
    ar = np.asarray(pb.app_region, dtype=np.int64)
    er = np.asarray(pb.expert_region, dtype=np.int64)
    a_reg, e_reg = ar[pa], er[pe]
    return (a_reg >= 0) & (e_reg >= 0) & (a_reg != e_reg)


def _precheck(pb: Problem, pa, pe, k, lo, hi, outside) -> Infeasible | None:
    P = pb.n_apps
    if (lo > hi).any():
        j = int(np.flatnonzero(lo > hi)[0])
        return Infeasible("min_load", f"专家（序号 {j}）的最低评审数大于最高评审数", detail={"expert": j})
    deg = np.bincount(pa, minlength=P)
    short = np.flatnonzero(deg < k)
    if len(short):
        return Infeasible(
            "few_candidates",
            f"{len(short)} 份申报可选（无回避）的专家少于所需的 {int(k[short].max())} 位",
            apps=short.tolist(), detail={"available": deg[short].tolist(), "needed": k[short].tolist()})
    if outside is not None:
        ar = np.asarray(pb.app_region, dtype=np.int64)
        needs = (ar >= 0) & (k > 0)
        has = np.bincount(pa[outside], minlength=P) > 0
        missing = np.flatnonzero(needs & ~has)
        if len(missing):
            return Infeasible("no_outside", f"{len(missing)} 份申报没有可选的外地专家（须至少一位申报单位所在地区以外的专家）",
                              apps=missing.tolist())
    demand = int(k.sum())
    # an expert can take at most min(max_load, number of its allowed applications)
    reach = np.minimum(hi, np.bincount(pe, minlength=pb.n_experts))
    capacity = int(reach.sum())
    if capacity < demand:
        return Infeasible("capacity", f"专家总评审容量 {capacity} 份次少于所需的 {demand} 份次（{P} 份申报 × 每份专家数）",
                          detail={"capacity": capacity, "demand": demand})
    if int(lo.sum()) > demand:
        return Infeasible("min_load", f"专家最低评审数之和 {int(lo.sum())} 大于所需的 {demand} 份次",
                          detail={"min_total": int(lo.sum()), "demand": demand})
    return None


def _build(pb: Problem, pa, pe, cost, k, lo, hi, outside):
    """Arrays of the flow network. Nodes: 0 = source, 1 = sink, 2.. apps, then experts, then app sub-nodes."""
    P, R = pb.n_apps, pb.n_experts
    S, T = 0, 1
    app0, exp0 = 2, 2 + P
    tails = [np.full(P, S, dtype=np.int64)]
    heads = [app0 + np.arange(P, dtype=np.int64)]
    caps = [k]
    costs = [np.zeros(P, dtype=np.int64)]
    n_nodes = 2 + P + R
    pair_tail = app0 + pa
    if outside is not None:
        ar = np.asarray(pb.app_region, dtype=np.int64)
        split = np.flatnonzero((ar >= 0) & (k > 0))
        sub = np.full(P, -1, dtype=np.int64)
        sub[split] = n_nodes + np.arange(len(split))
        n_nodes += len(split)
        tails.append(app0 + split)
        heads.append(sub[split])
        caps.append(k[split] - 1)
        costs.append(np.zeros(len(split), dtype=np.int64))
        inside = ~outside & (sub[pa] >= 0)
        pair_tail = np.where(inside, sub[pa], pair_tail)
    first_pair_arc = sum(len(t) for t in tails)
    tails.append(pair_tail)
    heads.append(exp0 + pe)
    caps.append(np.ones(len(pa), dtype=np.int64))
    costs.append(cost)
    tails.append(exp0 + np.arange(R, dtype=np.int64))
    heads.append(np.full(R, T, dtype=np.int64))
    caps.append(hi - lo)
    costs.append(np.zeros(R, dtype=np.int64))
    supplies = np.zeros(n_nodes, dtype=np.int64)
    demand = int(k.sum())
    supplies[S] = demand
    supplies[exp0:exp0 + R] = -lo
    supplies[T] = -(demand - int(lo.sum()))
    return (np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs),
            supplies, first_pair_arc)


def _diagnose_cut(pb: Problem, tails, heads, caps, k) -> Infeasible:
    """Max flow without min loads; the source side of a min cut holds applications whose allowed experts
    (on the same side) cannot take them all (Hall's condition)."""
    from ortools.graph.python import max_flow

    mf = max_flow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(tails, heads, caps)
    demand = int(k.sum())
    if mf.solve(0, 1) != mf.OPTIMAL:
        return Infeasible("cut", "无法完成分配（最大流求解失败）")
    flow = int(mf.optimal_flow())
    if flow >= demand:
        return Infeasible("min_load", "无法同时满足每位专家的最低评审数", detail={"max_flow": flow})
    side = np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)
    apps = side[(side >= 2) & (side < 2 + pb.n_apps)] - 2
    experts = side[(side >= 2 + pb.n_apps) & (side < 2 + pb.n_apps + pb.n_experts)] - 2 - pb.n_apps
    return Infeasible(
        "cut",
        f"{len(apps)} 份申报的可选专家（共 {len(experts)} 位）评审容量不足：最多可分配 {flow} 份次，需要 {demand} 份次",
        apps=sorted(apps.tolist()), detail={"max_flow": flow, "demand": demand, "experts": len(experts)})


def solve(pb: Problem) -> Result:
    t0 = time.perf_counter()
    P, R = pb.n_apps, pb.n_experts
    k = _per(pb.k, P, "k")
    hi = _per(pb.max_load, R, "max_load")
    lo = _per(pb.min_load, R, "min_load")
    pa, pe, w = _clean_pairs(pb)
    outside = _outside_mask(pb, pa, pe)
    bad = _precheck(pb, pa, pe, k, lo, hi, outside)
    topk = _topk_sum(pa, w, k)
    if bad is not None:
        return Result(False, infeasible=bad, topk_bound=topk)
    t1 = time.perf_counter()

    scale = _scale_for(w)
    scaled = w * scale
    iw = np.rint(scaled).astype(np.int64)
    # the largest rounding error, in scaled units: 6-decimal data ×1e6 gives ~1e-11 (float noise)
    delta = float(np.abs(scaled - iw).max()) if len(iw) else 0.0
    exact = delta <= 1e-6
    # costs ≥ 0: every application takes exactly k_i pair arcs, so a constant shift changes nothing
    cost = (iw.max() if len(iw) else 0) - iw

    from ortools.graph.python import min_cost_flow

    tails, heads, caps, costs, supplies, first = _build(pb, pa, pe, cost, k, lo, hi, outside)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int64), supplies)
    t2 = time.perf_counter()
    status = smcf.solve()
    t3 = time.perf_counter()
    if status != smcf.OPTIMAL:
        if status == smcf.INFEASIBLE:
            # the same network without min loads, as a max flow from source to sink
            caps2 = caps.copy()
            caps2[-R:] = hi
            bad = _diagnose_cut(pb, tails, heads, caps2, k)
        else:
            bad = Infeasible("solver", f"分配求解失败（状态 {status}）")
        return Result(False, infeasible=bad, topk_bound=topk,
                      seconds={"prepare": t1 - t0, "build": t2 - t1, "solve": t3 - t2})
    flows = smcf.flows(np.arange(first, first + len(pa), dtype=np.int64))
    chosen = np.flatnonzero(np.asarray(flows) > 0)
    app, exp, aff = pa[chosen], pe[chosen], w[chosen]
    objective = float(aff.sum())
    # any assignment's rounded and true objectives differ by ≤ n·delta/scale: optimum ≤ objective + 2·n·delta
    slack = 2.0 * len(chosen) * delta / scale
    t4 = time.perf_counter()
    return Result(True, app=app, expert=exp, affinity=aff, objective=objective, bound=objective + slack,
                  topk_bound=topk, scale=scale, exact=exact,
                  seconds={"prepare": t1 - t0, "build": t2 - t1, "solve": t3 - t2, "extract": t4 - t3})
