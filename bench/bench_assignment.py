#!/usr/bin/env python3
"""Benchmark of the expert assignment (review/assignment_solver.py) on the shared instance.

    PYTHONPATH=src python bench/bench_assignment.py --instance /tmp/assign-full --out result.csv

Reads instance.json (k, loads), scores.csv (paper,reviewer,affinity: the allowed pairs) and
constraints.csv (paper,reviewer,-1: conflicts), solves the min-cost flow exactly, writes `paper,reviewer`
rows and prints wall time, peak memory (ru_maxrss), the objective and its bound. Check it with
../shared/bench/assignment_check.py --instance DIR --assignments result.csv --format csv.

The CSV files are parsed with numpy alone (no pandas, no Python loop per row): ~2M rows in about a second.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()  # wall time counts the imports too

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from shenbao.review.assignment_solver import Problem, solve  # noqa: E402


def read_csv3(path: str):
    """A headerless 3-column CSV (id,id,number) → (first ids as bytes rows, second ids, float values).

    Vectorised: locate the separators in the byte buffer, gather each id field into a fixed-width byte
    matrix (padded with NULs), and parse the third field as a decimal number with numpy arithmetic."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return np.zeros(0, "S1"), np.zeros(0, "S1"), np.zeros(0)
    if not data.endswith(b"\n"):
        data += b"\n"
    buf = np.frombuffer(data, dtype=np.uint8)
    if (buf == 13).any():  # CRLF files
        buf = buf[buf != 13]
    nl = np.flatnonzero(buf == 10)
    commas = np.flatnonzero(buf == 44)
    n = len(nl)
    if len(commas) != 2 * n:
        raise ValueError(f"{path}: expected 3 columns on every line")
    c1, c2 = commas[0::2], commas[1::2]
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = nl[:-1] + 1
    if not ((starts <= c1) & (c1 < c2) & (c2 < nl)).all():
        raise ValueError(f"{path}: malformed line")
    # in chunks, so the per-character work matrices stay small (peak memory)
    a_parts, b_parts, v_parts = [], [], []
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        a_parts.append(_gather(buf, starts[lo:hi], c1[lo:hi]))
        b_parts.append(_gather(buf, c1[lo:hi] + 1, c2[lo:hi]))
        v_parts.append(_parse_decimal(buf, c2[lo:hi] + 1, nl[lo:hi]))
    del nl, commas, c1, c2, starts, buf, data
    return _concat_bytes(a_parts), _concat_bytes(b_parts), np.concatenate(v_parts)


CHUNK = 131072


def _concat_bytes(parts: list[np.ndarray]) -> np.ndarray:
    width = max(p.dtype.itemsize for p in parts)
    return np.concatenate([p.astype(f"S{width}") for p in parts])


