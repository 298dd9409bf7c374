"""The people a user writes to and hears from, for the composer's address suggestions.

Collected from two places: the recipients of a message the user queued (``record_sent``, from
the outbox once the message is committed) and the envelopes a folder sync stores
(``record_envelopes``: the From of received mail; To and Cc of the Sent folder's messages,
which the user wrote). Drafts, Junk and Trash are not read. Never collected: the user's own
addresses (their login and every identity), addresses that cannot be written to (no domain,
non-ASCII before the @, not valid), and automated senders, by their local part: ``noreply``,
``no-reply``, ``donotreply`` and the like, ``mailer-daemon``, ``postmaster``, ``bounce...``,
``owner-...`` and ``...-request``, ``...-bounces``, ``...-owner`` (mailing-list machinery).

Ranking: each sighting adds a weight (3 for a message written to the address, 1 for one
received from it) that halves every ``HALF_LIFE_DAYS``. The sum of those decaying weights is
kept as one number in days, ``rank = τ·ln(Σ wᵢ·e^{tᵢ/τ})`` (τ = half-life / ln 2, t in days
since 2020), which does not change as time passes: ordering by it is ordering by the score at
any moment, so the query is a plain index walk. One sighting today outranks ten from a year
ago; ten received last month outrank one written today.

Counts are of sightings, not of distinct messages: a message sent from here is counted when it
is queued and again when its Sent copy is first synced, and a message moved to another folder
is seen again there. The rank only orders one user's own suggestions, so this is accepted.

Cost per sync batch (up to 2,000 envelopes): the addresses are read from the envelopes in
Python, then four queries: the account's user, their identities, the existing rows of the
addresses seen (locked), one INSERT ... ON CONFLICT for all of them.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Identity, MailAccount, User
from webmail.mailbox.models import Correspondent, Folder, SpecialUse
from webmail.protocol import headers

log = logging.getLogger(__name__)

WRITTEN_WEIGHT = 3.0
RECEIVED_WEIGHT = 1.0
HALF_LIFE_DAYS = 30.0
TAU = HALF_LIFE_DAYS / math.log(2)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
SUGGESTIONS = 10
NAME_LENGTH = Correspondent._meta.get_field("display_name").max_length or 200

_RECEIVED_FROM = {SpecialUse.INBOX, SpecialUse.NONE, SpecialUse.ARCHIVE}
_AUTOMATED = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-?daemon|postmaster|bounces?|owner-)|(-request|-bounces?|-owner)$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class Sighting:
    address: str
    name: str
    when: datetime | None
    written: bool


def normalize(address: str) -> str | None:
    """The address as stored and matched: lower case, the domain in its IDNA (A-label) form;
    None for one that cannot be written to."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or not local.isascii():
        return None
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    normalized = f"{local}@{domain}".lower()
    try:
        validate_email(normalized)
    except ValidationError:
        return None
    return normalized


def is_automated(address: str) -> bool:
    """A sender nobody writes to: no-reply addresses, bounces, mailing-list machinery."""
    return _AUTOMATED.search(address.rpartition("@")[0].replace("_", "-").replace(".", "-")) is not None


def _days(when: datetime) -> float:
    return (when - EPOCH).total_seconds() / 86400


def _log_add(a: float | None, b: float) -> float:
    """τ·ln(e^{a/τ} + e^{b/τ}), without overflow: two ranks' weights added."""
    if a is None:
        return b
    high, low = max(a, b), min(a, b)
    return high + TAU * math.log1p(math.exp((low - high) / TAU))


@dataclass
class _Tally:
    name: str = ""
    named_at: datetime | None = None
    last: datetime | None = None
    written: int = 0
    received: int = 0
    rank: float | None = None

    def add(self, sighting: Sighting, when: datetime) -> None:
        if sighting.name and (self.named_at is None or when >= self.named_at):
            self.name, self.named_at = sighting.name, when
        self.last = when if self.last is None else max(self.last, when)
        if sighting.written:
            self.written += 1
        else:
            self.received += 1
        weight = WRITTEN_WEIGHT if sighting.written else RECEIVED_WEIGHT
        self.rank = _log_add(self.rank, _days(when) + TAU * math.log(weight))


def own_addresses(user_id: int) -> set[str]:
    login = User.objects.filter(pk=user_id).values_list("email", flat=True)
    addresses = [*login, *Identity.objects.filter(user_id=user_id).values_list("address", flat=True)]
    return {normalized for address in addresses if (normalized := normalize(address))}


