"""The composer's address suggestions: the user's own correspondents (collected by
``webmail.mailbox.correspondents``), as JSON for static/js/recipients.js."""

from __future__ import annotations

from email.headerregistry import Address

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from accounts.http import SignedInRequest
from outbox.models import OutgoingMessage
from webmail.mailbox import correspondents

QUERY_LENGTH = 100


def collect(message: OutgoingMessage) -> int:
    """A queued message's recipients, counted as written to."""
    pairs = message.recipients.values_list("address", "display_name")
    return correspondents.record_sent(message.user_id, pairs, message.created_at)


def header_value(name: str, address: str) -> str:
    """``Name <address>`` as a To field takes it: the name quoted when it needs to be."""
    if not name:
        return address
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError):
        return address


@login_required
@require_GET
def suggestions(request: SignedInRequest) -> HttpResponse:
    """GET ?q=...: at most ten of the user's correspondents whose address or a word of whose
    name starts with q, best first: [{"name", "address", "value"}, ...]."""
    query = request.GET.get("q", "")[:QUERY_LENGTH]
    found = correspondents.suggest(request.user, query)
    response = JsonResponse(
        [
            {"name": row.display_name, "address": row.address, "value": header_value(row.display_name, row.address)}
            for row in found
        ],
        safe=False,
    )
    response["Cache-Control"] = "private, no-store"
    return response
