"""CEL expressions: what a call's structured fields cannot say (a condition, a tier, a check).

Compiled once at load time (never Python eval). CEL does not coerce between int and double, so the
contexts built for it keep money as whole yuan (int) and counts as int; `to_cel` converts the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import cel

# Names bound by CEL's comprehension macros (`list.exists(x, …)`) are reported as variables by the
# library; they are not free names of the context.
_BINDER = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")


class ExpressionError(ValueError):
    pass


def hanzi_count(value: Any) -> int:
    """The number of 汉字 (CJK ideographs) in a text: what notices count when they say “800字内”; letters,
    digits, spaces and punctuation do not count."""
    if not isinstance(value, str):
        return 0
    return sum(1 for ch in value if _is_hanzi(ch))


def _is_hanzi(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2EBEF
            or 0xF900 <= o <= 0xFAFF or 0x30000 <= o <= 0x3134F)


# Functions every expression may call, besides CEL's own (size, has, matches …).
FUNCTIONS = {"hanzi_count": hanzi_count}


# R-S79: the size and cost of an expression are bounded when it is compiled (at load time): the calls'
# own expressions are under 110 characters with at most one comprehension. A 375-character condition of
# nested comprehensions over list literals took 12 s per evaluation; these bounds refuse it.
MAX_EXPR_CHARS = 1000
MAX_EXPR_DEPTH = 12          # brackets ( [ { open at once
MAX_COMPREHENSIONS = 4       # .all / .exists / .exists_one / .map / .filter in one expression
MAX_COMPREHENSION_NESTING = 2  # a comprehension inside a comprehension, no deeper
MAX_LIST_LITERAL = 100       # elements of one list or map literal
_MACRO = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*$")


def check_cost(source: str) -> None:
    """Refuse an expression too long, too deeply nested or with too many (nested) comprehensions, before
    the CEL library sees it. String literals are skipped; the messages quote at most 60 characters."""
    if len(source) > MAX_EXPR_CHARS:
        raise ExpressionError(f"表达式过长（{len(source)} 字符，不能超过 {MAX_EXPR_CHARS}）")
    stack: list[list] = []  # [bracket, is a comprehension, elements so far]
    macros = 0
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            quote = source[i:i + 3] if source[i:i + 3] in ('"""', "'''") else ch
            j = i + len(quote)
            while j < n and source[j:j + len(quote)] != quote:
                j += 2 if source[j] == "\\" else 1
            i = j + len(quote)
            continue
        if ch in "([{":
            is_macro = ch == "(" and bool(_MACRO.search(source[max(0, i - 20):i]))
            if is_macro:
                macros += 1
                if macros > MAX_COMPREHENSIONS:
                    raise ExpressionError(f"表达式中的 all/exists/map/filter 过多（不能超过 {MAX_COMPREHENSIONS} 个）")
                if sum(1 for s in stack if s[1]) + 1 > MAX_COMPREHENSION_NESTING:
                    raise ExpressionError(f"all/exists/map/filter 嵌套过深（不能超过 {MAX_COMPREHENSION_NESTING} 层）")
            stack.append([ch, is_macro, 1])
            if len(stack) > MAX_EXPR_DEPTH:
                raise ExpressionError(f"表达式嵌套过深（括号不能超过 {MAX_EXPR_DEPTH} 层）")
        elif ch in ")]}":
            if stack:
                stack.pop()
        elif ch == "," and stack:
            stack[-1][2] += 1
            if stack[-1][0] in "[{" and stack[-1][2] > MAX_LIST_LITERAL:
                raise ExpressionError(f"表达式中的列表过长（不能超过 {MAX_LIST_LITERAL} 项）")
        i += 1


@dataclass(frozen=True)
class Expression:
    source: str
    program: Any

    def top_level_names(self) -> list[str]:
        bound = set(_BINDER.findall(self.source))
        return [v for v in self.program.variables() if v not in bound]

    def evaluate(self, context: dict[str, Any]) -> Any:
        try:
            return self.program.execute(cel.Context(to_cel(context), FUNCTIONS))
        except Exception as exc:  # the CEL runtime raises plain exceptions with its own text
            raise ExpressionError(f"表达式 {clip(self.source)!r} 无法求值：{clip(exc)}") from exc

    def holds(self, context: dict[str, Any]) -> bool:
        return self.evaluate(context) is True


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    check_cost(source)
    try:
        program = cel.compile(source)
    except Exception as exc:
        text = str(exc).splitlines()[0]
        raise ExpressionError(f"CEL 表达式有语法错误：{text}") from None
    return Expression(source, program)


def clip(text: Any, limit: int = 200) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def to_cel(value: Any) -> Any:
    """Python values → the types CEL accepts (Decimal → int when whole, else float; dates → ISO text)."""
    if isinstance(value, dict):
        return {str(k): to_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_cel(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
