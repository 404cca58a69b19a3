"""Ranking (排名): each application's review score from the submitted score sheets of its live assignments,
per project type and track.

- `aggregate` (the call's `review.aggregate`): `mean`, or `trimmed_mean` — the highest and the lowest sheet
  dropped when there are at least 3 sheets (with fewer, the plain mean).
- `review.normalise`: each sheet's total becomes the expert's z-score, (x − the expert's mean) / the expert's
  standard deviation over all that expert's submitted sheets in the call (population s.d.; an expert whose
  sheets are all equal, or who has one sheet, gives z = 0), mapped back to the score scale as
  m + s·z, where m and s are the mean and population s.d. of all the call's submitted sheets. The scores
  stay on the rubric's scale and rank exactly as the experts' mean z-scores do (an increasing affine map).
- An application with fewer submitted sheets than `review.experts_per_application` is listed as
  incomplete (评分不足), with its count, and gets no score and no rank.
- Ranks are competition ranks (1, 2, 2, 4) over scores rounded to 3 decimals, so equal scores share a rank.

Reads only; nothing here changes the database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from shenbao.applications.models import Application

PLACES = Decimal("0.001")


def _q(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_UP)


def aggregate(values: Sequence[Decimal | float | int], method: str = "mean") -> Decimal | None:
    """The mean of `values`, or with `trimmed_mean` the mean after dropping one highest and one lowest
    value when there are at least 3; None for no values. Exact (Decimal), rounded to 3 decimals."""
    vals = sorted(Decimal(str(v)) for v in values)
    if not vals:
        return None
    if method == "trimmed_mean" and len(vals) >= 3:
        vals = vals[1:-1]
    elif method not in ("mean", "trimmed_mean"):
        raise ValueError(f"未知的汇总方式：{method}")
    return _q(sum(vals) / len(vals))


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    m = sum(values) / n
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / n)


def zscores(sheets: Iterable[tuple[object, object, float]]) -> dict[object, float]:
    """`sheets`: (sheet key, expert key, total). Each sheet's z-score among its expert's sheets
    (population s.d.; 0 where the expert's s.d. is 0)."""
    by_expert: dict[object, list[tuple[object, float]]] = defaultdict(list)
    for key, expert, total in sheets:
        by_expert[expert].append((key, float(total)))
    out: dict[object, float] = {}
    for rows in by_expert.values():
        m, s = _mean_sd([t for _k, t in rows])
        for key, t in rows:
            out[key] = 0.0 if s == 0 else (t - m) / s
    return out


def normalised_totals(sheets: Sequence[tuple[object, object, float]]) -> dict[object, Decimal]:
    """Each sheet's z-score (per expert) mapped back to the score scale: m + s·z with the mean and population
    s.d. of all the given sheets."""
    if not sheets:
        return {}
    z = zscores(sheets)
    m, s = _mean_sd([float(t) for _k, _e, t in sheets])
    return {key: Decimal(str(round(m + s * z[key], 6))) for key, _e, _t in sheets}


@dataclass
class Row:
    """One application in a ranking."""

    application: Application
    track_code: str | None
    sheets: int
    needed: int
    values: list[Decimal] = field(default_factory=list)  # the sheets' totals used (normalised if asked)
    score: Decimal | None = None
    track_codes: list[str] = field(default_factory=list)  # every ticked track (可叠加申报: several)
    rank: int | None = None          # within the project type
    track_rank: int | None = None    # within the track

    @property
    def complete(self) -> bool:
        return self.score is not None

    @property
    def status_text(self) -> str:
        if self.complete:
            return f"第{self.rank}名"
        return f"评分不足（已提交{self.sheets}份，需{self.needed}份）"


def competition_ranks(scores: Sequence[Decimal]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of `scores`, higher first, in the given order."""
    ordered = sorted(scores, reverse=True)
    first = {}
    for i, s in enumerate(ordered, start=1):
        first.setdefault(s, i)
    return [first[s] for s in scores]


def candidates(call, project_type=None):
    """The applications that take part in the ranking: submitted to the funder (a current version); once
    the call's screening has begun, only those it accepted (形式审查通过). Each row's call (and its type's) is `call` itself: a call's stored
    document is large, and decoding it once per row cost seconds for hundreds of rows."""
    from shenbao.review.models import Screening

    qs = (Application.objects.filter(call=call, status=Application.Status.SUBMITTED, current_snapshot__isnull=False)
          .select_related("project_type", "track", "applicant", "current_snapshot"))
    # as assignment.eligible_applications: once the call's screening has begun, only what it accepted
    if Screening.objects.filter(application__call=call).exists():
        qs = qs.filter(screening__state=Screening.State.ACCEPTED)
    if project_type is not None:
        qs = qs.filter(project_type=project_type)
    out = list(qs.order_by("project_type__order", "submitted_at", "id"))
    types = {}
    for app in out:
        app.call = call
        pt = types.setdefault(app.project_type_id, app.project_type)
        pt.call = call
        app.project_type = pt
    return out


def call_sheets(call) -> list[tuple[int, int, int, Decimal]]:
    """(sheet id, expert id, application id, total) of every submitted sheet of a live assignment in the call."""
    from shenbao.review.models import ScoreSheet

    rows = (ScoreSheet.objects.filter(state=ScoreSheet.State.SUBMITTED, total__isnull=False,
                                      assignment__removed_at__isnull=True, assignment__application__call=call)
            .values_list("pk", "assignment__expert_id", "assignment__application_id", "total"))
    return [(pk, expert, app, total) for pk, expert, app, total in rows]


def track_field_key(call, type_code: str) -> str | None:
    """The key of the type's 申报类型 field (options from the tracks), if its form asks for one."""
    from shenbao.applications import formdata

    doc = call.document
    try:
        f = formdata.track_field(doc.form_for(doc.project_type(type_code)))
    except Exception:  # a retired type without its form
        return None
    return f.key if f is not None else None


def track_codes_of(app: Application, key: str | None) -> list[str]:
    """The tracks the submitted version ticks in field `key` (several where the type allows 叠加申报), else
    the stored one."""
    values = (app.current_snapshot.values.get("values") or {}) if app.current_snapshot_id else {}
    v = values.get(key) if key else None
    if isinstance(v, str) and v:
        return [v]
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return list(dict.fromkeys(v))
    return [app.track.code] if app.track_id else []


def rank(call, project_type=None) -> dict[str, list[Row]]:
    """The ranking of each project type of the call (or of one): type code → rows, ranked rows first (by
    score, then application id), then the incomplete ones."""
    review = call.document.review
    needed = review.experts_per_application
    sheets = call_sheets(call)
    if review.normalise:
        totals = normalised_totals([(pk, expert, total) for pk, expert, _app, total in sheets])
    else:
        totals = {pk: Decimal(total) for pk, _e, _a, total in sheets}
    per_app: dict[int, list[Decimal]] = defaultdict(list)
    for pk, _expert, app_id, _total in sheets:
        per_app[app_id].append(totals[pk])
    out: dict[str, list[Row]] = {}
    keys: dict[str, str | None] = {}
    for app in candidates(call, project_type):
        vals = per_app.get(app.pk, [])
        code = app.project_type.code
        if code not in keys:
            keys[code] = track_field_key(call, code)
        codes = track_codes_of(app, keys[code])
        row = Row(application=app, track_code=codes[0] if codes else None, sheets=len(vals), needed=needed,
                  values=vals, track_codes=codes)
        if len(vals) >= needed and vals:
            row.score = aggregate(vals, review.aggregate)
        out.setdefault(app.project_type.code, []).append(row)
    for code, rows in out.items():
        done = [r for r in rows if r.complete]
        for r, k in zip(done, competition_ranks([r.score for r in done]), strict=True):
            r.rank = k
        by_track: dict[str | None, list[Row]] = defaultdict(list)
        for r in done:
            by_track[r.track_code].append(r)
        for group in by_track.values():
            for r, k in zip(group, competition_ranks([r.score for r in group]), strict=True):
                r.track_rank = k
        done.sort(key=lambda r: (r.rank, r.application.pk))
        out[code] = done + [r for r in rows if not r.complete]
    return out