def _gather(buf: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Fields buf[s:e] as a fixed-width bytes array (dtype S<width>), stripped of spaces."""
    width = int((e - s).max())
    idx = s[:, None] + np.arange(width)[None, :]
    mask = idx < e[:, None]
    mat = np.where(mask, buf[np.minimum(idx, len(buf) - 1)], 0).astype(np.uint8)
    mat[mat == 32] = 0
    return np.ascontiguousarray(mat).view(f"S{width}").ravel()


def _parse_decimal(buf: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """[-]digits[.digits] fields → float64 (exact to the double nearest the decimal for ≤ 15 digits)."""
    width = int((e - s).max())
    idx = s[:, None] + np.arange(width)[None, :]
    inside = idx < e[:, None]
    ch = np.where(inside, buf[np.minimum(idx, len(buf) - 1)], 32).astype(np.int64)
    neg = ch[:, 0] == 45
    ch[:, 0] = np.where(neg, 32, ch[:, 0])
    is_digit = (ch >= 48) & (ch <= 57)
    is_dot = ch == 46
    if not (is_digit | is_dot | (ch == 32)).all() or (is_dot.sum(axis=1) > 1).any():
        # something else (exponent, letters): fall back to numpy's own conversion
        return np.array([float(x) for x in _gather(buf, s, e)])
    has_dot = is_dot.any(axis=1)
    dot_pos = np.where(has_dot, is_dot.argmax(axis=1), inside.sum(axis=1))
    col = np.arange(width)[None, :]
    # digits after the dot count from 1; integer digits are weighted by their place before the dot
    digit = np.where(is_digit, ch - 48, 0)
    n_frac = np.where(has_dot, inside.sum(axis=1) - dot_pos - 1, 0)
    # place value exponent of each digit relative to the last digit: an integer mantissa, then / 10^frac
    place = np.where(col < dot_pos[:, None], dot_pos[:, None] - col - 1 + n_frac[:, None],
                     n_frac[:, None] - (col - dot_pos[:, None]))
    place = np.where(is_digit, place, 0)
    mant = (digit * (10 ** np.clip(place, 0, 18))).sum(axis=1)
    val = mant / (10.0 ** n_frac)
    return np.where(neg, -val, val)


def unique_ids(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(a, return_inverse=True) for a bytes array, sorting integers instead of strings when the
    ids fit in 8 bytes (big-endian: the integer order is the bytes' order)."""
    width = a.dtype.itemsize
    if width > 8 or not len(a):
        return np.unique(a, return_inverse=True)
    mat = np.zeros((len(a), 8), dtype=np.uint8)
    mat[:, :width] = a.view(np.uint8).reshape(len(a), width)
    keys = mat.view(">u8").ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return a[first], inverse


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instance", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--outside-region", type=int, default=0,
                    help="test only: give applications and experts N synthetic regions and require one "
                         "expert from outside (0 = off, the instance's own problem)")
    a = ap.parse_args()
    t0 = _T0
    info = json.load(open(os.path.join(a.instance, "instance.json")))
    P, R, k = int(info["P"]), int(info["R"]), int(info["k"])
    sp, sr, sv = read_csv3(os.path.join(a.instance, "scores.csv"))
    cons = os.path.join(a.instance, "constraints.csv")
    cp, cr, cv = read_csv3(cons) if os.path.exists(cons) else (sp[:0], sr[:0], np.zeros(0))
    t_read = time.perf_counter()

    # ids → indices (the instance's ids are any strings; np.unique gives a stable order)
    papers, pidx = unique_ids(sp)
    reviewers, ridx = unique_ids(sr)
    if len(papers) > P or len(reviewers) > R:
        print(f"warning: {len(papers)} papers / {len(reviewers)} reviewers in scores.csv, instance says {P} / {R}")
    P, R = max(P, len(papers)), max(R, len(reviewers))
    # conflicts (value −1) of known ids only: unknown ids cannot be assigned anyway
    neg = cv < 0
    cp, cr = cp[neg], cr[neg]
    ci = np.searchsorted(papers, cp)
    cj = np.searchsorted(reviewers, cr)
    ci_ok = (ci < len(papers)) & (papers[np.minimum(ci, len(papers) - 1)] == cp)
    cj_ok = (cj < len(reviewers)) & (reviewers[np.minimum(cj, len(reviewers) - 1)] == cr)
    known = ci_ok & cj_ok
    pb = Problem(n_apps=P, n_experts=R, pair_app=pidx, pair_expert=ridx, affinity=sv, k=k,
                 max_load=int(info["max_load"]), min_load=int(info.get("min_load", 0)),
                 forbidden_app=ci[known], forbidden_expert=cj[known])
    if a.outside_region:
        rng = np.random.default_rng(1)
        pb.app_region = rng.integers(a.outside_region, size=P)
        pb.expert_region = rng.integers(a.outside_region, size=R)
    t_prep = time.perf_counter()
    res = solve(pb)
    t_solve = time.perf_counter()
    if not res.feasible:
        print("infeasible:", res.infeasible.message)
        return 2
    order = np.lexsort((res.expert, res.app))
    pid = np.char.decode(papers[res.app[order]], "utf-8")
    rid = np.char.decode(reviewers[res.expert[order]], "utf-8")
    aff = res.affinity[order]
    # paper,reviewer rows; the third column (the pair's affinity) lets readers that expect three columns
    # (assignment_check.py without pandas) read it too
    with open(a.out, "w") as f:
        f.write("".join(f"{p},{r},{v:.6f}\n" for p, r, v in zip(pid.tolist(), rid.tolist(), aff.tolist(), strict=True)))
    t_end = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "instance": os.path.abspath(a.instance), "P": P, "R": R, "k": k, "max_load": int(info["max_load"]),
        "score_rows": len(sv), "conflict_rows": len(cv), "pairs_assigned": len(res.app),
        "objective": round(res.objective, 6), "bound": round(res.bound, 6), "exact": res.exact,
        "ratio_to_bound": res.ratio, "topk_bound": round(res.topk_bound, 6),
        "seconds": {"read_csv": round(t_read - t0, 2), "index": round(t_prep - t_read, 2),
                    **{key: round(v, 2) for key, v in res.seconds.items()},
                    "solve_total": round(t_solve - t_prep, 2), "write": round(t_end - t_solve, 2)},
        "wall_seconds": round(t_end - t0, 2),
        "peak_memory_mb": round(peak_mb, 1),
    }
    print(json.dumps(out, indent=1))
    print(f"wall {t_end - t0:.2f} s, peak memory {peak_mb:.0f} MB, objective {res.objective:.6f} "
          f"(bound {res.bound:.6f}, {'exact' if res.exact else 'rounded'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
