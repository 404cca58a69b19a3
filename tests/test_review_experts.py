"""The expert pool (issue 8 item 2): XLSX import with an error per bad row (row, column, problem) and nothing
saved, the unit matched to the tree, bank columns never stored, export and a round trip, phones masked for
roles that do not need them, pages for staff, the expert's login, the gate (保密承诺 and 回避申报 before
anything), experts see only what is assigned to them; the API with the same permissions."""

from __future__ import annotations

import io

import pytest
from django.core import mail as django_mail
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from shenbao.applications.models import Application
from shenbao.core.models import AuditEvent, Job
from shenbao.orgs.models import Organisation, Role, RoleAssignment, User
from shenbao.review import conflicts, experts, permissions
from shenbao.review.models import Assignment, ConflictOverride, Expert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

HEAD = ["姓名", "工作单位", "职称", "专业领域", "研究方向关键词", "所在地区", "手机号码", "电子邮箱"]


def sheet(rows, head=HEAD) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rows_of(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).active
    return [[("" if v is None else v) for v in row] for row in ws.iter_rows(values_only=True)]


@pytest.fixture
def call(load_call):
    return load_call("liuzhou2026")


@pytest.fixture
def people(call, make_org, make_user):
    funder = call.issuer
    uni = make_org("广西科技大学", "other_unit", parent=funder)
    soc = make_org("柳州市机械工程学会", "city_society", parent=funder)
    return {
        "funder": funder, "uni": uni, "soc": soc,
        "staff": make_user("pool_staff", org=funder, roles=(Role.FUNDER_STAFF,)),
        "leader": make_user("pool_leader", org=funder, roles=(Role.FUNDER_LEADER,)),
        "clerk": make_user("pool_clerk", org=soc, roles=(Role.APPLICANT_CLERK,)),
    }


GOOD = [
    ["张三", "广西科技大学", "教授", "机械工程、智能制造", "工业机器人，数控技术", "广西柳州", "13800138000", "zhang@gxust.edu.cn"],
    ["李四", "柳州市第一职业技术学校", "高级讲师", "职业教育", "", "柳州", "13900139000", ""],
    ["王五", " 柳州市机械工程学会 ", "研究员", "机械", "", "", "", "wang@lzjx.org.cn"],
]


# --- import ------------------------------------------------------------------------------------------


def test_import_saves_nothing_and_names_every_bad_row(people):
    bad = sheet([
        GOOD[0],
        ["", "某单位", "", "", "", "", "13700137000", ""],  # row 3: no name
        ["赵六", "某单位", "", "", "", "", "1380013", ""],  # row 4: bad phone
        ["钱七", "某单位", "", "", "", "", "", "not-an-email"],  # row 5: bad e-mail
        ["孙八", "某单位", "", "", "", "", "138 0013 8000", ""],  # row 6: the phone of row 2
        ["周九", "", "", "", "", "", "", ""],  # row 7: no unit, no way to reach
    ])
    result = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=bad)
    assert not result.ok
    got = [(e.row, e.column, e.problem) for e in result.errors]
    assert got == [
        (3, "姓名", "必填，不能为空"),
        (4, "手机号码", "手机号码格式不正确：应为11位数字，以13–19开头，如 13800138000"),
        (5, "电子邮箱", "电子邮箱格式不正确"),
        (6, "手机号码", "与第2行的手机号码重复"),
        (7, "工作单位", "必填，不能为空"),
        (7, "手机号码", "手机号码和电子邮箱至少填写一项，以便联系专家"),
    ]
    assert not Expert.objects.exists()  # the good row 2 is not saved either
    assert not AuditEvent.objects.filter(action="review.expert.import").exists()


def test_import_file_problems_are_reported(people):
    r = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=b"not a workbook")
    assert [(e.row, e.problem[:7]) for e in r.errors] == [(0, "文件无法读取：")]
    r = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=sheet([["张三"]], head=["姓名"]))
    assert [(e.row, e.column, e.problem) for e in r.errors] == [(1, "工作单位", "缺少必需的列")]
    assert not Expert.objects.exists()


