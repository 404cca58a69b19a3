"""The call format: one YAML file per call (and one catalogue of categories and attributes).

This module knows nothing of Django: it turns YAML text into validated, typed objects, compiles every
CEL expression, and reports problems as `file: path: problem`. `docs/call-format.md` documents it.

Money is in yuan (whole numbers); dates are ISO dates; the deadline carries its time and zone.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shenbao.core.expressions import ExpressionError, compile_expression
from shenbao.core.yamldoc import (  # noqa: F401 (the call format's names for them)
    KEY_RE,
    MAX_ECHO,
    MAX_PROBLEMS,
    MAX_YAML_ALIASES,
    MAX_YAML_BYTES,
    MAX_YAML_NODES,
    DocumentFormatError,
    Key,
    Strict,
    Text,
    clip,
    parse_yaml,
    problems_from,
)
from shenbao.orgs.catalogue_schema import AttributeDef, Catalogue, Category, Measure  # noqa: F401

CallFormatError = DocumentFormatError  # a call or catalogue file that does not follow its format

SHANGHAI = ZoneInfo("Asia/Shanghai")
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=40)]
Yuan = Annotated[int, Field(ge=0)]


# --- expressions --------------------------------------------------------------------------------------


class Expr(Strict):
    """A CEL expression with the message shown when it does not hold.

    `roots` are the top-level names an expression may use where it stands; they are checked at load time
    so that a typo (`orgg.attrs`) fails when the call is loaded, not when a clerk submits.
    """

    expr: Text
    message: Text


# functions an expression may call: CEL's own global ones and the platform's (core.expressions.FUNCTIONS)
CEL_GLOBALS = {"has", "size", "int", "uint", "double", "string", "bytes", "bool", "type", "dyn", "duration",
               "timestamp", "matches"}
_CALL = re.compile(r"""(?<![.\w"'])([A-Za-z_][A-Za-z0-9_]*)\s*\(""")
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")


def _check_expr(source: str, roots: set[str]) -> str:
    from shenbao.core.expressions import FUNCTIONS

    try:
        program = compile_expression(source)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    unknown = sorted(set(program.top_level_names()) - roots)
    if unknown:
        raise ValueError(
            f"表达式使用了未知的名称 {', '.join(unknown)}（此处可用：{', '.join(sorted(roots))}）"
        )
    known = CEL_GLOBALS | set(FUNCTIONS)
    called = sorted({name for name in _CALL.findall(_STRING.sub('""', source)) if name not in known})
    if called:  # a misspelt function would otherwise fail only when a clerk submits
        raise ValueError(f"表达式使用了未知的函数 {', '.join(called)}（可用：{', '.join(sorted(FUNCTIONS))} 及 CEL 自带函数）")
    return source


ELIGIBILITY_ROOTS = {"org", "call"}
FORM_ROOTS = {"form", "type", "track", "call", "applicant"}
PROJECT_ROOTS = {"project", "form", "type", "track", "call"}


def _exprs_validator(roots: set[str]):
    def check(cls, value):
        for item in value or []:
            _check_expr(item.expr, roots)
        return value

    return check


# --- quotas and money ---------------------------------------------------------------------------------


class Quota(Strict):
    """计划立项数量: exactly N, at most N, about N, N–M, or unstated (the notice gives no number: pages then
    say nothing about one). Plans only: the final number comes after review."""

    kind: Literal["exactly", "at_most", "about", "range", "unstated"]
    n: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    # about: how far the number may stray (±); omitted: a "≤N" / "不超过N" in the note caps it, else ±20% of n
    # (at least 1). An about quota may also bound itself with min and/or max (review/selection.py)
    tolerance: int | None = Field(default=None, ge=0)
    note: str = ""

    @model_validator(mode="after")
    def _shape(self):
        if self.tolerance is not None and self.kind != "about":
            raise ValueError("只有约数（about）可以给出 tolerance")
        if self.kind == "range":
            if self.min is None or self.max is None:
                raise ValueError("数量为区间（range）时须给出 min 和 max")
            if self.min > self.max:
                raise ValueError(f"数量区间下限 {self.min} 大于上限 {self.max}")
            if self.n is not None:
                raise ValueError("数量为区间（range）时不用 n，用 min 和 max")
        elif self.kind == "unstated":
            if self.n is not None or self.min is not None or self.max is not None:
                raise ValueError("数量未写明（unstated）时不给 n、min、max")
        elif self.n is None:
            raise ValueError(f"数量为 {self.kind} 时须给出 n")
        return self

    @property
    def stated(self) -> bool:
        return self.kind != "unstated"

    @property
    def upper(self) -> int | None:
        return self.max if self.kind == "range" else self.n

    def text(self) -> str:
        return {
            "exactly": f"{self.n}个",
            "at_most": f"不超过{self.n}个",
            "about": f"约{self.n}个",
            "range": f"{self.min}—{self.max}个",
            "unstated": "",
        }[self.kind]


class Tier(Strict):
    """A funding tier chosen by a fact of the project; the first tier whose `when` holds applies
    (tiers are not cumulative)."""

    when: Text
    amount: Yuan
    label: Text

    @field_validator("when")
    @classmethod
    def _cel(cls, v):
        return _check_expr(v, PROJECT_ROOTS)


class Funding(Strict):
    """经费额度. fixed: `amount` each; range: `min`–`max` each; cap: at most `max` each;
    pool: a `total` shared by the type; tiered: by facts (`tiers`, else `amount`); by_review: decided
    after review. `total` may accompany any kind (the type's planned total)."""

    kind: Literal["fixed", "range", "cap", "pool", "tiered", "by_review"]
    amount: Yuan | None = None
    min: Yuan | None = None
    max: Yuan | None = None
    total: Yuan | None = None
    tiers: list[Tier] = []
    note: str = ""

    @model_validator(mode="after")
    def _shape(self):
        need = {"fixed": ["amount"], "range": ["min", "max"], "cap": ["max"], "pool": ["total"],
                "tiered": ["amount"], "by_review": []}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"经费方式 {self.kind} 须给出 {', '.join(missing)}")
        if self.kind == "range" and self.min > self.max:
            raise ValueError(f"经费区间下限 {self.min} 大于上限 {self.max}")
        if self.kind == "tiered" and not self.tiers:
            raise ValueError("分档经费（tiered）须给出 tiers")
        if self.kind != "tiered" and self.tiers:
            raise ValueError("只有分档经费（tiered）可以有 tiers")
        return self

    @property
    def cap(self) -> int | None:
        """The most one project may request, when the notice says."""
        if self.kind == "fixed":
            return self.amount
        if self.kind in ("range", "cap"):
            return self.max
        if self.kind == "tiered":
            return max([self.amount or 0, *(t.amount for t in self.tiers)])
        return self.max

    def text(self) -> str:
        def w(y: int | None) -> str:
            return f"{Decimal(y) / 10000:g}万元" if y is not None else ""

        base = {
            "fixed": f"{w(self.amount)}/个",
            "range": f"{w(self.min)[:-2]}—{w(self.max)}/个",
            "cap": f"不超过{w(self.max)}/个",
            "pool": f"共{w(self.total)}",
            "tiered": "；".join([*(f"{t.label}{w(t.amount)}" for t in self.tiers), f"其他{w(self.amount)}"]),
            "by_review": "根据评审确定",
        }[self.kind]
        if self.total and self.kind != "pool":
            base += f"（共{w(self.total)}）"
        return base


