"""Delivery status notifications found in a mailbox update the recipient they are about.

A report is matched to an outgoing message of the same mail account, by the envelope id we
sent (ENVID, our message's id) or else by the Message-ID in the returned headers. Only the
account that sent a message can change its status, so a report forged by a stranger cannot
touch somebody else's mail.
"""

from __future__ import annotations

import re
import uuid

from django.db import transaction
from django.utils import timezone

from outbox.models import OutgoingMessage, Recipient, RecipientState
from webmail.protocol.dsn import DeliveryReport

_ACTIONS = {
    "failed": RecipientState.BOUNCED,
    "delayed": RecipientState.DELAYED,
    "delivered": RecipientState.DELIVERED,
    "relayed": RecipientState.DELIVERED,
    "expanded": RecipientState.DELIVERED,
}
# A delay report must not undo news that the message was delivered or bounced.
_FINAL = {RecipientState.BOUNCED, RecipientState.DELIVERED}


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