def test_import_matches_units_ignores_bank_columns_and_is_audited(people):
    content = sheet([[*row, "中国银行柳州分行", "6222020000000000000"] for row in GOOD], head=[*HEAD, "开户银行", "银行账号"])
    result = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=content)
    assert result.ok and (result.created, result.updated) == (3, 0)
    assert result.ignored_columns == ["开户银行", "银行账号"]
    zhang = Expert.objects.get(name="张三")
    assert zhang.organisation == people["uni"]  # matched to the tree
    assert zhang.fields == ["机械工程", "智能制造"] and zhang.keywords == ["工业机器人", "数控技术"]
    assert Expert.objects.get(name="王五").organisation == people["soc"]  # spaces around the name ignored
    assert Expert.objects.get(name="李四").organisation is None  # not on the platform
    stored = [str(v) for e in Expert.objects.values() for v in e.values()]
    assert not any("6222020000000000000" in v or "中国银行" in v for v in stored)  # bank details never stored
    event = AuditEvent.objects.get(action="review.expert.import")
    assert event.after["created"] == 3 and "银行账号" in event.note


def test_import_page_queues_a_job_that_shows_row_errors_or_the_counts(client, people, media,
                                                                     django_capture_on_commit_callbacks):
    # the request checks the upload and queues the import; the job's page shows every problem by row and
    # column (nothing saved), or the counts (tasks run at once here: the immediate backend)
    client.force_login(people["staff"])
    bad = sheet([GOOD[0], ["赵六", "某单位", "", "", "", "", "12345", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("review:experts_import"), {"file": io.BytesIO(bad)})
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == job.get_absolute_url()
    assert job.state == "failed" and job.owner == people["staff"]
    page = client.get(r["Location"]).content.decode()
    assert "发现 1 处错误，未导入任何数据" in page and "第3行 · 手机号码：手机号码格式不正确" in page
    assert not Expert.objects.exists() and not AuditEvent.objects.filter(action="review.expert.import").exists()
    assert not list((media / "imports" / "experts").iterdir())  # the kept upload is gone once read
    ok = io.BytesIO(sheet(GOOD))
    ok.name = "experts.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("review:experts_import"), {"file": ok})
    job = Job.objects.exclude(pk=job.pk).get()
    assert r["Location"] == job.get_absolute_url() and job.state == "done"
    page = client.get(r["Location"]).content.decode()
    assert "导入完成：新增 3 位，更新 0 位，未变 0 位" in page and "查看专家库" in page
    assert Expert.objects.count() == 3
    assert AuditEvent.objects.get(action="review.expert.import").after["created"] == 3


def test_import_upload_checked_in_the_request_before_queueing(client, people, media, monkeypatch):
    client.force_login(people["staff"])
    r = client.post(reverse("review:experts_import"), {"file": io.BytesIO(b"not a workbook")})
    page = r.content.decode()
    assert r.status_code == 400 and 'id="import-errors"' in page and "文件无法读取" in page
    monkeypatch.setattr(experts, "MAX_BYTES", 100)
    r = client.post(reverse("review:experts_import"), {"file": io.BytesIO(sheet(GOOD))})
    assert r.status_code == 400 and "请拆分后导入" in r.content.decode()
    assert not Job.objects.exists() and not (media / "imports").exists()
    client.force_login(people["leader"])
    r = client.post(reverse("review:experts_import"), {"file": io.BytesIO(sheet(GOOD))})
    assert r.status_code == 403 and not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_import_job_waits_for_the_worker_and_is_done_once(client, people, media, db_queue, tmp_path):
    import subprocess

    from tests import tasks_support

    client.force_login(people["staff"])
    r = client.post(reverse("review:experts_import"), {"file": io.BytesIO(sheet(GOOD))})
    job = Job.objects.get()
    assert r["Location"] == job.get_absolute_url() and job.state == "queued" and not Expert.objects.exists()
    kept = list((media / "imports" / "experts").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"PK")
    run = subprocess.run(tasks_support.worker_command("--batch"), env=tasks_support.worker_env(
        tmp_path, SHENBAO_MEDIA_ROOT=media), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    job.refresh_from_db()
    assert job.state == "done" and job.message.startswith("导入完成：新增 3 位"), (job.state, job.error)
    assert Expert.objects.count() == 3 and not kept[0].exists()
    # the same job run again (its worker died after the import) imports nothing twice
    Job.objects.filter(pk=job.pk).update(state="running")
    experts.import_job.call(job_id=job.pk, funder_id=people["funder"].pk, path="gone.xlsx")
    job.refresh_from_db()
    assert job.state == "done" and job.message == "导入已完成"
    assert AuditEvent.objects.filter(action="review.expert.import").count() == 1 and Expert.objects.count() == 3


def test_import_refused_to_others(people):
    for who in ("leader", "clerk"):
        with pytest.raises(experts.NotAllowed):
            experts.import_xlsx(actor=people[who], funder=people["funder"], content=sheet(GOOD))
    assert not Expert.objects.exists()


# --- export, round trip, masking ------------------------------------------------------------------------


def test_export_round_trip(people):
    experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=sheet(GOOD))
    exported = experts.export_xlsx(user=people["staff"], funder=people["funder"])
    rows = rows_of(exported)
    assert rows[0][:8] == HEAD
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["张三"][:8] == ["张三", "广西科技大学", "教授", "机械工程、智能制造", "工业机器人、数控技术", "广西柳州",
                                  "13800138000", "zhang@gxust.edu.cn"]
    before = list(Expert.objects.order_by("pk").values())
    again = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=exported)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 3)
    after = list(Expert.objects.order_by("pk").values())
    assert [{k: v for k, v in e.items() if k != "updated_at"} for e in after] == \
           [{k: v for k, v in e.items() if k != "updated_at"} for e in before]
    # a changed title in the sheet updates that expert, matched by the phone
    ws_rows = rows_of(exported)
    ws_rows[1 + [r[0] for r in ws_rows[1:]].index("张三")][2] = "二级教授"
    changed = sheet([r[:8] for r in ws_rows[1:]])
    r = experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=changed)
    assert (r.created, r.updated, r.unchanged) == (0, 1, 2)
    assert Expert.objects.get(name="张三").title == "二级教授"