# --- tasks, deliverables, acceptance -----------------------------------------------------------------


class Task(Strict):
    """A task of a type or track with measurable minimums (C4): `minimums` names a measure (events,
    participants, countries, student_teams, journals, organisations, experts, hours, societies,
    enterprises, …) and its least value; `naming` lists what event titles must carry."""

    text: Text
    minimums: dict[Key, Decimal] = {}
    naming: list[Text] = []
    # what the venue must display (会场要有“八桂科技讲坛”标识): not a naming rule; a photo shows it at acceptance
    signage: list[Text] = []
    check: Expr | None = None
    # the task binds only applicants of these categories (常德 2022: 市级学会10人、高校科协50人); empty: all
    categories: list[Key] = []

    @field_validator("check")
    @classmethod
    def _cel(cls, v):
        if v:
            _check_expr(v.expr, PROJECT_ROOTS)
        return v


class Deliverable(Strict):
    """An intermediate deliverable with its own hard date (C8)."""

    name: Text
    due: dt.date
    hard: bool = True
    spec: str = ""
    consequence: str = ""
    min_seconds: int | None = None
    max_seconds: int | None = None


class MaterialKind(Strict):
    name: Text
    min: int = Field(ge=0)


class Material(Strict):
    """An acceptance material (验收材料). `max_count` and `kinds` express photo rules (≤20, two of each)."""

    code: Key
    name: Text
    required: bool = True
    max_count: int | None = Field(default=None, ge=1)
    min_count: int | None = Field(default=None, ge=1)  # 相片（3-5张）: at least this many
    kinds: list[MaterialKind] = []
    # the counts hold for each event (每项活动相片3-5张), not for the project as a whole
    per_event: bool = False
    note: str = ""
    # only projects of these tracks (申报类型 codes) owe it (“经费用于…的，需提交…”); empty: every project
    tracks: list[Key] = []


class AcceptanceDue(Strict):
    """When acceptance materials are due: a fixed date, or N working days after each event."""

    date: dt.date | None = None
    working_days_after_event: int | None = Field(default=None, ge=1)
    text: str = ""

    @model_validator(mode="after")
    def _one(self):
        if (self.date is None) == (self.working_days_after_event is None):
            raise ValueError("验收截止须给出 date 或 working_days_after_event 之一")
        return self


class Acceptance(Strict):
    due: AcceptanceDue | None = None
    materials: list[Material] = []
    paper_copies: int | None = Field(default=None, ge=0)
    electronic_copies: int | None = Field(default=None, ge=0)
    checks: list[Expr] = []
    note: str = ""

    _checks = field_validator("checks")(_exprs_validator(PROJECT_ROOTS))

    @model_validator(mode="after")
    def _unique(self):
        codes = [m.code for m in self.materials]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"验收材料代码重复：{', '.join(dupes)}")
        return self


# --- post-award rules ---------------------------------------------------------------------------------

SpendingItem = Literal[
    "fixed_assets", "investment", "donation", "sponsorship", "labour", "rewards", "assets"
]


class Spending(Strict):
    forbidden: list[SpendingItem] = []
    travel_max_share: Decimal | None = Field(default=None, gt=0, le=1)
    note: str = ""


class Disbursement(Strict):
    mode: Literal["one_off", "by_progress", "per_contract", "after_evaluation"]
    note: str = ""


class Filing(Strict):
    """Events to be filed in advance (备案) or approved (报批) (P6)."""

    applies_to: Text
    authorities: list[Text]
    approval: bool = False
    # what is filed: each event (default), each international event only, or once for the project
    scope: Literal["event", "international_event", "project"] = "event"
    note: str = ""


class PostAward(Strict):
    contract: Literal["contract", "task_book"] | None = None
    disbursement: Disbursement | None = None
    spending: Spending | None = None
    change_requests: str | None = None
    spot_checks: bool | None = None
    recovery: bool | None = None
    filings: list[Filing] | None = None
    news: list[Text] | None = None


