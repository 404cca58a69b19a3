"""Checking the audit chain (`shenbao audit-verify`): the first broken link, or OK with the count."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from shenbao.core import chain
from shenbao.core.models import AuditChainHead, AuditEvent

FIELDS = [n for n in chain.FIELDS if n != "seq"]


@dataclass
class Verdict:
    ok: bool
    count: int
    event_id: int | None = None
    at: object = None
    reason: str = ""

    def text(self) -> str:
        if self.ok:
            return f"OK：审计日志完整，共 {self.count} 条事件，哈希链无断裂。"
        when = f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}" if self.at else "—"
        which = f"事件 #{self.event_id}（{when}）" if self.event_id else "链尾"
        return f"断链：第一处在{which}：{self.reason}（此前 {self.count} 条事件完好）"


def verify() -> Verdict:
    prev_hash, expected_seq, count = "", 1, 0
    rows = (AuditEvent.objects.order_by("seq", "id")
            .values("id", "seq", "prev_hash", "hash", *FIELDS).iterator(chunk_size=2000))
    for row in rows:
        if row["seq"] is None:
            return Verdict(False, count, row["id"], row["at"], "事件不在哈希链中（没有序号）")
        if row["seq"] != expected_seq:
            return Verdict(False, count, row["id"], row["at"],
                           f"序号应为 {expected_seq}，实为 {row['seq']}：其间的事件被删除")
        if row["prev_hash"] != prev_hash:
            return Verdict(False, count, row["id"], row["at"], "记录的前一事件哈希与前一事件不符")
        if chain.digest(row, prev_hash) != row["hash"]:
            return Verdict(False, count, row["id"], row["at"], "事件内容与其哈希不符：事件被修改")
        prev_hash, expected_seq, count = row["hash"], expected_seq + 1, count + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != count or head.hash != prev_hash):
        return Verdict(False, count, None, None,
                       f"链头记录共 {head.seq} 条事件，实有 {count} 条：最后的事件被删除或链头被修改")
    return Verdict(True, count)
