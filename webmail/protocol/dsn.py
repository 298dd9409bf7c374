"""Delivery status notifications (RFC 3464): read a bounce or delay report into plain data.

What a report changes is the outbox's business (``outbox.bounces``): mailbox sync finds reports
and sends ``accounts.signals.delivery_report_found``.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message

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
