"""A type with its own submission deadline: 广西 2026-7 (后资助) takes its results until 2026-11-10, long
after the call's 2026-04-22 deadline (R-C6)."""

from __future__ import annotations

import datetime as dt

import pytest

from shenbao.applications import eligibility
from shenbao.calls.schema import SHANGHAI

pytestmark = pytest.mark.django_db


def at(y, m, d, h=12):
    return dt.datetime(y, m, d, h, tzinfo=SHANGHAI)


def test_a_post_funded_type_is_open_until_its_results_day(load_call, make_org):
    # R-C6: 2026年11月10日前按要求提交活动成果 — the call itself closed on 2026-04-22
    call = load_call("guangxi2026")
    t7, t1 = call.types.get(code="2026-7"), call.types.get(code="2026-1")
    assert t7.own_deadline == dt.datetime(2026, 11, 10, 23, 59, 59, tzinfo=SHANGHAI)
    assert t1.own_deadline is None and t1.deadline == call.deadline
    org = make_org("南宁市科学技术协会", "city_association", parent=call.issuer)

    def closed(ptype, when):
        verdict = eligibility.check(org=org, call=call, project_type=ptype, at=when)
        return [r.message for r in verdict.reasons if r.code == "deadline"]

    assert closed(t1, at(2026, 5, 1)) == ["申报已于2026年4月22日截止"]
    assert closed(t7, at(2026, 5, 1)) == []
    assert closed(t7, at(2026, 11, 10, 20)) == []
    assert closed(t7, at(2026, 11, 11)) == ["申报已于2026年11月10日截止"]
    # 可申报项目 in May offers 2026-7 alone of this call; after the results day, nothing
    may = [o.project_type.code for o in eligibility.eligible_offers(org=org, at=at(2026, 5, 1))
           if o.call.pk == call.pk]
    assert may == ["2026-7"]
    assert not [o for o in eligibility.eligible_offers(org=org, at=at(2026, 11, 11)) if o.call.pk == call.pk]
    # before the call's deadline every type is offered, 2026-7 among them
    april = {o.project_type.code for o in eligibility.eligible_offers(org=org, at=at(2026, 4, 1))
             if o.call.pk == call.pk}
    assert {"2026-1", "2026-7"} <= april


def test_a_type_deadline_in_the_file_wins_and_must_carry_its_zone():
    from shenbao.calls import schema

    base = {"kind": "post_funded", "quota": {"kind": "unstated"}, "funding": {"kind": "by_review"}, "post_funding": {"work_done_by": "2026-10-31", "results_due": "2026-11-10"}}
    t = schema.ProjectType.model_validate({"code": "x", "name": "后资助", **base,
                                           "deadline": "2026-11-05T17:00:00+08:00"})
    assert t.deadline == dt.datetime(2026, 11, 5, 17, tzinfo=SHANGHAI)
    with pytest.raises(Exception, match="时区"):
        schema.ProjectType.model_validate({"code": "x", "name": "后资助", **base, "deadline": "2026-11-05T17:00:00"})
