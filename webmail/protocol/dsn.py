"""Delivery status notifications (RFC 3464): read a bounce and update the recipient it is about.

A report is matched to an outgoing message of the same mail account, by the envelope id we
sent (ENVID, our message's id) or else by the Message-ID in the returned headers. Only the
account that sent a message can change its status, so a report forged by a stranger cannot
touch somebody else's mail.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from dataclasses import dataclass, field
from email.message import Message

from django.db import transaction
from django.utils import timezone

from outbox.models import OutgoingMessage, Recipient, RecipientState

_ACTIONS = {
    "failed": RecipientState.BOUNCED,
    "delayed": RecipientState.DELAYED,
    "delivered": RecipientState.DELIVERED,
    "relayed": RecipientState.DELIVERED,
    "expanded": RecipientState.DELIVERED,
}
# A delay report must not undo news that the message was delivered or bounced.
_FINAL = {RecipientState.BOUNCED, RecipientState.DELIVERED}
_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class RecipientStatus:
    address: str
    original_address: str
    action: str
    status: str
    diagnostic: str


@dataclass
class DeliveryReport:
    envelope_id: str = ""
    original_message_id: str = ""
    reporting_mta: str = ""
    recipients: list[RecipientStatus] = field(default_factory=list)


def is_report(content_type_header: str) -> bool:
    value = content_type_header.lower()
    return "multipart/report" in value and "delivery-status" in value


def _xtext_decode(value: str) -> str:
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value)


def _address(value: str | None) -> str:
    # "rfc822; user@example.org" -> "user@example.org"
    if not value:
        return ""
    kind, _sep, address = str(value).partition(";")
    address = address if _sep else kind
    return _xtext_decode(address.strip()).strip("<>").lower()


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def parse(raw: bytes) -> DeliveryReport | None:
    """The report in ``raw``, or None when it is not a delivery status notification."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not is_report(message.get("Content-Type", "")):
        return None
    report = DeliveryReport()
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            blocks = [b for b in (part.get_payload() or []) if isinstance(b, Message)]
            if not blocks:
                continue
            per_message, per_recipient = blocks[0], blocks[1:]
            report.envelope_id = _xtext_decode(_field(per_message, "Original-Envelope-Id"))
            report.reporting_mta = _field(per_message, "Reporting-MTA")
            for block in per_recipient:
                final = _address(_field(block, "Final-Recipient"))
                original = _address(_field(block, "Original-Recipient"))
                if not final and not original:
                    continue
                report.recipients.append(
                    RecipientStatus(
                        address=final or original,
                        original_address=original,
                        action=_field(block, "Action").lower(),
                        status=_field(block, "Status"),
                        diagnostic=_field(block, "Diagnostic-Code"),
                    )
                )
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not report.original_message_id:
            report.original_message_id = _returned_message_id(part)
    return report


def _returned_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return str(payload[0].get("Message-ID", "")).strip()
    if isinstance(payload, str):
        headers = email.message_from_string(payload, policy=email.policy.compat32)
        return str(headers.get("Message-ID", "")).strip()
    return ""


def _find_message(account_id: uuid.UUID, report: DeliveryReport) -> OutgoingMessage | None:
    mine = OutgoingMessage.objects.filter(account_id=account_id)
    if report.envelope_id:
        try:
            return mine.filter(pk=uuid.UUID(report.envelope_id)).first()
        except ValueError:
            pass
    if report.original_message_id:
        return mine.filter(message_id=report.original_message_id).order_by("-created_at").first()
    return None


def apply(account_id: uuid.UUID, report: DeliveryReport) -> int:
    """Record the report on the matching recipients; returns how many changed."""
    message = _find_message(account_id, report)
    if message is None:
        return 0
    changed = 0
    with transaction.atomic():
        recipients = {r.address.lower(): r for r in Recipient.objects.select_for_update().filter(message=message)}
        for status in report.recipients:
            recipient = recipients.get(status.original_address) or recipients.get(status.address)
            new_state = _ACTIONS.get(status.action)
            if recipient is None or new_state is None:
                continue
            if new_state == RecipientState.DELAYED and recipient.state in _FINAL:
                continue
            code_match = re.match(r"\s*(\d{3})\b", status.diagnostic.partition(";")[2])
            recipient.state = new_state
            recipient.enhanced_code = status.status[:16]
            recipient.code = int(code_match.group(1)) if code_match else recipient.code
            recipient.reply = (status.diagnostic or status.action)[:1000]
            recipient.updated_at = timezone.now()
            recipient.save(update_fields=["state", "enhanced_code", "code", "reply", "updated_at"])
            changed += 1
    return changed
