"""YAML documents validated by typed (pydantic) schemas, with problems reported as `file: path: problem`
in Chinese: the call files (calls/schema.py) and the platform's catalogue (orgs/catalogue_schema.py) share
this. No Django here."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEY_RE = r"^[a-z][a-z0-9_]*$"
Key = Annotated[str, Field(pattern=KEY_RE, max_length=64)]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知字段（拼写错误？）",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不对",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "date_from_datetime_parsing": "须为日期，如 2026-03-31",
    "date_parsing": "须为日期，如 2026-03-31",
    "date_type": "须为日期，如 2026-03-31",
    "datetime_parsing": "须为日期时间，如 2026-03-31T17:00:00+08:00",
    "datetime_type": "须为日期时间，如 2026-03-31T17:00:00+08:00",
    "datetime_from_date_parsing": "须为日期时间，如 2026-03-31T17:00:00+08:00",
    "greater_than_equal": "不能小于允许的最小值",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "list_type": "须为列表",
    "dict_type": "须为映射（键: 值）",
    "model_type": "须为映射（键: 值）",
    "string_type": "须为文本",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "decimal_parsing": "须为数字",
}


MAX_PROBLEMS = 100


class DocumentFormatError(ValueError):
    """A call or catalogue file that does not follow its format; `problems` are (path, message) pairs."""

    def __init__(self, filename: str, problems: list[tuple[str, str]]):
        self.filename = filename
        self.problems = [(clip(p), clip(m, 2 * MAX_ECHO)) for p, m in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            self.problems.append(("", f"另有 {len(problems) - MAX_PROBLEMS} 处问题未列出"))
        problems = self.problems
        super().__init__("\n".join(f"{filename}: {p or '(文件)'}: {m}" for p, m in problems))


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_shape(), FormField]",) or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: dict) -> str:
    if err["type"] == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    base = _MESSAGES.get(err["type"])
    detail = err.get("msg", "")
    if err["type"] == "literal_error":
        return f"{base}：{clip(detail.removeprefix('Input should be '))}（实际为 {clip(repr(err.get('input')))}）"
    if err["type"] == "extra_forbidden":
        return f"{base}"
    if base:
        return f"{base}（{detail}）" if err["type"] not in ("missing",) else base
    return detail


def problems_from(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_path(e["loc"]), _message(e)) for e in exc.errors()]


MAX_YAML_BYTES = 2 * 1024 * 1024  # a call file (the five notices are 20–90 KB)
MAX_YAML_ALIASES = 1000           # `*name` references (the shipped files use at most ~100)
MAX_YAML_NODES = 200_000          # nodes once every alias is expanded (the shipped files: ~10 000)
MAX_ECHO = 200                    # characters of the input quoted back in a problem


def clip(text: Any, limit: int = MAX_ECHO) -> str:
    """A value quoted in a message, never longer than `limit` characters (R-S78: a problem never echoes
    large input back)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字符）"


def _yaml_budget(text: str, loader) -> None:
    """Refuse alias bombs before anything is built (R-S77): walk the parser's events (libyaml when present),
    counting aliases and the nodes the document would have once every alias is expanded. A "billion laughs"
    file of 515 bytes expands to ~10⁹ nodes: it is refused after reading its few hundred events."""
    import yaml

    sizes: dict[str, int] = {}
    stack: list[list] = [[None, 0]]  # [anchor, expanded nodes so far] of each open collection
    aliases = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise ValueError(f"别名（*引用）过多：超过 {MAX_YAML_ALIASES} 个")
            stack[-1][1] += sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][1] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            stack[-1][1] += size
        else:
            continue
        if stack[-1][1] > MAX_YAML_NODES:  # a collection only grows by what is added on top of the stack
            raise ValueError(f"文件展开后过大：超过 {MAX_YAML_NODES} 个节点（别名嵌套过深？）")


def parse_yaml(text: str, filename: str) -> dict:
    import yaml

    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise DocumentFormatError(filename, [("", f"文件过大（{size / 1024 / 1024:.1f} MB）：不能超过 "
                                             f"{MAX_YAML_BYTES // 1024 // 1024} MB")])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
    try:
        _yaml_budget(text, loader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except ValueError as exc:
        raise DocumentFormatError(filename, [("", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        raise DocumentFormatError(filename, [(where, f"YAML 语法错误：{clip(getattr(exc, 'problem', exc))}")]) from None
    if not isinstance(data, dict):
        raise DocumentFormatError(filename, [("", "文件内容须为一个映射（以 kind: call 开头）")])
    return data
