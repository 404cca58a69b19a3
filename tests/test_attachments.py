"""Attachments as a form field (issue 7 item 8): uploads kept by content hash with the scan upload's limits,
named by the draft, frozen with id and hash in the submitted version, listed on the page and in the print,
downloaded by whoever may see the application (audited)."""

from __future__ import annotations

import hashlib
import io

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from shenbao.applications import printing, services
from shenbao.applications.models import Attachment
from shenbao.calls import services as call_services
from shenbao.core.decisions import NotAllowed
from shenbao.core.models import AuditEvent
from shenbao.orgs.models import Role
from tests.conftest import CALLS
from tests.journey_support import filled_draft, reopen, unit
from tests.test_forms_rendering import browser_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

DESIGN = {"key": "design", "label": "展览设计方案及效果图", "kind": "attachment", "required": True,
          "accept": ["pdf", "png"], "max_mb": 1, "max_files": 2}
PROOF = {"key": "proof", "label": "证明材料", "kind": "attachment"}


@pytest.fixture
def call(catalogue, tmp_path):
    data = yaml.safe_load((CALLS / "liuzhou-2026-kcfn.yaml").read_text("utf-8"))
    form = next(f for f in data["forms"] if f["code"] == "F2")
    form["sections"][1]["fields"] = [*form["sections"][1]["fields"], DESIGN, PROOF]
    path = tmp_path / "liuzhou-attach.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return reopen(call_services.load_path(path=path, publish=True).call)


@pytest.fixture
def people(call, make_org, make_user):
    _org, clerk, _head = unit(make_org, make_user, name="柳州市附件学会", category="city_society", parent=call.issuer,
                             prefix="att")
    _other, stranger, _h = unit(make_org, make_user, name="柳州市别的学会", category="city_society",
                               parent=call.issuer, prefix="oth")
    staff = make_user("lz_att_staff", org=call.issuer, roles=(Role.FUNDER_STAFF,))
    return clerk, stranger, staff


@pytest.fixture
def draft(call, people):
    return filled_draft(people[0], call, "2026-2")


def pdf_bytes(pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def png_bytes(size=(20, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def up(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_upload_is_kept_by_hash_with_type_from_content(draft, people, media):  # R-F1
    clerk = people[0]
    content = pdf_bytes(3)
    row = services.upload_attachment(user=clerk, application=draft, field_key="design", upload=up(content, "方案.png"))
    sha = hashlib.sha256(content).hexdigest()
    assert (row.kind, row.sha256, row.pages, row.size, row.original_name) == ("pdf", sha, 3, len(content), "方案.png")
    assert row.file.name == f"attachments/{sha[:2]}/{sha}.pdf"
    assert (media / row.file.name).read_bytes() == content
    assert AuditEvent.objects.filter(action="application.attachment_uploaded", object_id=str(draft.pk)).exists()


def test_refused_uploads_change_nothing(draft, people, media, settings):  # R-F1, R-S80, R-S83
    clerk = people[0]
    good = services.upload_attachment(user=clerk, application=draft, field_key="design", upload=up(pdf_bytes(), "a.pdf"))
    services.save_draft(user=clerk, application=draft, values={**draft.data, "design": [good.ref()]},
                        expected_version=draft.version)
    draft.refresh_from_db()
    before = (draft.version, draft.data["design"], Attachment.objects.count())
    cases = [
        (up(b"MZ\x90\x00 not a pdf", "evil.pdf"), "只接受 PDF、PNG 格式的文件"),   # type sniffed, not from the name
        (up(b"\xff\xd8\xff\xe0 jpeg", "photo.jpg"), "只接受 PDF、PNG 格式的文件"),  # a type the field does not allow
        (up(b"%PDF-" + b"0" * (1024 * 1024), "big.pdf"), "不能超过 1 MB"),          # the field's max_mb
        (up(b"", "empty.pdf"), "文件是空的"),
        (up(png_bytes((9000, 8000)), "bomb.png"), "像素过多"),                    # the scan upload's pixel limit
    ]
    for upload, message in cases:
        with pytest.raises(services.AttachmentRefused) as exc:
            services.upload_attachment(user=clerk, application=draft, field_key="design", upload=upload)
        assert message in exc.value.message
    with pytest.raises(services.AttachmentRefused):
        services.upload_attachment(user=clerk, application=draft, field_key="project_name", upload=up(pdf_bytes(), "x.pdf"))
    draft.refresh_from_db()
    assert (draft.version, draft.data["design"], Attachment.objects.count()) == before
    assert list((media / "attachments").glob(".incoming-*")) == []
    assert AuditEvent.objects.filter(action="application.attachment_refused").count() == len(cases) + 1


def test_a_draft_may_name_only_uploads_of_this_application(call, draft, people):  # R-S72
    clerk, stranger, _staff = people
    other = filled_draft(stranger, call, "2026-2")
    theirs = services.upload_attachment(user=stranger, application=other, field_key="design",
                                        upload=up(pdf_bytes(), "theirs.pdf"))
    with pytest.raises(NotAllowed):
        services.upload_attachment(user=stranger, application=draft, field_key="design", upload=up(pdf_bytes(), "x.pdf"))
    version = draft.version
    with pytest.raises(services.InputRefused) as exc:
        services.save_draft(user=clerk, application=draft, values={**draft.data, "design": {"document_id": theirs.pk}},
                            expected_version=version)
    assert "不是本申报“展览设计方案及效果图”一栏上传的文件" in exc.value.message
    mine = services.upload_attachment(user=clerk, application=draft, field_key="proof", upload=up(pdf_bytes(), "p.pdf"))
    with pytest.raises(services.InputRefused):  # another field's upload
        services.save_draft(user=clerk, application=draft, values={**draft.data, "design": {"document_id": mine.pk}},
                            expected_version=version)
    draft.refresh_from_db()
    assert draft.version == version and "design" not in draft.data


def test_required_attachment_blocks_submission_then_is_frozen_with_its_hash(draft, people):  # R-F1, R-E4
    clerk = people[0]
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=draft)
    assert exc.value.errors["design"] == ["请上传展览设计方案及效果图"]
    a = services.upload_attachment(user=clerk, application=draft, field_key="design", upload=up(pdf_bytes(2), "方案.pdf"))
    b = services.upload_attachment(user=clerk, application=draft, field_key="design", upload=up(png_bytes(), "效果图.png"))
    # the client names the uploads by id only: name, hash, size and pages come from the server
    services.save_draft(user=clerk, application=draft, expected_version=draft.version,
                        values={**draft.data, "design": [{"document_id": a.pk, "name": "x", "sha256": "0" * 64},
                                                         {"document_id": str(b.pk)}]})
    draft.refresh_from_db()
    result = services.submit(user=clerk, application=draft)
    frozen = result.snapshot.values["values"]["design"]
    assert [(d["document_id"], d["sha256"], d["name"]) for d in frozen] == [
        (a.pk, a.sha256, "方案.pdf"), (b.pk, b.sha256, "效果图.png")]
    assert frozen[0]["pages"] == 2 and frozen[1]["size"] == b.size
    assert "proof" not in result.snapshot.values["values"]  # optional, not given
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printing.pdf(result.snapshot))).pages)
    assert "方案.pdf" in text and f"SHA-256 {a.sha256[:12]}" in text and "2页" in text
    assert "效果图.png" in text and f"SHA-256 {b.sha256[:12]}" in text


