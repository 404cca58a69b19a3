"""The TrueType CJK font embedded in every PDF (ReportLab cannot use the CFF-based Noto CJK fonts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_NAME = "ShenbaoCJK"

# Tick boxes: the CJK fonts have □ and ■ but not ☐ (U+2610) and ☑ (U+2611). The text keeps the proper
# characters (copying or extracting it gives ☐/☑) and they are drawn with the glyphs of □ and ■ of the same
# font, so that a form keeps one embedded font.
BOX_ALIASES = {0x2610: 0x25A1, 0x2611: 0x25A0}


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
        font = TTFont(FONT_NAME, str(p), **kwargs)
        _alias_boxes(font.face)
        pdfmetrics.registerFont(font)
        return FONT_NAME
    raise NoCJKFontError("找不到可嵌入的 TrueType 中文字体，已尝试：" + "，".join(tried))


def _alias_boxes(face) -> None:
    for char, glyph_of in BOX_ALIASES.items():
        if char not in face.charToGlyph and glyph_of in face.charToGlyph:
            face.charToGlyph[char] = face.charToGlyph[glyph_of]
            face.charWidths[char] = face.charWidths[glyph_of]