def test_phones_masked_for_the_leader_not_for_staff(client, people):
    experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=sheet(GOOD))
    staff_rows = {r[0]: r for r in rows_of(experts.export_xlsx(user=people["staff"], funder=people["funder"]))}
    leader_rows = {r[0]: r for r in rows_of(experts.export_xlsx(user=people["leader"], funder=people["funder"]))}
    assert staff_rows["张三"][6] == "13800138000"
    assert leader_rows["张三"][6] == "138****8000" and leader_rows["张三"][7] == "z***@gxust.edu.cn"
    # the pages and the API alike
    client.force_login(people["leader"])
    page = client.get(reverse("review:experts")).content.decode()
    assert "138****8000" in page and "13800138000" not in page
    api = client.get("/api/v1/review/experts").json()
    assert {e["name"]: e["phone"] for e in api}["张三"] == "138****8000"
    zhang = Expert.objects.get(name="张三")
    page = client.get(reverse("review:expert", args=[zhang.pk])).content.decode()
    assert "138****8000" in page and "13800138000" not in page and 'id="expert-form"' not in page  # read only
    client.force_login(people["staff"])
    assert "13800138000" in client.get(reverse("review:experts")).content.decode()
    assert AuditEvent.objects.filter(action="review.expert.export").count() == 2


def test_export_refused_to_a_clerk(client, people):
    with pytest.raises(experts.NotAllowed):
        experts.export_xlsx(user=people["clerk"], funder=people["funder"])
    client.force_login(people["clerk"])
    r = client.get(reverse("review:experts_export"))
    assert r.status_code == 403 and "评审专家库" in r.content.decode()