def test_too_many_files_for_the_field(draft, people):
    clerk = people[0]
    refs = [services.upload_attachment(user=clerk, application=draft, field_key="design",
                                       upload=up(pdf_bytes(n), f"{n}.pdf")).ref() for n in (1, 2, 3)]
    services.save_draft(user=clerk, application=draft, values={**draft.data, "design": refs},
                        expected_version=draft.version)
    draft.refresh_from_db()
    with pytest.raises(services.Refused) as exc:
        services.submit(user=clerk, application=draft)
    assert exc.value.errors["design"] == ["展览设计方案及效果图最多上传 2 个文件"]


def test_page_upload_replaces_keeps_on_refusal_lists_and_downloads(client, draft, people, media):  # R-F1
    clerk, stranger, _staff = people
    client.force_login(clerk)
    edit = reverse("applications:edit", args=[draft.pk])
    page = client.get(edit).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="f-design" multiple' in page
    content = pdf_bytes(1)
    r = client.post(edit, {**_posted(client, edit), "f-proof": up(content, "证明.pdf")})
    assert r.status_code == 302
    draft.refresh_from_db()
    first = draft.data["proof"]
    assert first["name"] == "证明.pdf" and first["sha256"] == hashlib.sha256(content).hexdigest()
    # a refused file: HTTP 400, the message, the field keeps its file
    r = client.post(edit, {**_posted(client, edit), "f-proof": up(b"GIF89a", "x.pdf")})
    assert r.status_code == 400 and "只接受 PDF、JPG、PNG 格式的文件" in r.content.decode()
    draft.refresh_from_db()
    assert draft.data["proof"] == first
    # the detail page lists it with its facts, and the file downloads (audited) for those who may see it
    r = client.get(edit)
    assert f"SHA-256 {first['sha256'][:12]}" in r.content.decode()
    url = reverse("applications:attachment_file", args=[first["document_id"]])
    r = client.get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == content
    assert AuditEvent.objects.filter(action="file.download", object_id=str(draft.pk)).exists()
    client.logout()
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def _posted(client, url: str) -> dict:
    """What the edit page posts as it is (its inputs and values, no file chosen)."""
    qd = browser_post(client.get(url).content.decode())
    return {k: qd.getlist(k) for k in qd if k not in ("action",)}


# --- the API (issue 7 item 8) -----------------------------------------------------------------------------


def test_api_uploads_an_attachment_names_it_in_the_draft_and_refuses_a_foreign_id(client, call, draft, people):
    # R-F1, R-S72: the draft may name only an upload of this application
    clerk, stranger, _staff = people
    other = filled_draft(stranger, call, "2026-2")
    theirs = services.upload_attachment(user=stranger, application=other, field_key="design",
                                        upload=up(pdf_bytes(), "theirs.pdf"))
    client.force_login(clerk)
    base = f"/api/v1/applications/{draft.pk}"
    content = pdf_bytes(2)
    r = client.post(f"{base}/attachments/design", {"file": up(content, "方案.pdf")})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["sha256"], body["pages"], body["type"]) == (hashlib.sha256(content).hexdigest(), 2, "pdf")
    r = client.post(f"{base}/attachments/design", {"file": up(b"PK\x03\x04 broken", "a.pdf")})
    assert r.status_code == 422 and "只接受 PDF、PNG 格式的文件" in r.json()["detail"]
    values = {**draft.data, "design": [{"document_id": theirs.pk}]}
    r = client.put(base, {"version": draft.version, "values": values}, content_type="application/json")
    assert r.status_code == 400 and "不是本申报“展览设计方案及效果图”一栏上传的文件" in r.json()["detail"]
    values["design"] = [{"document_id": body["document_id"]}]
    r = client.put(base, {"version": draft.version, "values": values}, content_type="application/json")
    assert r.status_code == 200, r.content
    draft.refresh_from_db()
    assert draft.data["design"][0]["sha256"] == body["sha256"]
    r = client.get(body["url"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == content