class PostFunding(Strict):
    """后资助 (C6): the work is done first, results are submitted by a date, experts evaluate, funding is
    granted selectively."""

    work_done_by: dt.date
    results_due: dt.date
    materials: list[Text] = []
    note: str = ""
    # the form submitted with the results (广西 2026-7: 附表7 海智计划项目资助申报表), not at application
    results_form: Code | None = None


# --- eligibility ----------------------------------------------------------------------------------


class EligibleGroup(Strict):
    """Applicants of these categories (or their sub-categories) may apply when `when` holds."""

    categories: list[Key] = Field(min_length=1)
    when: str | None = None
    unmet: str | None = None  # the reason shown when `when` does not hold
    label: str = ""

    @model_validator(mode="after")
    def _cel(self):
        if self.when:
            _check_expr(self.when, ELIGIBILITY_ROOTS)
            if not self.unmet:
                raise ValueError("有条件（when）的申报主体须写明不满足时的原因（unmet）")
        return self


class NamedApplicant(Strict):
    """定向委托 / 连续支持: the only applicant(s) a type accepts (C7). A unit named by its role rather
    than its name (专精特新科技创新联盟牵头单位) is identified by `when`, a CEL condition on `org`."""

    name: Text
    basis: Literal["commissioned", "continued", "named"] = "named"
    when: str | None = None

    @field_validator("when")
    @classmethod
    def _cel(cls, v):
        return _check_expr(v, ELIGIBILITY_ROOTS) if v else v


class Joint(Strict):
    allowed: bool = True
    max_units: int | None = Field(default=2, ge=1)  # None: the notice sets no maximum (两个以上单位联合申报)
    names: list[Literal["lead", "participants"]] = []  # what a joint application must name (注明牵头、参与单位)
    outsiders_only: bool = False  # only units outside the eligible categories need to join (不在范围的可联合)
    note: str = ""


class Routing(Strict):
    """Who must endorse before the funder sees an application (E9)."""

    categories: list[Key] | None = None  # None: every applicant
    by: Literal["home_association", "university_association", "home_or_university_association"]
    with_finance: bool = False
    label: Text
    tracks: list[Key] | None = None  # only applications of these tracks (申报类型 codes); None: every track


class MeetingRule(Strict):
    categories: list[Key] | None = None  # None: any applicant not matched by an earlier rule
    kinds: list[Text] = Field(min_length=1)
    # the applicant writes the meeting's name in the commitment's blank (经____会议研究审议); `kinds` describe it
    named_by_applicant: bool = False


class OwnApproval(Strict):
    """The applicant's own approval before submission (E8)."""

    meetings: list[MeetingRule] = Field(min_length=1)
    commitment: Text
    head_signs: bool = True


class Exclusions(Strict):
    """Who may not apply (E5, E6, E10)."""

    unfinished: bool = False  # a unit that left a project of this call's programme (programme_code) unfinished
    pending_deferral: bool = False  # a unit with an accepted deferral must finish that acceptance first
    repeat_years: int | None = Field(default=None, ge=1)  # no repeat of content funded in N years …
    repeat_exempt: list[Literal["commissioned", "continued"]] = []  # … except these
    repeat_similarity: Decimal = Decimal("0.6")
    subcontracting_forbidden: bool = False
    ban_years: int | None = Field(default=None, ge=1)  # fraud or subcontracting bars for N years
    note: str = ""


class Eligibility(Strict):
    groups: list[EligibleGroup] | None = None
    # applicants must sit under the issuer in the organisation tree (its own units, by home association)
    within_issuer: bool | None = None
    conditions: list[Expr] | None = None  # 申报条件 that must hold (C9)
    preferences: list[Text] | None = None  # “优先” facts reviewers see (C9)

    _conds = field_validator("conditions")(_exprs_validator(ELIGIBILITY_ROOTS))


# --- forms --------------------------------------------------------------------------------------------

FieldKind = Literal[
    "text", "long_text", "phone", "mobile", "email", "url", "date", "period", "money", "integer",
    "number", "choice_one", "choice_many", "person", "table", "attachment", "opinion", "note",
]
ColumnKind = Literal["text", "long_text", "integer", "number", "money", "phone", "mobile", "date", "email"]
PersonPart = Literal[
    "name", "position", "professional_title", "phone", "mobile", "office_phone", "email", "wechat",
    "employer", "full_time", "fax",
]
# how a person block names each part, on the form, the printed document and in error messages
PART_LABELS: dict[str, str] = {
    "name": "姓名",
    "position": "职务",
    "professional_title": "职称",
    "phone": "联系电话",
    "mobile": "移动电话",
    "office_phone": "办公电话",
    "email": "电子邮箱",
    "wechat": "微信号",
    "employer": "工作单位",
    "full_time": "专职/兼职",
    "fax": "传真",
}
OpinionBy = Literal[
    "applicant", "unit_head", "project_lead", "society", "journal_editor", "leading_doctor", "host_unit",
    "home_association", "university_association", "home_or_university_association", "finance",
    "funder_department", "funder_leadership",
]


class Column(Strict):
    key: Key
    label: Text
    kind: ColumnKind = "text"
    required: bool = False
    max_chars: int | None = Field(default=None, ge=1)
    unit: Literal["yuan", "wan"] = "yuan"
    # the column names people or units (项目组成员·姓名): hidden from experts in blind review
    identity: bool = False


class Total(Strict):
    """A computed total of a table column; `max` or `max_from: cap` caps it."""

    column: Key
    label: Text = "合计"
    max: Decimal | None = None
    max_from: Literal["cap"] | None = None
    equals_field: Key | None = None


