"""Demo organisations and users: one of each role, on the five calls' issuers. Idempotent."""

from __future__ import annotations

import re

from django.db import transaction

from shenbao.orgs.models import ADMIN_ROLES, Category, Organisation, OrgAttribute, Role, RoleAssignment, User

DEMO_PASSWORD = "Demo#2026"  # noqa: S105 (the documented demo password)

# name, category, parent name, credit code (valid GB 32100 check digits)
ORGS = [
    ("中国科学技术协会", "national_association", None, None),
    ("广西壮族自治区科学技术协会", "province_association", "中国科学技术协会", None),
    ("湖南省科学技术协会", "province_association", "中国科学技术协会", None),
    ("柳州市科学技术协会", "city_association", "广西壮族自治区科学技术协会", None),
    ("常德市科学技术协会", "city_association", "湖南省科学技术协会", None),
    ("柳州市鱼峰区科学技术协会", "county_association", "柳州市科学技术协会", None),
    ("柳州市机械工程学会", "city_society", "柳州市科学技术协会", "51450200MJ0000001X"),
    ("广西机械工程学会", "province_society", "广西壮族自治区科学技术协会", "51450000MJ0000002X"),
    ("柳州工学院科学技术协会", "university_association", "柳州市科学技术协会", "51450200MJ0000003X"),
    ("常德市农学会", "city_society", "常德市科学技术协会", "51430700MJ0000004X"),
]

# username, role, organisation name
USERS = [
    ("clerk", Role.APPLICANT_CLERK, "柳州市机械工程学会"),
    ("head", Role.UNIT_HEAD, "柳州市机械工程学会"),
    ("gx_clerk", Role.APPLICANT_CLERK, "广西机械工程学会"),
    ("cd_clerk", Role.APPLICANT_CLERK, "常德市农学会"),
    ("uni_clerk", Role.APPLICANT_CLERK, "柳州工学院科学技术协会"),
    ("home", Role.HOME_REVIEWER, "柳州市科学技术协会"),
    ("funder", Role.FUNDER_STAFF, "柳州市科学技术协会"),
    ("gx_funder", Role.FUNDER_STAFF, "广西壮族自治区科学技术协会"),
    ("hn_funder", Role.FUNDER_STAFF, "湖南省科学技术协会"),
    ("cd_funder", Role.FUNDER_STAFF, "常德市科学技术协会"),
    ("leader", Role.FUNDER_LEADER, "柳州市科学技术协会"),
    ("finance", Role.FINANCE, "柳州市科学技术协会"),
    ("expert", Role.EXPERT, None),
    ("sysadmin", Role.SYSTEM_ADMIN, None),
    ("secadmin", Role.SECURITY_ADMIN, None),
    ("auditor", Role.AUDIT_ADMIN, None),
]


def _fix_code(code: str | None) -> str | None:
    if code is None:
        return None
    from stdnum.cn import uscc

    return code[:17] + uscc.calc_check_digit(code[:17])


def non_demo_accounts() -> list[str]:
    """User names of accounts the demo did not make: the demo refuses to run beside them (it adds accounts
    whose password is published)."""
    return list(User.objects.filter(is_demo=False).order_by("id").values_list("username", flat=True)[:50])


@transaction.atomic
def ensure_demo_data() -> list[tuple[str, str, str]]:
    by_name: dict[str, Organisation] = {}
    for name, cat, parent, code in ORGS:
        org = Organisation.objects.filter(name=name).first()
        if org is None:
            org = Organisation.objects.create(
                name=name, category=Category.objects.get(code=cat),
                parent=by_name.get(parent) if parent else None, credit_code=_fix_code(code),
            )
        elif parent and org.parent_id is None:
            org.parent = by_name[parent]
            org.save(update_fields=["parent"])
        by_name[name] = org
    gx = by_name["广西机械工程学会"]
    if not gx.attributes.exists():
        OrgAttribute.objects.create(organisation=gx, key="society_grade", value=4, note="4A级学会")
        OrgAttribute.objects.create(organisation=gx, key="rating", value="A", year=2025)
    lz = by_name["柳州市机械工程学会"]
    if not lz.attributes.exists():  # a past 3A (2019–2022), 2A since 2023: eligible where “曾获评3A” counts
        import datetime as dt

        OrgAttribute.objects.create(organisation=lz, key="society_grade", value=3, valid_from=dt.date(2019, 1, 1),
                                    valid_to=dt.date(2022, 12, 31), note="3A级学会")
        OrgAttribute.objects.create(organisation=lz, key="society_grade", value=2, valid_from=dt.date(2023, 1, 1),
                                    note="2A级学会")
        OrgAttribute.objects.create(organisation=lz, key="has_party_branch", value=True)
    _pending_registration(by_name["柳州市科学技术协会"])
    logins = []
    for username, role, org_name in USERS:
        org = by_name.get(org_name) if org_name else None
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD, organisation=org,
                                            must_change_password=False, display_name=username, is_demo=True)
        RoleAssignment.objects.get_or_create(user=user, role=role, organisation=org)
        extra = f" · 动态码密钥 {_demo_second_factor(user)}" if role in ADMIN_ROLES else ""
        logins.append((username, DEMO_PASSWORD, f"{Role(role).label}{' · ' + org_name if org_name else ''}{extra}"))
    if User.objects.filter(username=PENDING_USER, organisation__status=Organisation.Status.PENDING).exists():
        logins.append((PENDING_USER, DEMO_PASSWORD, f"待审核的注册 · {PENDING_ORG}（由 home 或 funder 审核）"))
    return logins