# --- pages for staff ------------------------------------------------------------------------------------


def test_staff_add_edit_search_and_deactivate_on_pages(client, people):
    client.force_login(people["staff"])
    home = client.get(reverse("orgs:home")).content.decode()
    assert f'href="{reverse("review:experts")}"' in home  # reachable from the work bench
    data = {"name": "吴十", "organisation_name": "广西科技大学", "title": "副教授", "fields": "材料、化工",
            "keywords": "", "region": "柳州", "phone": "1380013", "email": ""}
    r = client.post(reverse("review:expert_new"), data)
    assert r.status_code == 200 and "手机号码格式不正确" in r.content.decode() and not Expert.objects.exists()
    data["phone"] = "13600136000"
    r = client.post(reverse("review:expert_new"), data)
    e = Expert.objects.get()
    assert r.status_code == 302 and e.organisation == people["uni"] and e.fields == ["材料", "化工"]
    client.post(reverse("review:expert_new"), data)  # the same phone again: refused, not a second expert
    assert Expert.objects.count() == 1
    r = client.post(reverse("review:expert", args=[e.pk]), {**data, "title": "教授"})
    e.refresh_from_db()
    assert r.status_code == 302 and e.title == "教授"
    assert AuditEvent.objects.filter(action="review.expert.update", object_id=str(e.pk)).exists()
    assert "吴十" in client.get(reverse("review:experts"), {"q": "材料"}).content.decode()
    assert "吴十" not in client.get(reverse("review:experts"), {"q": "生物"}).content.decode()
    client.post(reverse("review:expert_active", args=[e.pk]), {"active": "0", "reason": "退休"})
    e.refresh_from_db()
    assert not e.active and Expert.objects.filter(pk=e.pk).exists()  # kept, not deleted
    assert "吴十" not in client.get(reverse("review:experts")).content.decode()
    assert "吴十" in client.get(reverse("review:experts"), {"show": "inactive"}).content.decode()


def test_pool_refused_to_others_with_the_reason(client, people, load_call, make_user):
    # R-V1: the funder runs the expert review with its own pool; another funder's staff cannot touch it
    client.force_login(people["clerk"])
    r = client.get(reverse("review:experts"))
    assert r.status_code == 403 and "只有主办方业务人员和领导可以查看本单位的评审专家库" in r.content.decode()
    e = Expert.objects.create(funder=people["funder"], name="甲", organisation_name="某单位", phone="13500135000")
    other = make_user("hn_staff", org=load_call("hunan2024").issuer, roles=(Role.FUNDER_STAFF,))
    client.force_login(other)
    assert client.get(reverse("review:expert", args=[e.pk])).status_code == 403
    assert client.post(reverse("review:expert_active", args=[e.pk]), {"active": "0"}).status_code == 403
    assert Expert.objects.get(pk=e.pk).active


# --- the expert's login and gate -----------------------------------------------------------------------


@pytest.fixture
def expert_with_login(people, django_capture_on_commit_callbacks):
    e = experts.create_expert(actor=people["staff"], funder=people["funder"], data={
        "name": "郑专家", "organisation_name": "广西科技大学", "phone": "13300133000", "email": "zheng@example.cn"})
    with django_capture_on_commit_callbacks(execute=True):
        user = experts.create_login(actor=people["staff"], expert=e, username="zheng_expert")
    e.refresh_from_db()
    user.set_password("Zheng#2026pass")
    user.save()
    return e, user


def test_staff_create_the_login_and_the_link_goes_to_the_expert(people, expert_with_login):
    e, user = expert_with_login
    assert e.user == user and user.display_name == "郑专家" and user.organisation == people["funder"]
    assert RoleAssignment.objects.filter(user=user, role=Role.EXPERT, organisation=people["funder"]).exists()
    assert [m.to for m in django_mail.outbox] == [["zheng@example.cn"]] and "zheng_expert" in django_mail.outbox[0].body
    # a double submit opens nothing more
    assert experts.create_login(actor=people["staff"], expert=e, username="other_name") == user
    assert User.objects.filter(username="other_name").count() == 0
    event = AuditEvent.objects.get(action="review.expert.login_create")
    assert "zheng@example.cn" not in str(event.after)  # masked in the log