class Option(Strict):
    value: Key
    label: Text
    follow_up: FormField | None = None  # asked when this option is ticked


class FormField(Strict):
    key: Key
    label: Text
    kind: FieldKind
    required: bool = False
    help: str = ""
    max_chars: int | None = Field(default=None, ge=1)
    min_chars: int | None = Field(default=None, ge=0)
    unit: Literal["yuan", "wan"] = "yuan"
    may_attach: bool = False  # 可另附 / 可添加附页
    # choice
    options: list[Option] = []
    options_from: Literal["tracks"] | None = None
    # person
    parts: list[PersonPart] = []
    # table
    columns: list[Column] = []
    min_rows: int = Field(default=0, ge=0)
    max_rows: int | None = Field(default=None, ge=1)
    rows: int = Field(default=3, ge=0)  # blank rows printed on the blank form
    fixed_first_column: list[str] = []  # e.g. numbered rows
    totals: list[Total] = []
    # attachment
    accept: list[Literal["pdf", "doc", "docx", "jpg", "png", "xls", "xlsx", "zip"]] = []
    max_mb: int | None = Field(default=None, ge=1)  # at most the platform's upload limit, 20 MB
    max_files: int = Field(default=1, ge=1, le=20)  # how many files the field takes (a list when more than 1)
    # opinion
    by: OpinionBy | None = None
    signer: str = ""  # 单位负责人签名 …
    date: bool = True
    stamp: bool = False
    stamp_label: str = ""
    text: str = ""  # fixed text printed in the block (a commitment); {meeting} is filled in
    co_signers: list[Text] = []  # further signature lines in the same block (期刊负责人签名 …), each dated
    # the answer is also a fact of the project, `project.<key>`, read by tiers, task and acceptance checks
    # (是否有两院院士出席并做大会报告 → project.academician_report)
    fact: bool = False
    # the answer names the application (its title in lists, messages, file names): one text field per form
    title: bool = False
    # the amount the applicant asks of the funder (申请经费): a money field, shown and sorted on the funder's
    # list of received applications; without one the list shows the type's (or track's) fixed amount
    asked: bool = False
    # the answer names the applicant (a unit, a person, an address): hidden from experts in blind review.
    # Person, phone, mobile and e-mail fields are hidden anyway, and so is the applicant's name wherever met.
    identity: bool = False

    @model_validator(mode="after")
    def _shape(self):
        k = self.kind
        if self.asked and k != "money":
            raise ValueError(f"asked 只能用于金额字段（{self.key} 是 {k}）")
        if k in ("choice_one", "choice_many"):
            if not self.options and not self.options_from:
                raise ValueError(f"选择字段 {self.key} 须给出 options 或 options_from")
            values = [o.value for o in self.options]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"选择字段 {self.key} 的选项重复：{', '.join(dupes)}")
        elif self.options or self.options_from:
            raise ValueError(f"只有选择字段可以有 options（{self.key} 是 {k}）")
        if k == "person" and not self.parts:
            raise ValueError(f"人员字段 {self.key} 须给出 parts（如 name, position, phone）")
        if k == "table":
            if not self.columns:
                raise ValueError(f"表格字段 {self.key} 须给出 columns")
            cols = [c.key for c in self.columns]
            for t in self.totals:
                if t.column not in cols:
                    raise ValueError(f"表格 {self.key} 的合计列 {t.column} 不在 columns 中")
            if self.max_rows is not None and self.max_rows < self.min_rows:
                raise ValueError(f"表格 {self.key} 的 max_rows 小于 min_rows")
        elif self.columns or self.totals:
            raise ValueError(f"只有表格字段可以有 columns/totals（{self.key} 是 {k}）")
        if k != "attachment" and (self.accept or self.max_mb or self.max_files != 1):
            raise ValueError(f"只有附件字段可以有 accept/max_mb/max_files（{self.key} 是 {k}）")
        if self.max_mb is not None and self.max_mb > 20:
            raise ValueError(f"附件字段 {self.key} 的 max_mb 不能大于平台的上传上限 20 MB")
        if k == "opinion" and not self.by:
            raise ValueError(f"意见栏 {self.key} 须写明由谁填写（by）")
        if self.max_chars is not None and self.min_chars is not None and self.min_chars > self.max_chars:
            raise ValueError(f"字段 {self.key} 的 min_chars 大于 max_chars")
        if self.title and k != "text":
            raise ValueError(f"给出申报标题的字段（title: true）须为单行文本（text），{self.key} 是 {k}")
        return self


Option.model_rebuild()


class Section(Strict):
    title: str = ""
    fields: list[FormField] = Field(min_length=1)
    # false: asked on the page only, never printed on the official form (facts the notice's rules need
    # that its 附表 does not ask: 广西 2023 附表3's 资助档次依据)
    print: bool = True
    note: str = ""  # shown above the section on the page


