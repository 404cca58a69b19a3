"""Affinity between an application's text and an expert's fields (匹配度), for the assignment.

Chinese text is segmented with jieba (its own dictionary, offline; the dictionary is loaded once per
process and its cache file is written to the data directory or a temporary one, never next to the
package). Each side becomes a TF-IDF vector:

- the application: its title (counted twice) and the text fields of its form (`text`, `long_text`, not
  those marked `identity`), from the submitted version when there is one;
- the expert: the fields (专业领域) and the keywords (研究方向关键词, weighted `KEYWORD_WEIGHT` times);
  each keyword or field is also a phrase term, matched as a whole in the application's raw text, so a
  keyword that jieba splits (螺蛳粉 → 螺蛳 / 粉) still counts as one.

The affinity is the cosine of the two vectors, in [0, 1], rounded to 6 decimals. `candidates` returns for
each application its top-K experts (a sparse list; excluded pairs, e.g. conflicts, are left out before the
top-K is taken, so each application keeps K allowed candidates when the pool has them).

The computation (`tokens`, `candidates`) is pure; `application_texts` and `expert_profiles` read the
Django rows.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

KEYWORD_WEIGHT = 3.0
TITLE_WEIGHT = 2.0
FIELD_WEIGHT = 1.0
TEXT_KINDS = ("text", "long_text")

# frequent words that say nothing about a subject (jieba keeps them as words)
STOPWORDS = frozenset("""
的 了 和 与 及 或 在 是 为 对 以 等 将 从 由 于 其 之 而 并 也 把 被 让 向 就 都 而且 以及 通过 进行 开展 实施 推进
加强 提高 提升 促进 推动 围绕 结合 相关 有关 方面 工作 活动 项目 内容 情况 问题 主要 重点 我们 本 该 此 一个 一些 这些
这个 那个 可以 能够 需要 要求 根据 按照 其中 以上 以下 包括 实现 形成 具有 作为 同时 进一步 全面 有效 各类 各项
""".split())

_lock = threading.Lock()
_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


def _cache_dir() -> str:
    """The data directory's cache/ (Django's DATA_DIR when configured, else $SHENBAO_DATA_DIR), else a
    temporary directory."""
    base = os.environ.get("SHENBAO_DATA_DIR")
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, "DATA_DIR", None):
            base = str(settings.DATA_DIR)
    except ImportError:  # used without Django (the benchmark)
        pass
    path = os.path.join(base, "cache") if base else os.path.join(tempfile.gettempdir(), "shenbao-jieba")
    os.makedirs(path, exist_ok=True)
    return path


@functools.cache
def tokenizer():
    """One jieba tokenizer per process, its dictionary loaded on first use (about a second; later
    processes read the cache file in the data directory)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.tmp_dir = _cache_dir()
    with _lock:
        tok.initialize()
    return tok


def tokens(text: str) -> list[str]:
    """The meaningful words of `text`: jieba's segmentation, lower-cased, without stop words, punctuation,
    numbers and single characters."""
    if not text:
        return []
    out = []
    for w in tokenizer().cut(text):
        w = w.strip().lower()
        if len(w) < 2 or w in STOPWORDS or not _WORD.search(w) or w.isdigit():
            continue
        out.append(w)
    return out


@dataclass
class AppText:
    id: int
    title: str = ""
    content: str = ""


@dataclass
class ExpertProfile:
    id: int
    fields: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


@dataclass
class Candidates:
    """Sparse affinities: index arrays into the given applications / experts lists, and the scores."""

    app: np.ndarray
    expert: np.ndarray
    score: np.ndarray
    app_ids: list[int]
    expert_ids: list[int]

    def as_dict(self) -> dict[tuple[int, int], float]:
        return {(self.app_ids[a], self.expert_ids[e]): float(s)
                for a, e, s in zip(self.app.tolist(), self.expert.tolist(), self.score.tolist(), strict=True)}


def _phrase(p: str) -> str:
    return "".join(p.split()).lower()


def _expert_terms(e: ExpertProfile) -> Counter:
    c: Counter = Counter()
    for f in e.fields:
        for w in tokens(f):
            c[w] += FIELD_WEIGHT
        if len(_phrase(f)) >= 2:
            c["§" + _phrase(f)] += FIELD_WEIGHT
    for k in e.keywords:
        for w in tokens(k):
            c[w] += KEYWORD_WEIGHT
        if len(_phrase(k)) >= 2:
            c["§" + _phrase(k)] += KEYWORD_WEIGHT
    return c


def _app_terms(a: AppText, phrases: list[str]) -> Counter:
    c: Counter = Counter()
    for w in tokens(a.title):
        c[w] += TITLE_WEIGHT
    for w in tokens(a.content):
        c[w] += 1.0
    title, content = _phrase(a.title), _phrase(a.content)
    for p in phrases:
        n = TITLE_WEIGHT * title.count(p) + content.count(p)
        if n:
            c["§" + p] += n
    return c


