"""Personal data (phones, WeChat IDs) is shown to those who need it and masked elsewhere."""

import pytest

from shenbao.core import audit
from shenbao.core.privacy import mask_personal, mask_text
from shenbao.orgs.models import Role

pytestmark = pytest.mark.usefixtures("fast_hashing")


def test_masking_rules():
    assert mask_text("13800138000") == "138****8000"
    assert mask_text("0772-2629066") == "0772-****9066"
    assert mask_text("zm_wx2026") == "z*******6"
    assert mask_text("lzkx@gxi.gov.cn") == "l***@gxi.gov.cn"
    record = {"project_contact": {"name": "张明", "phone": "18276735671", "wechat": "zhangming88"},
              "note": "请联系 17344255505", "amount": 15000}
    masked = mask_personal(record)
    assert masked == {"project_contact": {"name": "张明", "phone": "182****5671", "wechat": "z*********8"},
                      "note": "请联系 173****5505", "amount": 15000}
    assert record["project_contact"]["phone"] == "18276735671"  # the record itself is untouched


@pytest.mark.django_db
def test_audit_administrator_sees_events_without_personal_data(client, make_org, make_user):
    society = make_org("柳州市机械工程学会", "city_society")
    auditor = make_user("auditor", roles=(Role.AUDIT_ADMIN,))
    audit.record(action="application.save", obj=society,
                 after={"project_contact": {"name": "张明", "phone": "18276735671", "wechat": "zhangming88"}})
    client.force_login(auditor)
    page = client.get("/accounts/audit/").content.decode()
    assert "application.save" in page and "张明" in page
    assert "18276735671" not in page and "zhangming88" not in page
    assert "182****5671" in page