class FormTemplate(Strict):
    """An application form (附表 / 申报书): a cover, sections of fields, and checks across fields."""

    code: Code
    title: Text
    label: str = ""  # 附表1 / 附件2
    show_type_code: bool = True
    fill_date: bool = True  # 填表时间： 年 月 日
    maker: str = ""  # 常德市科学技术协会 制 2022年3月
    cover: list[FormField] = []
    # the cover fields make a page of their own (常德's 申报书); else they are lines under the title
    cover_page: bool = False
    sections: list[Section] = Field(min_length=1)
    checks: list[Expr] = []
    note: str = ""  # 备注：项目资助不超过 3 万元
    # the notice's form asks no project name (学会改革与发展项目申报表): the application is called by its
    # type's name and no field is `title: true`; otherwise exactly one field is
    untitled: bool = False
    # the notice does not print this form (湖南 2024: 《项目申报书》 is downloaded from the issuer's site): the
    # platform drew it up, and every page that offers it says so
    not_in_notice: bool = False

    _checks = field_validator("checks")(_exprs_validator(FORM_ROOTS))

    @property
    def title_field(self) -> FormField | None:
        """The field whose answer names the application (`title: true`), None for an untitled form."""
        return next((f for f in self.every_field() if f.title), None)

    def field_kinds(self) -> dict[str, str]:
        """Every field key of the form (follow-up fields included) and its kind."""
        return {k: f.kind for k, f in self.fields_by_key().items()}

    def all_fields(self) -> list[FormField]:
        """The cover and section fields, in order (not the follow-up fields of options)."""
        out = list(self.cover)
        for s in self.sections:
            out.extend(s.fields)
        return out

    def printed_fields(self) -> list[FormField]:
        """The fields the official form prints: the cover and the sections not marked `print: false`."""
        out = list(self.cover)
        for s in self.sections:
            if s.print:
                out.extend(s.fields)
        return out

    def every_field(self) -> list[FormField]:
        """Every field of the form in order, each followed by the follow-up fields of its options."""
        out: list[FormField] = []

        def walk(fields):
            for f in fields:
                out.append(f)
                walk(o.follow_up for o in f.options if o.follow_up)

        walk(self.all_fields())
        return out

    def fields_by_key(self) -> dict[str, FormField]:
        """Every field of the form (follow-up fields included) by key."""
        return {f.key: f for f in self.every_field()}

    def field(self, key: str) -> FormField:
        """The field with this key, follow-up fields included (KeyError if the form has none)."""
        return self.fields_by_key()[key]

    @model_validator(mode="after")
    def _unique_keys(self):
        keys = [f.key for f in self.every_field()]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"表单 {self.code} 的字段 key 重复：{', '.join(dupes)}")
        return self

    def title_problem(self) -> str | None:
        """Why the form's title field is not right (checked when a call is loaded), else None: exactly one
        field says `title: true`, unless the form says `untitled: true` and none does."""
        titled = [f.key for f in self.every_field() if f.title]
        if self.untitled and titled:
            return f"表单 {self.code} 标明 untitled: true，却有 title: true 的字段：{', '.join(titled)}"
        if not self.untitled and len(titled) != 1:
            found = f"（现有 {len(titled)} 个：{', '.join(titled)}）" if titled else "（现有 0 个）"
            return (f"表单 {self.code} 须有且只有一个给出项目名称的字段（title: true）{found}；"
                    "表中没有项目名称时写 untitled: true")
        return None


# --- contacts and submission ---------------------------------------------------------------------------


class Contact(Strict):
    name: Text
    role: str = ""
    department: str = ""
    phone: str = ""
    mobile: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""


class Annex(Strict):
    """A document the notice attaches or cites (附件2 项目管理办法 …) that applicants must read or follow."""

    label: str = ""  # 附件2
    title: Text
    types: list[Code] = []  # the project types it concerns; empty: the whole call
    note: str = ""


class Channel(Strict):
    kind: Literal["online", "email", "post", "in_person"]
    target: str = ""  # url, mail address or postal address
    note: str = ""


class Submission(Strict):
    channels: list[Channel] = Field(min_length=1)
    paper_copies: int = Field(default=0, ge=0)
    stamped: bool = True
    upload_stamped_scan: bool = False
    electronic_equals_paper: bool = True
    typed_only: bool = False  # 不受理手写
    paper_size: Literal["A4"] | None = None  # only when the notice states it (常德 2022: A4纸质计算机打印件)
    note: str = ""


class Criterion(Strict):
    """One criterion of a score sheet: an expert gives a value in [min, max]; the weighted sum is the
    sheet's total."""

    key: Key
    name: Text
    min: Decimal = Decimal(0)
    max: Decimal = Field(gt=0)
    weight: Decimal = Field(default=Decimal(1), gt=0)
    description: str = ""

    @model_validator(mode="after")
    def _range(self):
        if self.min >= self.max:
            raise ValueError(f"评分项 {self.key} 的最低分须小于最高分")
        return self


class Rubric(Strict):
    """评分标准 of a type (or of the whole call under `review.rubric`)."""

    criteria: list[Criterion] = Field(min_length=1)
    comment_min_hanzi: int = Field(default=0, ge=0)  # 评审意见 of at least N 汉字
    note: str = ""

    @model_validator(mode="after")
    def _keys(self):
        keys = [c.key for c in self.criteria]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"评分项代码重复：{', '.join(dupes)}")
        return self


# used when neither the type nor the call gives a rubric (the notices give none): one overall score out of
# 100 and a comment of at least 30 汉字
DEFAULT_RUBRIC = Rubric(
    criteria=[Criterion(key="overall", name="综合评价", max=Decimal(100))],
    comment_min_hanzi=30,
    note="通知未规定评分标准，采用平台默认标准：综合评价（满分100分），评审意见不少于30字。",
)


class NoticePeriod(Strict):
    """公示期: `days` calendar days, or working days on the Chinese official calendar."""

    days: int = Field(default=5, ge=1)
    working_days: bool = True