def record(user_id: int, sightings: Iterable[Sighting]) -> int:
    """Add sightings to the user's correspondents in one upsert; returns how many addresses."""
    now = timezone.now()
    own = own_addresses(user_id)
    tallies: dict[str, _Tally] = {}
    for sighting in sightings:
        address = normalize(sighting.address)
        if address is None or address in own or is_automated(address):
            continue
        when = min(sighting.when, now) if sighting.when else now  # a Date from the future counts as now
        tallies.setdefault(address, _Tally()).add(sighting, when)
    if not tallies:
        return 0
    with transaction.atomic():
        existing: dict[str, tuple] = {}
        addresses = sorted(tallies)
        for start in range(0, len(addresses), 500):
            rows = Correspondent.objects.select_for_update().filter(
                user_id=user_id, address__in=addresses[start : start + 500]
            )
            existing.update((row[0], row[1:]) for row in rows.order_by("address").values_list("address", *_COLUMNS))
        _upsert([_merged(user_id, address, tally, existing.get(address)) for address, tally in tallies.items()])
    return len(tallies)


_COLUMNS = ("display_name", "times_written", "times_received", "last_used_at", "rank")


def _merged(user_id: int, address: str, tally: _Tally, row: tuple | None) -> tuple:
    """The row's values with a batch's tally added (a new row's if there was none), as
    (user_id, address, *_COLUMNS)."""
    assert tally.last is not None and tally.rank is not None  # a tally has at least one sighting
    name, written, received, last, rank = row or (tally.name, 0, 0, tally.last, None)
    # A name seen at least as recently as the row's last use wins; an older one only fills a gap.
    if tally.name and (not name or (tally.named_at and tally.named_at >= last)):
        name = tally.name
    name = _CONTROL.sub(" ", name).strip()[:NAME_LENGTH]
    last = connection.ops.adapt_datetimefield_value(max(last, tally.last))
    return (
        user_id,
        address,
        name,
        written + tally.written,
        received + tally.received,
        last,
        _log_add(rank, tally.rank),
    )


def _upsert(rows: list[tuple]) -> None:
    """INSERT ... ON CONFLICT (user, address) DO UPDATE from plain tuples: a fifth of what
    bulk_create costs in Python. On PostgreSQL one statement whose seven parameters are arrays
    (unnest), elsewhere 100 rows a statement (within the 999 parameters an older SQLite takes)."""
    quote = connection.ops.quote_name
    meta = Correspondent._meta
    column = {field.name: field.column for field in meta.concrete_fields}
    names = [quote(column[name]) for name in ("user", "address", *_COLUMNS)]
    columns = ", ".join(names)
    conflict = f"ON CONFLICT ({names[0]}, {names[1]}) DO UPDATE SET " + ", ".join(
        f"{name} = EXCLUDED.{name}" for name in names[2:]
    )
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ("bigint", "text", "text", "bigint", "bigint", "timestamptz", "float8")
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {conflict}",  # noqa: S608
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        one = f"({', '.join(['%s'] * len(names))})"
        for start in range(0, len(rows), 100):
            batch = rows[start : start + 100]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))} {conflict}",  # noqa: S608
                [value for row in batch for value in row],
            )


# -- where sightings come from ----------------------------------------------------------------


def record_sent(user_id: int, recipients: Iterable[tuple[str, str]], when: datetime) -> int:
    """The (address, display name) pairs of a message the user queued."""
    return record(user_id, (Sighting(address, name, when, written=True) for address, name in recipients))


def _envelope_address(address) -> tuple[str, str] | None:
    if address.mailbox is None or not address.host:  # group syntax, or no domain
        return None
    mailbox, host = headers.decode(address.mailbox), headers.decode(address.host)
    return f"{mailbox}@{host}", headers.decode(address.name)


def _envelope_sightings(fetched: Iterable[dict], written: bool) -> Iterable[Sighting]:
    for data in fetched:
        envelope = data.get(b"ENVELOPE")
        if envelope is None:
            continue
        date = envelope.date
        if date is not None and timezone.is_naive(date):
            date = date.replace(tzinfo=UTC)
        people = (*(envelope.to or ()), *(envelope.cc or ())) if written else (envelope.from_ or ())[:1]
        for address in people:
            if (pair := _envelope_address(address)) is not None:
                yield Sighting(pair[0], pair[1], date, written)


def record_envelopes(folder: Folder, fetched: Iterable[dict]) -> int:
    """The people in a batch of FETCH responses (ENVELOPE) just stored in ``folder``'s cache.
    Never raises: suggestions are not worth a failed sync."""
    if folder.special_use not in _RECEIVED_FROM and folder.special_use != SpecialUse.SENT:
        return 0
    try:
        user_id = MailAccount.objects.values_list("user_id", flat=True).get(pk=folder.account_id)
        return record(user_id, _envelope_sightings(fetched, written=folder.special_use == SpecialUse.SENT))
    except Exception:
        log.exception("folder %s: correspondents not collected", folder.pk)
        return 0


# -- suggestions ------------------------------------------------------------------------------


def suggest(user: User, query: str) -> list[Correspondent]:
    """The user's best-ranked correspondents whose address, or a word of whose name, starts
    with ``query`` (any case)."""
    query = query.strip()
    if not query:
        return []
    matches = (
        Q(address__startswith=query.lower())
        | Q(display_name__istartswith=query)
        | Q(display_name__icontains=f" {query}")
    )
    return list(Correspondent.objects.filter(user=user).filter(matches).order_by("-rank", "address")[:SUGGESTIONS])
