"""The TrueType CJK font embedded in every PDF (ReportLab cannot use the CFF-based Noto CJK fonts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_NAME = "ShenbaoCJK"


class NoCJKFontError(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the first TrueType CJK font of settings.SHENBAO_CJK_FONTS; return its ReportLab name."""
    from django.conf import settings
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    tried = []
    for path in settings.SHENBAO_CJK_FONTS:
        p = Path(path)
        if not p.is_file():
            tried.append(path)
            continue
        kwargs = {"subfontIndex": 0} if p.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(p), **kwargs))
        return FONT_NAME
    raise NoCJKFontError("找不到可嵌入的 TrueType 中文字体，已尝试：" + "，".join(tried))