class Review(Strict):
    """Review and award (V1–V3)."""

    by: Literal["funder", "third_party"] = "funder"
    third_party: str = ""
    levels: list[Text] = ["专家评审"]
    funder_levels: list[Text] = []  # e.g. 学会部初审, 领导审核 (V3)
    confirm_by: list[Text] = []
    # the confirmation (V1) needs the finance department's decision as well as the funder's (湖南 2024)
    finance_confirms: bool = False
    public_notice: bool = True
    notice_period: NoticePeriod = NoticePeriod()
    # expert review: how many experts score each application, how many applications an expert takes at most
    experts_per_application: int = Field(default=3, ge=1)
    max_load: int | None = Field(default=None, ge=1)  # None: computed from the pool (even spread, rounded up)
    outside_region: bool = False  # at least one expert from outside the applicant's region
    same_home_association_conflict: bool = False  # an expert of the applicant's home association is conflicted
    blind: bool = False  # experts do not see the applicant's identity
    aggregate: Literal["mean", "trimmed_mean"] = "mean"  # trimmed: the highest and lowest score dropped
    normalise: bool = False  # z-scores per expert before aggregating
    rubric: Rubric | None = None  # the call's rubric; a type's own `rubric` wins; neither: DEFAULT_RUBRIC
    scoring_deadline: dt.date | None = None
    note: str = ""


# --- project types and the call ------------------------------------------------------------------------


class Track(Strict):
    """申报类型: a sub-kind of a type, ticked on the form, with its own quota, funding and tasks."""

    code: Key
    name: Text
    quota: Quota | None = None
    funding: Funding | None = None
    tasks: list[Task] = []
    content: str = ""
    # the track's events must be held within these dates (广西科学年会相关活动：2023年8月至10月)
    events_from: dt.date | None = None
    events_until: dt.date | None = None


class Common(Strict):
    """What a call's `defaults` and each type may both say; a type's own value wins."""

    eligibility: Eligibility | None = None
    joint: Joint | None = None
    exclusions: Exclusions | None = None
    own_approval: OwnApproval | None = None
    routing: list[Routing] | None = None
    completion_by: dt.date | None = None
    completion_text: str | None = None
    acceptance: Acceptance | None = None
    post_award: PostAward | None = None
    contacts: list[Contact] | None = None


class ProjectType(Common):
    code: Code
    name: Text
    group: str = ""  # 项目类别 (湖南: 科技创新服务能力建设项目; 常德: 能力建设与创新发展)
    kind: Literal["standard", "post_funded", "commissioned", "continued"] = "standard"
    named_applicants: list[NamedApplicant] = []
    quota: Quota | None = None
    funding: Funding | None = None
    tracks: list[Track] = []
    multiple_tracks: bool = False  # one application may tick several tracks (可单独或叠加申报); funding adds up
    tasks: list[Task] = []
    deliverables: list[Deliverable] = []
    post_funding: PostFunding | None = None
    form: Code | None = None
    content: str = ""
    requirements: str = ""
    # 申报材料 to hand in besides the form (常德 2022 服务站建设: 服务站筹建申请及申报表)
    application_materials: list[Text] = []
    rubric: Rubric | None = None  # 评分标准 of this type (else the call's `review.rubric`, else the default)
    # the type's own submission deadline, when it is not the call's (a post-funded type's results are due
    # at `post_funding.results_due`, end of that day, unless this is given)
    deadline: dt.datetime | None = None

    @field_validator("deadline")
    @classmethod
    def _deadline_aware(cls, v: dt.datetime | None):
        if v is not None and v.tzinfo is None:
            raise ValueError("deadline 须带时区，例如 2026-11-10T17:00:00+08:00")
        return v

    def track(self, code: str) -> Track:
        """The track (申报类型) with this code (KeyError if the type has none)."""
        for t in self.tracks:
            if t.code == code:
                return t
        raise KeyError(code)

    @model_validator(mode="after")
    def _shape(self):
        if self.tracks:
            codes = [t.code for t in self.tracks]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"申报类型代码重复：{', '.join(dupes)}")
        if self.kind == "post_funded" and not self.post_funding:
            raise ValueError("后资助项目（post_funded）须给出 post_funding")
        if self.kind in ("commissioned", "continued") and not self.named_applicants:
            raise ValueError(f"{self.kind} 项目须给出 named_applicants（指定的申报单位）")
        if self.quota is None and not any(t.quota for t in self.tracks):
            raise ValueError("须给出 quota（或每个申报类型的 quota）；通知未写明计划立项数量时写 {kind: unstated}")
        if self.funding is None and not any(t.funding for t in self.tracks):
            raise ValueError("须给出 funding（或每个申报类型的 funding）")
        return self


DEFAULT_NUMBER_PATTERN = "{year}-{type_seq}-{seq:04d}"
NUMBER_FIELDS = ("year", "type", "type_seq", "track", "seq")


def number_fields(pattern: str) -> set[str]:
    """The placeholders a number pattern uses."""
    import string

    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}


def check_number_pattern(pattern: str) -> None:
    """A number pattern must name only known placeholders, include the counter `seq` and format."""
    try:
        names = number_fields(pattern)
    except ValueError as exc:
        raise ValueError(f"编号格式无法解析：{exc}") from None
    unknown = sorted(names - set(NUMBER_FIELDS) - {""})
    if unknown or "" in names:
        raise ValueError(f"编号格式含未知占位符：{', '.join(unknown) or '{}'}（可用：{', '.join(NUMBER_FIELDS)}）")
    if "seq" not in names:
        raise ValueError("编号格式须包含流水号 {seq}，例如 {year}-{type_seq}-{seq:04d}")
    try:
        sample = pattern.format(year=2026, type="T1", type_seq=1, track="t", seq=7)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"编号格式无法使用：{exc}") from None
    if not sample.strip() or len(sample) > 40:
        raise ValueError("编号格式生成的编号须为 1–40 个字符")


class Issuer(Strict):
    name: Text
    short_name: str = ""
    level: Literal["national", "province", "city", "county"]
    category: Key
    region: str = ""
    department: str = ""  # 学会部