def _demo_second_factor(user: User) -> str:
    """The demo administrators' TOTP device, enrolled at once; its secret is printed with the logins (and
    `shenbao demo-otp USER` prints the current code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shenbao.orgs import otp

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
    return otp.secret(device).replace(" ", "")


PENDING_ORG = "柳州市电子学会"
PENDING_USER = "new_clerk"


def _pending_registration(home: Organisation) -> None:
    """A unit that registered itself and waits for 柳州市科协 to approve it (the registrations page)."""
    if Organisation.objects.filter(name=PENDING_ORG).exists() or User.objects.filter(username=PENDING_USER).exists():
        return
    from shenbao.orgs import services

    try:
        services.register_unit(
            name=PENDING_ORG, credit_code=_fix_code("51450200MJ0000005X"),
            category=Category.objects.get(code="city_society"), home_association=home,
            address="柳州市城中区文昌路1号", contact_name="韦明", contact_phone="0772-2800001",
            username=PENDING_USER, password=DEMO_PASSWORD, display_name="韦明", phone="13800000005",
        )
        User.objects.filter(username=PENDING_USER).update(is_demo=True)
    except services.RegistrationError:  # e.g. no loaded call accepts city societies: no demo registration
        return


# The five notices are real and their deadlines have passed; to walk through an application the demo also
# publishes practice copies (【演练】) whose deadline is 30 days ahead. They are demo data only: calls/ keeps
# the notices as published.
PRACTICE = ["liuzhou-2026-kcfn.yaml", "guangxi-2026-tzzx.yaml", "changde-2022-xhfw.yaml"]


_CN_DAY = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(（星期[一二三四五六日天]）|\(星期[一二三四五六日天]\))?")
_CN_MONTH = re.compile(r"(\d{4})年(\d{1,2})月(?![\d日])")
_WEEKDAYS = "一二三四五六日"


def shift_dates(data, days: int):
    """A practice copy's own dates: every date of the call file moved by `days` (a month-only date in a text,
    2026年12月, by the nearest whole number of months), the weekday after a date recomputed. Only the
    dates move: 2026年度 and the other years in names stay as the notice has them."""
    import datetime as dt

    months = round(days / 30.4375)

    def day_text(m: re.Match) -> str:
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + dt.timedelta(days=days)
        except ValueError:
            return m.group(0)
        week = f"（星期{_WEEKDAYS[d.weekday()]}）" if m.group(4) else ""
        return f"{d.year}年{d.month}月{d.day}日{week}"

    def month_text(m: re.Match) -> str:
        n = int(m.group(1)) * 12 + int(m.group(2)) - 1 + months
        return f"{n // 12}年{n % 12 + 1}月"

    if isinstance(data, dict):
        return {k: shift_dates(v, days) for k, v in data.items()}
    if isinstance(data, list):
        return [shift_dates(v, days) for v in data]
    if isinstance(data, (dt.date, dt.datetime)):
        return data + dt.timedelta(days=days)
    if isinstance(data, str):
        return _CN_MONTH.sub(month_text, _CN_DAY.sub(day_text, data))
    return data


def ensure_practice_calls(*, days: int = 30) -> list[str]:
    import datetime as dt

    import yaml
    from django.conf import settings
    from django.utils import timezone

    from shenbao.calls import services
    from shenbao.calls.models import Call

    shanghai = dt.timezone(dt.timedelta(hours=8))
    deadline = (timezone.now().astimezone(shanghai) + dt.timedelta(days=days)).replace(
        hour=17, minute=0, second=0, microsecond=0)
    codes = []
    for name in PRACTICE:
        data = yaml.safe_load((settings.CALLS_DIR / name).read_text("utf-8"))
        code = f"{data['code']}-practice"
        existing = Call.objects.filter(code=code).first()
        if existing is not None and existing.deadline > timezone.now() + dt.timedelta(days=3):
            codes.append(code)
            continue
        original = data["deadline"]
        original = original if isinstance(original, dt.datetime) else dt.datetime.fromisoformat(str(original))
        shift = (deadline.date() - original.astimezone(shanghai).date()).days
        data = shift_dates(data, shift)  # every section shows the practice copy's own dates
        data.update(code=code, title=f"【演练】{data['title']}", deadline=deadline.isoformat(),
                    opens_at=None, summary=f"本通知为演示用演练通知，依据原通知生成。{data.get('summary', '')}")
        data.pop("opens_at")
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        services.load_call(text=text, filename=f"practice/{name}", publish=True)
        codes.append(code)
    return codes


def ensure_sample_applications() -> list[str]:
    """A few applications on the practice calls, so that every role finds something on its pages: a
    submitted one at the funder (柳州), one waiting for the home association's endorsement (广西 2026-4 from
    a university association under 柳州市科协), and a draft. Idempotent."""
    from django.utils import timezone

    from shenbao.applications import services
    from shenbao.applications.models import Application
    from shenbao.applications.samples import sample_values
    from shenbao.calls.models import Call

    def user(name: str) -> User:
        return User.objects.get(username=name)

    def draft(clerk: User, call_code: str, type_code: str, track: str | None = None,
              title: str = "") -> Application | None:
        call = Call.objects.filter(code=call_code).first()
        if call is None:
            return None
        ptype = call.types.get(code=type_code)
        existing = Application.objects.filter(applicant=clerk.organisation, project_type=ptype).first()
        if existing is not None:
            return None
        tr = ptype.tracks.get(code=track) if track else None
        app = services.create_draft(user=clerk, project_type=ptype, track=tr)
        doc = ptype.document
        values = sample_values(form=call.document.form_for(doc), type_doc=doc, org_name=clerk.organisation.name,
                               track=track, today=timezone.localdate(),
                               overrides={"project_name": title} if title else None)
        services.save_draft(user=clerk, application=app, values=values, expected_version=app.version)
        app.refresh_from_db()
        return app

    uni_clerk = user("uni_clerk")
    made = []
    if app := draft(user("clerk"), "liuzhou-2026-kcfn-practice", "2026-2",
                    title="“龙城科创大讲堂”智能网联汽车专场"):
        services.submit(user=user("clerk"), application=app)
        made.append(f"{app.title}（已提交，funder 可见）")
    if app := draft(user("clerk"), "liuzhou-2026-kcfn-practice", "2026-3",
                    title="全国学会专家柳州行科技服务"):
        made.append(f"{app.title}（草稿）")
    if app := draft(uni_clerk, "guangxi-2026-tzzx-practice", "2026-4", "brand",
                    title="校企协同“专家助企赋能”系列活动"):
        services.submit(user=uni_clerk, application=app)
        made.append(f"{app.title}（待属地科协推荐，home 可见）")
    return made


# --- the expert pool of 柳州市科协 ---------------------------------------------------------------------

# name, employer, title, fields, keywords, region, phone, e-mail; the first is the `expert` login's
DEMO_EXPERTS = [
    ("演示专家", "柳州工学院", "教授", ["机械工程", "智能制造"], ["工业机器人", "数控技术", "汽车零部件"], "广西柳州",
     "13800000101", "expert@demo.example.cn"),
    ("韦建华", "广西科技大学", "教授", ["车辆工程"], ["新能源汽车", "动力电池"], "广西柳州", "13800000102",
     "weijh@demo-gxust.example.cn"),
    ("蒙丽", "柳州市机械工程学会", "高级工程师", ["机械设计"], ["学会服务", "科技咨询"], "广西柳州", "13800000103",
     "mengli@demo.example.cn"),
    ("覃志强", "广西大学", "研究员", ["农业工程"], ["农机装备", "甘蔗机械化"], "广西南宁", "13800000104",
     "qinzq@demo-gxu.example.cn"),
    ("黄晓", "湖南大学", "副教授", ["材料科学"], ["轻量化材料", "增材制造"], "湖南长沙", "13800000105",
     "huangx@demo-hnu.example.cn"),
]


def ensure_demo_experts() -> list[str]:
    """柳州市科协's expert pool: five experts, the first one the `expert` login (the expert role in the
    funder), who still has to accept the pledge and declare conflicts. Idempotent."""
    from shenbao.review.experts import match_organisation
    from shenbao.review.models import Expert

    funder = Organisation.objects.filter(name="柳州市科学技术协会").first()
    login = User.objects.filter(username="expert", is_demo=True).first()
    if funder is None:
        return []
    out = []
    with transaction.atomic():
        for i, (name, org, title, fields, keywords, region, phone, email) in enumerate(DEMO_EXPERTS):
            expert, _created = Expert.objects.get_or_create(funder=funder, phone=phone, defaults={
                "name": name, "organisation_name": org, "organisation": match_organisation(org), "title": title,
                "fields": fields, "keywords": keywords, "region": region, "email": email})
            if i == 0 and login is not None and expert.user_id is None and not hasattr(login, "expert"):
                expert.user = login
                expert.save(update_fields=["user"])
                RoleAssignment.objects.get_or_create(user=login, role=Role.EXPERT, organisation=funder)
            out.append(name)
    return out
