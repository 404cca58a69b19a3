"""Post-funding end to end (R-C6, 广西 2026-7 海智计划项目): the unit does the work first and applies with its
results on the results form (附表7, `post_funding.results_form`); the same screening, experts and scoring
evaluate them; funding is granted selectively; the 公示 and the award list create 后资助 projects.
Screening, assignments and score sheets are written as rows here (their services are other sub-stages')."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from shenbao.applications import services
from shenbao.applications.samples import sample_values
from shenbao.orgs.models import Role
from shenbao.projects.models import Project
from shenbao.review import notice as svc
from shenbao.review.models import Assignment, Confirmation, Decision, Expert, ScoreSheet, Screening
from tests.journey_support import reopen, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
D = dt.date


@pytest.fixture
def call(load_call):
    return reopen(load_call("guangxi2026"))


def results_values(app, *, title: str):
    doc = app.call.document
    t7 = app.project_type.document
    form = doc.results_form_for(t7)
    values = sample_values(form=form, type_doc=t7, org_name=app.applicant.name, today=timezone.localdate())
    values["project_name"] = title
    values["work_summary"] = f"{title}：已于2026年10月完成，共举办海外人才交流活动2场，参与海外专家35人。"
    return values, form


def test_2026_7_post_funded_end_to_end(client, call, make_org, make_user, django_capture_on_commit_callbacks):
    # R-C6: 本项目为后资助项目 — results by 2026-11-10 with 附表7, experts evaluate, funding granted selectively
    t7 = call.types.get(code="2026-7")
    assert t7.kind == "post_funded" and call.document.form_for(t7.document) is None
    staff = make_user("gx_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    cities = ["南宁", "柳州", "桂林"]
    titles = ["海智计划·东盟青年科学家交流会", "海智计划·海外专家柳州行", "海智计划·桂林国际人才沙龙"]
    apps = []
    for i, city in enumerate(cities):
        _org, clerk, _head = unit(make_org, make_user, name=f"{city}市科学技术协会", category="city_association",
                                  parent=call.issuer, prefix=f"gx{i}")
        if i == 0:
            # the unit sees 2026-7 as one it applies for with its results, and may start it
            client.force_login(clerk)
            offers = client.get("/apply/offers/").content.decode()
            block = offers[offers.index('data-type="2026-7"'):]
            block = block[:block.index('<div class="offer')] if '<div class="offer' in block else block
            assert "本项目为后资助项目" in block and "随活动成果提交" in block and "开始申报" in block
        app = services.create_draft(user=clerk, project_type=t7)
        values, form = results_values(app, title=titles[i])
        assert form.code == "F7"
        result = services.save_draft(user=clerk, application=app, values=values, expected_version=app.version)
        assert result.errors == {}, result.errors
        if i == 0:
            page = client.get(f"/apply/{app.pk}/edit/").content.decode()
            assert "项目完成指标" in page and "经费决算表" in page  # the results form is the type's form
        submitted = services.submit(user=clerk, application=app)
        app.refresh_from_db()
        assert app.status == "submitted" and app.title == titles[i]
        frozen = submitted.snapshot.values["values"]
        # the results as handed in: the completion indicators, the work summary, the members and the accounts
        assert {"indicators", "work_summary", "members", "final_accounts"} <= set(frozen)
        assert "35人" in frozen["work_summary"]
        apps.append(app)
    # F7 has no attachment field: the results' evidence (活动方案、新闻稿…) is listed in the notice's materials
    assert not [f for f in call.document.results_form_for(t7.document).all_fields() if f.kind == "attachment"]

    # screening (形式审查) passed, three experts of the funder's pool score each
    now = timezone.now()
    for app in apps:
        Screening.objects.create(application=app, state=Screening.State.ACCEPTED, decided_by=staff, decided_at=now)
    experts = [Expert.objects.create(funder=call.issuer, name=f"专家{i}", organisation_name="广西大学",
                                     fields=["国际科技交流"]) for i in range(3)]
    scores = {apps[0].pk: [88, 90, 86], apps[1].pk: [70, 65, 72], apps[2].pk: [84, 80, 85]}
    for app in apps:
        for expert, total in zip(experts, scores[app.pk], strict=True):
            a = Assignment.objects.create(application=app, expert=expert, created_by=staff)
            ScoreSheet.objects.create(assignment=a, total=Decimal(total), state=ScoreSheet.State.SUBMITTED,
                                      values={"total": total}, comment="活动成果扎实，海外专家参与度高，建议资助。",
                                      submitted_at=now)
    means = {pk: sum(v) / len(v) for pk, v in scores.items()}
    ranked = sorted(apps, key=lambda a: -means[a.pk])
    # funding granted selectively: the two best within the cap of 3万元, the third not
    cap = call.document.project_type("2026-7").funding.cap
    amounts = {ranked[0].pk: 30000, ranked[1].pk: 25000}
    for rank, app in enumerate(ranked, 1):
        Decision.objects.create(application=app, state="proposed" if app.pk in amounts else "not_selected",
                                amount=amounts.get(app.pk), score=Decimal(f"{means[app.pk]:.3f}"), rank=rank)
    assert all(a <= cap for a in amounts.values())
    Confirmation.objects.create(call=call, party=Confirmation.Party.FUNDER, by=staff, at=now)

    # 公示 after the results were evaluated: 5 working days from Fri 20 Nov 2026 → 20, 23, 24, 25, 26 Nov
    notice = svc.publish_notice(actor=staff, call=call, on=D(2026, 11, 20))
    assert notice.ends_on == D(2026, 11, 26)
    assert [e["title"] for e in notice.entries] == [ranked[0].title, ranked[1].title]
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        svc.publish_award(actor=staff, notice=notice, on=D(2026, 11, 27))

    projects = list(Project.objects.order_by("amount"))
    assert [(p.application_id, p.kind, p.amount) for p in projects] == [
        (ranked[1].pk, "post_funded", 25000), (ranked[0].pk, "post_funded", 30000)]
    p = projects[1]
    assert (p.call, p.project_type, p.year, p.programme, p.awarded_on) == (
        call, t7, 2026, call.programme_code, D(2026, 11, 27))
    assert "35人" in p.content  # the results' long texts are the project's content
    assert not Project.objects.filter(application=ranked[2]).exists()
    assert len(django_mail.outbox) == 3  # every unit hears its result
    assert Decision.objects.get(application=ranked[2]).state == "not_selected"