def test_login_needs_an_email(people):
    e = experts.create_expert(actor=people["staff"], funder=people["funder"], data={
        "name": "无邮箱", "organisation_name": "某单位", "phone": "13200132000"})
    with pytest.raises(experts.ExpertInvalid, match="电子邮箱"):
        experts.create_login(actor=people["staff"], expert=e, username="no_mail")
    with pytest.raises(experts.NotAllowed):
        experts.create_login(actor=people["clerk"], expert=e, username="no_mail")
    assert not User.objects.filter(username="no_mail").exists()


def test_gate_pledge_then_declaration_before_anything(client, call, people, expert_with_login):
    e, user = expert_with_login
    d = permissions.expert_gate(user)
    assert not d and d.reason == "请先阅读并接受保密承诺"
    assert not permissions.expert_gate(people["clerk"])
    client.force_login(user)
    r = client.get(reverse("review:mine"))
    assert r.status_code == 302 and r["Location"] == reverse("review:pledge")
    assert client.get(reverse("review:declare"))["Location"] == reverse("review:pledge")
    r = client.post(reverse("review:pledge"), {})  # the box not ticked
    e.refresh_from_db()
    assert e.pledge_accepted_at is None
    r = client.post(reverse("review:pledge"), {"agree": "1"})
    assert r["Location"] == reverse("review:declare")
    d = permissions.expert_gate(user)
    assert not d and "回避申报" in d.reason
    assert client.get(reverse("review:mine"))["Location"] == reverse("review:declare")

    # declare a relation: an unknown unit refused with the reason, a known one recorded
    r = client.post(reverse("review:declare"), {"action": "add", "unit": "不存在的单位", "reason": "兼职"})
    assert r.status_code == 400 and "平台上没有名为“不存在的单位”的单位" in r.content.decode()
    client.post(reverse("review:declare"), {"action": "add", "unit": "柳州市机械工程学会", "reason": "本人任该学会理事"})
    o = ConflictOverride.objects.get(expert=e)
    assert (o.kind, o.organisation, o.created_by) == ("declared", people["soc"], user)
    r = client.post(reverse("review:declare"), {"action": "finish"})
    assert r["Location"] == reverse("review:mine")
    assert permissions.expert_gate(user)
    assert client.get(reverse("review:mine")).status_code == 200
    actions = set(AuditEvent.objects.filter(object_id=str(e.pk)).values_list("action", flat=True))
    assert {"review.expert.pledge", "review.expert.declared"} <= actions
    # the declaration counts as a conflict with the unit's applications
    app = Application.objects.create(call=call, project_type=call.types.first(), applicant=people["soc"],
                                     status="submitted")
    assert [c.code for c in conflicts.conflict_causes(app, e)] == ["declared"]


def test_deactivated_expert_is_refused_by_the_gate(people, expert_with_login):
    e, user = expert_with_login
    experts.accept_pledge(actor=user, expert=e)
    experts.finish_declaration(actor=user, expert=e)
    assert permissions.expert_gate(user)
    experts.set_active(actor=people["staff"], expert=e, active=False, reason="退休")
    user = User.objects.get(pk=user.pk)  # a new request
    d = permissions.expert_gate(user)
    assert not d and d.reason == "您已不在专家库中，不能参加评审"


