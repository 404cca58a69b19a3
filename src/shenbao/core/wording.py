"""Wording that names the kind of issuer: the platform's name and the body a unit registers under.

The defaults speak of 科协; a 科委 or another issuer sets its own words in the settings (environment
variables `SHENBAO_SITE_NAME`, `SHENBAO_HOME_LABEL`, `SHENBAO_HOME_HELP`). A text is translated when the
English catalogue has it (the defaults do), else shown as set.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

DEFAULTS = {
    "SHENBAO_SITE_NAME": gettext_noop("科协项目申报平台"),
    # the registration page's field for the body that approves the unit (R-E9's home association)
    "SHENBAO_HOME_LABEL": gettext_noop("属地科协（主管科协）"),
    "SHENBAO_HOME_HELP": gettext_noop("本单位所属的市、县（区）科协或主管科协，由其审核注册"),
}


def text(name: str) -> str:
    """The configured wording `name` (a key of DEFAULTS) in the active language."""
    value = getattr(settings, name, "") or DEFAULTS[name]
    return gettext(value)


text_lazy = lazy(text, str)


def context(request) -> dict:
    """Template context processor: `site_name` and `home_label` on every page."""
    return {"site_name": text("SHENBAO_SITE_NAME"), "home_label": text("SHENBAO_HOME_LABEL")}