class Call(Strict):
    kind: Literal["call"]
    code: Code
    issuer: Issuer
    document_number: str = ""
    title: Text
    programme: Text  # the programme's name as this notice prints it (广西科协“提质增效”项目)
    # the programme across years, stable whatever each year's notice calls it: R-E5 and R-E6 look back on
    # earlier projects by this code and the issuer
    programme_code: Key
    year: int = Field(ge=2000, le=2100)
    published_on: dt.date | None = None
    opens_at: dt.datetime | None = None
    deadline: dt.datetime
    # the notice states no deadline (在规定时间内寄送): `deadline` is a placeholder the funder must confirm
    deadline_placeholder: bool = False
    addressees: str = ""
    summary: str = ""
    submission: Submission
    contacts: list[Contact] = []
    max_applications_per_unit: int | None = Field(default=None, ge=1)
    # hard: 最多不超过N个 (a further application is refused); soft: 原则上不超过N个 (the clerk is warned,
    # the funder may accept more with a recorded reason)
    per_unit_limit: Literal["hard", "soft"] = "hard"
    # the application number (申报编号) given at first submission, quoted on the phone and printed on the
    # form; placeholders: year, type (code), type_seq (the type's position, from 1), track, seq (counter)
    number_pattern: str = DEFAULT_NUMBER_PATTERN
    defaults: Common = Common()
    review: Review = Review()
    categories: list[Category] = []  # extra categories a new issuer brings
    measures: list[Measure] = []  # extra task measures a new notice brings
    forms: list[FormTemplate] = []
    annexes: list[Annex] = []  # 附件 that are documents, not forms (管理办法 …)
    project_types: list[ProjectType] = Field(min_length=1)
    source: str = ""  # where the notice text is

    @field_validator("number_pattern")
    @classmethod
    def _number_pattern(cls, v: str):
        check_number_pattern(v)
        return v

    @field_validator("deadline", "opens_at")
    @classmethod
    def _aware(cls, v: dt.datetime | None, info: ValidationInfo):
        if v is not None and v.tzinfo is None:
            raise ValueError(f"{info.field_name} 须带时区，例如 2026-03-31T17:00:00+08:00")
        return v

    # effective values: a type's own, else the call's defaults
    def effective(self, ptype: ProjectType, name: str):
        """A type's value for `name`, over the call's defaults: for a block (eligibility, acceptance …)
        the fields the type sets win and the others come from the defaults."""
        own, base = getattr(ptype, name), getattr(self.defaults, name)
        if own is None:
            return base
        if base is None or not isinstance(own, BaseModel):
            return own
        merged = base.model_dump()
        merged.update(own.model_dump(include=own.model_fields_set))
        return type(own).model_validate(merged)

    def project_type(self, code: str) -> ProjectType:
        """The project type with this code (KeyError if the call has none)."""
        for t in self.project_types:
            if t.code == code:
                return t
        raise KeyError(code)

    def project_type_named(self, name: str) -> ProjectType:
        """The project type with this name, as the notice prints it (KeyError if the call has none)."""
        for t in self.project_types:
            if t.name == name:
                return t
        raise KeyError(name)

    def form_for(self, ptype: ProjectType) -> FormTemplate | None:
        return next((f for f in self.forms if f.code == ptype.form), None)

    def own_deadline(self, ptype: ProjectType) -> dt.datetime | None:
        """A type's own submission deadline when it is not the call's: the type's `deadline`, else (a
        post-funded type) the end of its results day (`post_funding.results_due`)."""
        if ptype.deadline is not None:
            return ptype.deadline
        if ptype.kind == "post_funded" and ptype.post_funding is not None:
            return dt.datetime.combine(ptype.post_funding.results_due, dt.time(23, 59, 59), tzinfo=SHANGHAI)
        return None

    def rubric_for(self, ptype: ProjectType) -> Rubric:
        """The type's 评分标准: its own, else the call's, else the platform's default."""
        return ptype.rubric or self.review.rubric or DEFAULT_RUBRIC

    def results_form_for(self, ptype: ProjectType) -> FormTemplate | None:
        """The form a post-funded type's results are submitted with (`post_funding.results_form`)."""
        code = ptype.post_funding.results_form if ptype.post_funding else None
        return next((f for f in self.forms if f.code == code), None) if code else None

    def application_form_for(self, ptype: ProjectType) -> FormTemplate | None:
        """The form an application of this type is filled in: the type's form, else a post-funded type's
        results form (R-C6: the unit applies after the work, with its results; 广西 2026-7 附表7)."""
        return self.form_for(ptype) or self.results_form_for(ptype)

    def form_of(self, type_code: str) -> FormTemplate | None:
        """The form of the project type with this code."""
        return self.form_for(self.project_type(type_code))

    def referenced_measures(self) -> list[tuple[str, str]]:
        """(path, key) of every measure the call's tasks set a minimum on."""
        out: list[tuple[str, str]] = []
        for i, t in enumerate(self.project_types):
            for j, task in enumerate(t.tasks):
                out.extend((f"project_types[{i}].tasks[{j}].minimums.{k}", k) for k in task.minimums)
            for k_, tr in enumerate(t.tracks):
                for j, task in enumerate(tr.tasks):
                    out.extend((f"project_types[{i}].tracks[{k_}].tasks[{j}].minimums.{k}", k) for k in task.minimums)
        return out

    def category_codes(self) -> set[str]:
        return {c.code for c in self.categories}

    def referenced_categories(self) -> list[tuple[str, str]]:
        """(path, code) of every category the call names, to check against the catalogue."""
        out: list[tuple[str, str]] = [("issuer.category", self.issuer.category)]

        def scan(prefix: str, common: Common):
            if common.eligibility and common.eligibility.groups:
                for gi, g in enumerate(common.eligibility.groups):
                    out.extend((f"{prefix}eligibility.groups[{gi}].categories", c) for c in g.categories)
            for ri, r in enumerate(common.routing or []):
                out.extend((f"{prefix}routing[{ri}].categories", c) for c in r.categories or [])
            if common.own_approval:
                for mi, m in enumerate(common.own_approval.meetings):
                    out.extend(
                        (f"{prefix}own_approval.meetings[{mi}].categories", c) for c in m.categories or []
                    )
            for ki, k in enumerate(getattr(common, "tasks", [])):
                out.extend((f"{prefix}tasks[{ki}].categories", c) for c in k.categories)
            for ti, tr in enumerate(getattr(common, "tracks", [])):
                for ki, k in enumerate(tr.tasks):
                    out.extend((f"{prefix}tracks[{ti}].tasks[{ki}].categories", c) for c in k.categories)

        scan("defaults.", self.defaults)
        for i, t in enumerate(self.project_types):
            scan(f"project_types[{i}].", t)
        return out