def test_expert_sees_only_what_is_assigned(client, call, people, expert_with_login):
    # R-V1: the expert review the funder runs: an expert sees only the applications assigned to them
    e, user = expert_with_login
    experts.accept_pledge(actor=user, expert=e)
    experts.finish_declaration(actor=user, expert=e)
    ptype = call.types.first()
    mine = Application.objects.create(call=call, project_type=ptype, applicant=people["soc"], title="分配给我的项目",
                                      number="2026-1-0001", status="submitted", submitted_at=timezone.now())
    other = Application.objects.create(call=call, project_type=ptype, applicant=people["soc"], title="别人的项目",
                                       number="2026-1-0002", status="submitted", submitted_at=timezone.now())
    gone = Application.objects.create(call=call, project_type=ptype, applicant=people["soc"], title="已撤回分配的项目",
                                      number="2026-1-0003", status="submitted", submitted_at=timezone.now())
    Assignment.objects.create(application=mine, expert=e)
    Assignment.objects.create(application=gone, expert=e, removed_at=timezone.now())
    user = User.objects.get(pk=user.pk)
    assert permissions.can_see_application_as_expert(user, mine)
    d = permissions.can_see_application_as_expert(user, other)
    assert not d and d.reason == "该申报项目未分配给您评审"
    assert not permissions.can_see_application_as_expert(user, gone)
    client.force_login(user)
    page = client.get(reverse("review:mine")).content.decode()
    assert "分配给我的项目" in page and "别人的项目" not in page and "已撤回分配的项目" not in page
    live = Assignment.objects.get(application=mine, removed_at__isnull=True)
    assert f'href="{reverse("review:scoring_score", args=[live.pk])}"' in page  # the scoring area's page
    # the staff pages are not the expert's
    assert client.get(reverse("review:experts")).status_code == 403
    assert client.get(reverse("review:application_conflicts", args=[other.pk])).status_code == 403


# --- conflicts pages --------------------------------------------------------------------------------


def test_conflict_pages_show_causes_and_pin_and_lift_with_a_reason(client, call, people):
    experts.import_xlsx(actor=people["staff"], funder=people["funder"], content=sheet(GOOD))
    zhang, li = Expert.objects.get(name="张三"), Expert.objects.get(name="李四")
    app = Application.objects.create(call=call, project_type=call.types.first(), applicant=people["uni"],
                                     title="智能制造项目", number="2026-1-0009", status="submitted",
                                     submitted_at=timezone.now())
    client.force_login(people["staff"])
    page = client.get(reverse("review:application_conflicts", args=[app.pk])).content.decode()
    assert f'data-expert="{zhang.pk}"' in page and "专家所在单位与申报单位相同（广西科技大学）" in page
    assert f'data-expert="{li.pk}"' not in page
    page = client.get(reverse("review:expert_conflicts", args=[zhang.pk])).content.decode()
    assert f'data-app="{app.pk}"' in page
    # from the pool page, by the application number
    assert 'id="app-conflicts-lookup"' in client.get(reverse("review:experts")).content.decode()
    r = client.get(reverse("review:application_conflicts_lookup"), {"number": "2026-1-0009"})
    assert r["Location"] == reverse("review:application_conflicts", args=[app.pk])
    r = client.get(reverse("review:application_conflicts_lookup"), {"number": "2026-9-9999"}, follow=True)
    assert "未找到该申报项目" in r.content.decode()

    # a pin by the application number, without a reason: refused, nothing recorded
    r = client.post(reverse("review:override_add"), {"expert": li.pk, "number": "2026-1-0009", "kind": "pinned",
                                                      "reason": ""}, follow=True)
    assert "请填写理由" in r.content.decode() and not ConflictOverride.objects.exists()
    client.post(reverse("review:override_add"), {"expert": li.pk, "number": "2026-1-0009", "kind": "pinned",
                                                  "reason": "曾指导该项目负责人"})
    client.post(reverse("review:override_add"), {"expert": zhang.pk, "application": app.pk, "kind": "lifted",
                                                  "reason": "已于2023年调离该校"})
    page = client.get(reverse("review:application_conflicts", args=[app.pk])).content.decode()
    assert "工作人员设定回避：曾指导该项目负责人" in page
    assert 'data-lifted="1"' in page and "已解除" in page  # the lifted cause is still shown, struck
    assert conflicts.conflict_causes(app, zhang) == []
    assert AuditEvent.objects.filter(action__in=["review.conflict.pinned", "review.conflict.lifted"]).count() == 2
    # the leader reads the page but cannot pin
    client.force_login(people["leader"])
    assert client.get(reverse("review:application_conflicts", args=[app.pk])).status_code == 200
    r = client.post(reverse("review:override_add"), {"expert": li.pk, "application": app.pk, "kind": "lifted",
                                                      "reason": "x"})
    assert r.status_code == 403 and ConflictOverride.objects.count() == 2


