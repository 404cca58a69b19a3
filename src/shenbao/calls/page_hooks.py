"""What later stages show on the public call page (e.g. the 公示 of the call's result, review/notice.py).

`calls` sits below those stages and never imports them: a stage appends a callable `section(request, call)`
returning HTML (already escaped: a rendered template) or "" in its AppConfig.ready; the call page shows
every non-empty section below the notice's head, in the order registered."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

CALL_SECTIONS: list[Callable] = []


def sections(request, call) -> list[SafeString]:
    out = []
    for section in CALL_SECTIONS:
        html = section(request, call)
        if html:
            out.append(mark_safe(html))  # noqa: S308 - a rendered template
    return out