def cross_checks(doc: Call, known_categories: set[str] | None = None,
                 known_measures: set[str] | None = None) -> list[tuple[str, str]]:
    """Checks across parts of a call (unique codes, form references, known categories), each with the
    exact path of the offending value."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(doc.project_types):
        if t.code in seen:
            problems.append((f"project_types[{i}].code", f"项目编号重复：{t.code}（与 project_types[{seen[t.code]}] 相同）"))
        seen.setdefault(t.code, i)
    forms: dict[str, int] = {}
    for i, f in enumerate(doc.forms):
        if f.code in forms:
            problems.append((f"forms[{i}].code", f"表单代码重复：{f.code}"))
        forms.setdefault(f.code, i)
    for i, t in enumerate(doc.project_types):
        if t.form and t.form not in forms:
            problems.append((f"project_types[{i}].form",
                             f"表单 {t.form} 未在 forms 中定义（已定义：{', '.join(forms) or '无'}）"))
        rf = t.post_funding.results_form if t.post_funding else None
        if rf and rf not in forms:
            problems.append((f"project_types[{i}].post_funding.results_form",
                             f"表单 {rf} 未在 forms 中定义（已定义：{', '.join(forms) or '无'}）"))
    for i, f in enumerate(doc.forms):
        if problem := f.title_problem():
            problems.append((f"forms[{i}]", problem))
        keys = set(f.field_kinds())
        for j, c in enumerate(f.checks):
            for k in form_refs(c.expr):
                if k not in keys:
                    problems.append((f"forms[{i}].checks[{j}].expr", f"规则使用了表单中没有的字段 {k}"))
        for field_ in f.all_fields():
            for t in field_.totals:
                if t.equals_field and t.equals_field not in keys:
                    problems.append((f"forms[{i}].{field_.key}.totals",
                                     f"equals_field {t.equals_field} 不是表单 {f.code} 的字段"))
    if known_categories is not None:
        known = known_categories | doc.category_codes()
        problems.extend((p, f"未知的申报单位类别 {c!r}") for p, c in doc.referenced_categories() if c not in known)
    if known_measures is not None:
        known_m = known_measures | {m.key for m in doc.measures}
        problems.extend((p, f"未知的任务指标 {k!r}（请在 catalogue 的 measures 或本通知的 measures 中定义）")
                        for p, k in doc.referenced_measures() if k not in known_m)
    return problems


_FORM_REF = re.compile(r"\bform\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']\s*\])")


def form_refs(source: str) -> list[str]:
    """Field keys a CEL check reads (`form.key` or `form["key"]`), in order of appearance."""
    seen: list[str] = []
    for a, b in _FORM_REF.findall(source):
        k = a or b
        if k not in seen:
            seen.append(k)
    return seen


# --- loading YAML with clear errors (core/yamldoc.py) ---------------------------------------------------

def validate_document(data: dict, filename: str, known_categories: set[str] | None = None,
                      known_measures: set[str] | None = None) -> Call | Catalogue:
    kind = data.get("kind")
    model = {"call": Call, "catalogue": Catalogue}.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise CallFormatError(filename, [("kind", f"须为 call 或 catalogue（实际为 {clip(repr(kind))}）")])
    try:
        doc = model.model_validate(data)
    except ValidationError as exc:
        raise CallFormatError(filename, problems_from(exc)) from None
    if isinstance(doc, Call):
        problems = cross_checks(doc, known_categories, known_measures)
        if problems:
            raise CallFormatError(filename, problems)
    return doc


def load_text(text: str, filename: str, known_categories: set[str] | None = None,
              known_measures: set[str] | None = None) -> Call | Catalogue:
    return validate_document(parse_yaml(text, filename), filename, known_categories, known_measures)


def main(argv: list[str] | None = None) -> int:
    """`python -m shenbao.calls.schema FILE…`: validate call files without a database."""
    import sys
    from pathlib import Path

    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    known: set[str] = set()
    measures: set[str] = set()
    for p in paths:
        if p.name.startswith("catalogue"):
            cat = load_text(p.read_text("utf-8"), str(p))
            known |= {c.code for c in cat.categories}
            measures |= {m.key for m in cat.measures}
    status = 0
    for p in paths:
        try:
            doc = load_text(p.read_text("utf-8"), str(p), known or None, measures or None)
        except CallFormatError as exc:
            print(exc)
            status = 1
            continue
        if isinstance(doc, Call):
            print(f"{p}: ok, {len(doc.project_types)} types, {len(doc.forms)} forms")
        else:
            print(f"{p}: ok, {len(doc.categories)} categories")
    return status


if __name__ == "__main__":
    raise SystemExit(main())


