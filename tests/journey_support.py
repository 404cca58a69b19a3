"""Helpers shared by the applicant-journey tests (applications, submission, scans, browser)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shenbao.applications import services
from shenbao.applications.samples import sample_values
from shenbao.calls.models import Call
from shenbao.orgs.models import Role

PASSWORD = "Shenbao#2026"


def reopen(call: Call, *, days: int = 30) -> Call:
    """The five notices' deadlines are in the past: tests run as if the call were open, by moving the
    deadline (the row's instant, which every rule reads) `days` ahead."""
    at = timezone.now() + dt.timedelta(days=days)
    Call.objects.filter(pk=call.pk).update(deadline=at, opens_at=None)
    call.types.filter(own_deadline__isnull=False).update(own_deadline=at)  # a post-funded type's results day
    return Call.objects.get(pk=call.pk)


def set_deadline(call: Call, at: dt.datetime) -> Call:
    Call.objects.filter(pk=call.pk).update(deadline=at)
    return Call.objects.get(pk=call.pk)


def unit(make_org, make_user, *, name: str, category: str, parent, prefix: str, head: bool = True, **org_fields):
    """An approved applicant unit with a clerk (and a head)."""
    org = make_org(name, category, parent=parent, **org_fields)
    clerk = make_user(f"{prefix}_clerk", org=org, roles=(Role.APPLICANT_CLERK,), email=f"{prefix}@example.cn")
    boss = make_user(f"{prefix}_head", org=org, roles=(Role.UNIT_HEAD,)) if head else None
    return org, clerk, boss


def values_for(app, *, overrides: dict | None = None) -> dict:
    call = app.call
    doc = call.document
    ptype = app.project_type.document
    form = doc.form_for(ptype)
    return sample_values(form=form, type_doc=ptype, org_name=app.applicant.name,
                         track=app.track.code if app.track_id else None, today=timezone.localdate(),
                         overrides=overrides)


def post_form(values: dict) -> dict:
    """The POST the edit page's inputs send for `values` (names f-<key>, f-<key>-<part>, f-<key>-<row>-<col>):
    the page tests, the flow's statement count and bench/bench_flow.py post forms as a browser does."""
    data: dict = {}
    for key, v in values.items():
        if isinstance(v, dict):
            for part, pv in v.items():
                data[f"f-{key}-{part}"] = "" if pv is None else str(pv)
        elif isinstance(v, list):
            for i, row in enumerate(v):
                if isinstance(row, dict):
                    for col, cv in row.items():
                        data[f"f-{key}-{i}-{col}"] = str(cv)
                else:
                    data.setdefault(f"f-{key}", []).append(row)
        else:
            data[f"f-{key}"] = "" if v is None else str(v)
    return data


def filled_draft(user, call, type_code: str, track: str | None = None, *, overrides: dict | None = None):
    """A draft of `type_code` with a complete, valid form."""
    ptype = call.types.get(code=type_code)
    tr = ptype.tracks.get(code=track) if track else None
    app = services.create_draft(user=user, project_type=ptype, track=tr)
    services.save_draft(user=user, application=app, values=values_for(app, overrides=overrides),
                        expected_version=app.version)
    app.refresh_from_db()
    return app


def approve_own(app, clerk, head, *, kind: str | None = None, name: str = "2026年第一次理事会"):
    """R-E8 done: the meeting recorded and the head's acceptance."""
    rule = services.meeting_rule(app)
    services.record_own_approval(user=clerk, application=app, meeting_kind=kind or rule.kinds[0], meeting_name=name,
                                 meeting_date=timezone.localdate() - dt.timedelta(days=3))
    services.accept_commitment(user=head, application=app)
