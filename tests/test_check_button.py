"""检查是否填写完整 (issue 7 item 1) posts the page: what is on the page is saved first, then checked in full,
with what submission would still ask besides the form (own approval, R-E8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shenbao.applications import services
from tests.journey_support import reopen, unit, values_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing", "media")]


def test_check_saves_the_page_then_checks_it_in_full(client, load_call, make_org, make_user):  # R-E8
    call = reopen(load_call("hunan2024"))
    _org, clerk, _head = unit(make_org, make_user, name="湖南省检查按钮学会", category="province_society",
                              parent=call.issuer, prefix="ck")
    ptype = call.types.get(code="1-1")
    app = services.create_draft(user=clerk, project_type=ptype, track=ptype.tracks.get(code="high_end_event"))
    from tests.journey_support import post_form

    values = values_for(app)
    client.force_login(clerk)
    r = client.post(reverse("applications:edit", args=[app.pk]),
                    {**post_form(values), "version": str(app.version), "action": "check"})
    assert r.status_code == 200
    page = r.content.decode()
    app.refresh_from_db()
    assert app.data["project_name"] == values["project_name"]  # saved first
    assert 'id="submit-reasons"' in page and "审议会议" in page  # what else submission asks
    assert "sb-error-summary" not in page  # the form itself is complete