def candidates(apps: list[AppText], experts: list[ExpertProfile], *, top_k: int = 100,
               exclude: set[tuple[int, int]] | None = None, chunk: int = 2000) -> Candidates:
    """For every application its `top_k` best experts by TF-IDF cosine (all allowed experts when the pool
    is no larger), leaving out the (application id, expert id) pairs of `exclude`. Experts without any
    shared term come last (score 0) but still fill the list, so loads and conflicts can be met."""
    exclude = exclude or set()
    e_terms = [_expert_terms(e) for e in experts]
    phrases = sorted({t[1:] for c in e_terms for t in c if t.startswith("§")})
    a_terms = [_app_terms(a, phrases) for a in apps]
    # document frequency over both sides; smooth idf
    df: Counter = Counter()
    for c in (*a_terms, *e_terms):
        df.update(c.keys())
    n_docs = len(a_terms) + len(e_terms)
    vocab = {t: i for i, t in enumerate(sorted({t for c in e_terms for t in c}))}  # only these can match
    idf = {t: math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in df}

    def vec(c: Counter, dims: dict[str, int]) -> tuple[np.ndarray, float]:
        v = np.zeros(len(dims), dtype=np.float64)
        norm2 = 0.0
        for t, tf in c.items():
            w = (1.0 + math.log(tf)) * idf[t] if tf > 0 else 0.0
            norm2 += w * w
            j = dims.get(t)
            if j is not None:
                v[j] = w
        return v, math.sqrt(norm2)

    R, P = len(experts), len(apps)
    E = np.zeros((R, len(vocab)))
    for j, c in enumerate(e_terms):
        v, n = vec(c, vocab)
        E[j] = v / n if n else v
    app_ids = [a.id for a in apps]
    expert_ids = [e.id for e in experts]
    col_of = {eid: j for j, eid in enumerate(expert_ids)}
    banned_of: dict[int, list[int]] = {}
    for a, e in exclude:
        if e in col_of:
            banned_of.setdefault(a, []).append(col_of[e])
    K = R if top_k <= 0 else min(top_k, R)
    out_a, out_e, out_s = [], [], []
    for s0 in range(0, P, chunk):
        part = a_terms[s0:s0 + chunk]
        A = np.zeros((len(part), len(vocab)))
        for i, c in enumerate(part):
            v, n = vec(c, vocab)
            A[i] = v / n if n else v
        S = np.clip(A @ E.T, 0.0, 1.0) if len(vocab) else np.zeros((len(part), R))
        S = np.round(S, 6)
        for i in range(len(part)):
            aid = app_ids[s0 + i]
            row = S[i].copy()
            allowed = np.ones(R, dtype=bool)
            allowed[banned_of.get(aid, [])] = False
            idx = np.flatnonzero(allowed)
            if len(idx) > K:
                # best K; ties broken by the expert's position (stable)
                order = np.argsort(-row[idx], kind="stable")[:K]
                idx = np.sort(idx[order])
            out_a.append(np.full(len(idx), s0 + i, dtype=np.int64))
            out_e.append(idx.astype(np.int64))
            out_s.append(row[idx])

    def cat(parts, dt):
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dt)

    return Candidates(cat(out_a, np.int64), cat(out_e, np.int64), cat(out_s, np.float64), app_ids, expert_ids)


# --- reading the rows (Django) ------------------------------------------------------------------------


def _flatten(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _flatten(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _flatten(v)]
    return []


def application_text(application) -> AppText:
    """Title and the text fields of the form (`text`, `long_text`), from the submitted version when there
    is one, else the draft."""
    from shenbao.applications.formdata import form_of

    snap = application.current_snapshot
    values = (snap.values.get("values") if snap is not None else None) or application.data or {}
    form = form_of(application)
    parts = []
    if form is not None:
        title_key = form.title_field.key if form.title_field else None
        for key, f in form.fields_by_key().items():
            # the unit's name, its address… (`identity: true`) say nothing about the subject
            if f.kind in TEXT_KINDS and key != title_key and not getattr(f, "identity", False):
                parts.extend(_flatten(values.get(key)))
    return AppText(id=application.pk, title=application.title or "", content="\n".join(parts))


def application_texts(applications) -> list[AppText]:
    return [application_text(a) for a in applications]


def expert_profiles(experts) -> list[ExpertProfile]:
    return [ExpertProfile(id=e.pk, fields=[str(x) for x in (e.fields or []) if str(x).strip()],
                          keywords=[str(x) for x in (e.keywords or []) if str(x).strip()]) for e in experts]