# --- API ----------------------------------------------------------------------------------------------


def test_api_list_create_update_import_and_conflicts(client, call, people):
    client.force_login(people["staff"])
    r = client.post("/api/v1/review/experts", {"name": "甲", "organisation_name": "广西科技大学", "phone": "123"},
                    content_type="application/json")
    assert r.status_code == 422 and "phone" in r.json()["errors"]
    r = client.post("/api/v1/review/experts", {"name": "甲", "organisation_name": "广西科技大学", "phone": "13100131000",
                                               "fields": ["机械"]}, content_type="application/json")
    assert r.status_code == 201
    pk = r.json()["id"]
    assert r.json()["organisation_id"] == people["uni"].pk and r.json()["phone"] == "13100131000"
    r = client.put(f"/api/v1/review/experts/{pk}", {"name": "甲", "organisation_name": "广西科技大学",
                                                    "phone": "13100131000", "title": "教授", "active": False},
                   content_type="application/json")
    assert r.status_code == 200 and r.json()["title"] == "教授" and r.json()["active"] is False
    bad = sheet([["乙", "某单位", "", "", "", "", "99", ""]])
    r = client.post("/api/v1/review/experts/import", {"file": io.BytesIO(bad)})
    assert r.status_code == 422 and r.json()["saved"] is False
    assert r.json()["errors"] == [{"row": 2, "column": "手机号码",
                                   "problem": "手机号码格式不正确：应为11位数字，以13–19开头，如 13800138000"}]
    r = client.post("/api/v1/review/experts/import", {"file": io.BytesIO(sheet(GOOD))})
    assert r.status_code == 200 and r.json()["created"] == 3
    app = Application.objects.create(call=call, project_type=call.types.first(), applicant=people["uni"],
                                     title="x", number="2026-1-0010", status="submitted")
    r = client.get(f"/api/v1/review/applications/{app.pk}/conflicts")
    assert r.status_code == 200
    assert [(c["expert_name"], [x["code"] for x in c["causes"]]) for c in r.json()] == [("张三", ["same_org"])]
    zhang = Expert.objects.get(name="张三")
    r = client.post("/api/v1/review/conflicts", {"expert_id": zhang.pk, "application_id": app.pk, "kind": "lifted",
                                                 "reason": "已调离"}, content_type="application/json")
    assert r.status_code == 201
    body = client.get(f"/api/v1/review/applications/{app.pk}/conflicts").json()
    assert body[0]["causes"] == [] and body[0]["lifted"][0]["code"] == "same_org"
    # the clerk: refused with the reason
    client.force_login(people["clerk"])
    for r in (client.get("/api/v1/review/experts"), client.get(f"/api/v1/review/applications/{app.pk}/conflicts"),
              client.post("/api/v1/review/conflicts", {"expert_id": zhang.pk, "application_id": app.pk,
                                                       "kind": "pinned", "reason": "x"},
                          content_type="application/json")):
        assert r.status_code == 403 and r.json()["detail"]


def test_demo_pool_and_expert_login(catalogue):
    """`shenbao demo` gives 柳州市科协 a pool whose first expert is the `expert` login, at the gate's first step."""
    from shenbao.demo import data as demo

    demo.ensure_demo_data()
    assert demo.ensure_demo_experts() == demo.ensure_demo_experts()  # idempotent
    funder = Organisation.objects.get(name="柳州市科学技术协会")
    assert Expert.objects.filter(funder=funder).count() == len(demo.DEMO_EXPERTS)
    user = User.objects.get(username="expert")
    assert user.expert.funder == funder
    d = permissions.expert_gate(user)
    assert not d and d.reason == "请先阅读并接受保密承诺"
