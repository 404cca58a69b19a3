"""bench/bench_assignment.py: its numpy CSV reader (ids of any width, decimals with or without a point,
negative numbers, CRLF) and a run on a small instance in the shared format, checked pair by pair."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_assignment.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_assignment", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reader_parses_what_python_parses(bench, tmp_path):
    rows = [("p1", "r01", "0.5"), ("paper-long-id-0002", "r2", "1"), ("p3", "r3", "-0.000123"),
            ("p4", "r4", "12.25"), ("p5", "r5", "0.123456")]
    path = tmp_path / "x.csv"
    path.write_bytes("\r\n".join(",".join(r) for r in rows).encode())  # CRLF, no final newline
    a, b, v = bench.read_csv3(str(path))
    assert [x.decode() for x in a] == [r[0] for r in rows]
    assert [x.decode() for x in b] == [r[1] for r in rows]
    assert v.tolist() == [float(r[2]) for r in rows]
    for col, arr in ((0, a), (1, b)):  # wider than 8 bytes (as strings), and not (as integers)
        ids, inverse = bench.unique_ids(arr)
        assert [ids[i].decode() for i in inverse] == [r[col] for r in rows]
        assert list(ids) == sorted(set(arr.tolist()))


def test_run_on_a_small_instance(bench, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(7)
    P, R, k, max_load = 40, 12, 3, 12
    aff = np.round(rng.random((P, R)), 6)
    conflicts = {(int(i), int(j)) for i, j in zip(rng.integers(P, size=30), rng.integers(R, size=30), strict=True)}
    inst = tmp_path / "inst"
    inst.mkdir()
    # every pair listed, in a shuffled order
    pairs = [(i, j) for i in range(P) for j in range(R)]
    rng.shuffle(pairs)
    (inst / "scores.csv").write_text("".join(f"p{i:06d},r{j:05d},{aff[i, j]:.6f}\n" for i, j in pairs))
    (inst / "constraints.csv").write_text("".join(f"p{i:06d},r{j:05d},-1\n" for i, j in sorted(conflicts)))
    (inst / "instance.json").write_text(json.dumps({"P": P, "R": R, "k": k, "min_load": 0, "max_load": max_load}))
    out = tmp_path / "result.csv"
    monkeypatch.setattr(sys, "argv", ["bench", "--instance", str(inst), "--out", str(out)])
    assert bench.main() == 0
    printed = capsys.readouterr().out
    assert "wall" in printed and "peak memory" in printed and "objective" in printed
    got = [line.split(",") for line in out.read_text().splitlines()]
    pairs = [(int(p[1:]), int(r[1:])) for p, r, _ in got]
    assert len(set(pairs)) == P * k and not set(pairs) & conflicts
    assert (np.bincount([p for p, _ in pairs], minlength=P) == k).all()
    assert np.bincount([r for _, r in pairs], minlength=R).max() <= max_load
    total = sum(aff[p, r] for p, r in pairs)
    report = json.loads(printed[:printed.rindex("}") + 1])
    assert report["objective"] == pytest.approx(total, abs=1e-6) and report["exact"]
