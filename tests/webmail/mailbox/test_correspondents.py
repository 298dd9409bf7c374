"""The correspondents a user's mail gives: collected from synced folders (Dovecot) and from
recorded sightings, ranked by frequency and recency, never the user's own addresses."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from tests.factories import IdentityFactory, UserFactory
from tests.webmail.mailbox.helpers import deliver_all, sync_account
from webmail.mailbox import correspondents
from webmail.mailbox.correspondents import Sighting, is_automated, normalize, record, suggest
from webmail.mailbox.models import Correspondent


def mail(sender: str, to: str, subject: str = "Hello", cc: str = "", date: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    if date:
        message["Date"] = date
    message.set_content("Hi.\n")
    return message.as_bytes()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann@Example.ORG", "ann@example.org"),
        ("  bob@bücher.example ", "bob@xn--bcher-kva.example"),
        ("no-domain", None),
        ("@example.org", None),
        ("jörg@example.org", None),  # cannot be written to (no SMTPUTF8 here)
        ("two words@example.org", None),
        ("ann@exa mple.org", None),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("address", "automated"),
    [
        ("noreply@shop.example", True),
        ("no-reply@shop.example", True),
        ("no_reply@shop.example", True),
        ("do-not-reply@bank.example", True),
        ("donotreply@bank.example", True),
        ("mailer-daemon@mx.example", True),
        ("postmaster@mx.example", True),
        ("bounces+1234-ann=example.org@lists.example", True),
        ("owner-dev@lists.example", True),
        ("dev-request@lists.example", True),
        ("dev-bounces@lists.example", True),
        ("ann@example.org", False),
        ("norbert@example.org", False),
        ("reply@example.org", False),
    ],
)
def test_automated_senders(address, automated):
    assert is_automated(address) is automated


def test_own_addresses_and_automated_senders_are_never_collected(db):
    user = UserFactory(email="me@example.test")
    IdentityFactory(user=user, address="sales@example.test")
    now = timezone.now()
    seen = record(
        user.pk,
        [
            Sighting("ME@example.test", "Me", now, written=True),
            Sighting("sales@EXAMPLE.test", "", now, written=False),
            Sighting("noreply@shop.example", "Shop", now, written=False),
            Sighting("not an address", "", now, written=True),
            Sighting("ann@example.org", "Ann", now, written=False),
        ],
    )
    assert seen == 1
    assert list(Correspondent.objects.values_list("address", flat=True)) == ["ann@example.org"]


def test_sightings_add_up_and_the_newest_name_wins(db):
    user = UserFactory()
    now = timezone.now()
    record(user.pk, [Sighting("ann@example.org", "Ann Old", now - timedelta(days=5), written=False)])
    record(
        user.pk,
        [
            Sighting("Ann@example.org", "Ann New", now, written=True),
            Sighting("ann@example.org", "Ann Older", now - timedelta(days=50), written=False),
            Sighting("ann@example.org", "", now - timedelta(days=1), written=True),
        ],
    )
    row = Correspondent.objects.get()
    assert (row.display_name, row.times_written, row.times_received) == ("Ann New", 2, 2)
    assert abs((row.last_used_at - now).total_seconds()) < 1
    # An older sighting (a backfill) fills in a missing name but does not replace a newer one.
    record(user.pk, [Sighting("ann@example.org", "Ann Ancient", now - timedelta(days=400), written=False)])
    row.refresh_from_db()
    assert row.display_name == "Ann New"
    assert abs((row.last_used_at - now).total_seconds()) < 1


def test_a_date_in_the_future_counts_as_now(db):
    user = UserFactory()
    record(user.pk, [Sighting("spam@example.org", "", timezone.now() + timedelta(days=3650), written=False)])
    record(user.pk, [Sighting("ann@example.org", "", timezone.now(), written=True)])
    assert [row.address for row in suggest(user, "a")] == ["ann@example.org"]
    assert Correspondent.objects.get(address="spam@example.org").last_used_at <= timezone.now()


def test_ranking_mixes_frequency_and_recency(db):
    user = UserFactory()
    now = timezone.now()
    sightings = [
        # Ten received a year ago: stale.
        *(Sighting("old@example.org", "", now - timedelta(days=365, hours=i), written=False) for i in range(10)),
        # Written to once today.
        Sighting("once@example.org", "", now, written=True),
        # Received from ten times last month: frequent and fairly recent.
        *(Sighting("often@example.org", "", now - timedelta(days=30, hours=i), written=False) for i in range(10)),
        # Received once today: less than written once today.
        Sighting("heard@example.org", "", now, written=False),
    ]
    record(user.pk, sightings)
    assert [row.address for row in suggest(user, "")] == []
    order = [row.address.split("@")[0] for row in Correspondent.objects.filter(user=user).order_by("-rank")]
    assert order == ["often", "once", "heard", "old"]


def test_suggestions_match_a_prefix_of_the_address_or_of_a_word_of_the_name(db):
    user = UserFactory()
    now = timezone.now()
    record(
        user.pk,
        [
            Sighting("ann.lee@example.org", "Ann Lee", now, written=True),
            Sighting("boss@example.org", "Mary-Jo van Dyke", now, written=True),
            Sighting("carl@example.org", "Carl", now, written=True),
            Sighting("50%off@example.org", "", now, written=True),
        ],
    )
    assert [row.address for row in suggest(user, "ANN")] == ["ann.lee@example.org"]
    assert [row.address for row in suggest(user, "lee")] == ["ann.lee@example.org"]
    assert [row.address for row in suggest(user, "dyk")] == ["boss@example.org"]
    assert [row.address for row in suggest(user, "VAN")] == ["boss@example.org"]
    assert [row.address for row in suggest(user, "arl")] == []  # inside a word: no
    assert [row.address for row in suggest(user, "example")] == []  # the domain is not a prefix
    assert [row.address for row in suggest(user, "50%")] == ["50%off@example.org"]
    assert [row.address for row in suggest(user, "%")] == []  # LIKE wildcards are matched literally
    assert [row.address for row in suggest(user, "_")] == []


def test_a_sync_collects_senders_of_received_mail_and_recipients_of_sent_mail(reader, dovecot):
    user = reader.user
    IdentityFactory(user=user, account=reader, address="rita.alias@example.test")
    address = user.email
    deliver_all(
        dovecot,
        address,
        [
            mail("Ann Example <ann@example.org>", address, date="Mon, 01 Dec 2025 10:00:00 +0000"),
            mail("Ann E. <ANN@Example.org>", address, date="Tue, 02 Dec 2025 10:00:00 +0000"),
            mail("Bob <bob@example.org>", f"{address}, carol@example.org"),
            mail("Shop <no-reply@shop.example>", address),
            mail("Rita <rita.alias@example.test>", address),
        ],
    )
    deliver_all(dovecot, address, [mail(address, "Dora <dora@example.org>", cc="eve@example.org")], folder="Sent")
    deliver_all(dovecot, address, [mail("Spammer <spam@junk.example>", address)], folder="Junk")
    deliver_all(dovecot, address, [mail(address, "draft@example.org")], folder="Drafts")

    sync_account(reader)

    rows = {row.address: row for row in Correspondent.objects.filter(user=user)}
    assert set(rows) == {"ann@example.org", "bob@example.org", "dora@example.org", "eve@example.org"}
    assert (rows["ann@example.org"].times_received, rows["ann@example.org"].display_name) == (2, "Ann E.")
    assert (rows["dora@example.org"].times_written, rows["dora@example.org"].times_received) == (1, 0)
    assert rows["dora@example.org"].display_name == "Dora"
    assert rows["eve@example.org"].times_written == 1
    assert rows["bob@example.org"].times_received == 1
    assert not Correspondent.objects.exclude(user=user).exists()


def test_a_second_sync_counts_only_new_mail(reader, dovecot):
    address = reader.user.email
    deliver_all(dovecot, address, [mail("Ann <ann@example.org>", address)])
    sync_account(reader, ["INBOX"])
    sync_account(reader, ["INBOX"])
    assert Correspondent.objects.get().times_received == 1
    deliver_all(dovecot, address, [mail("Ann <ann@example.org>", address, subject="Again")])
    sync_account(reader, ["INBOX"])
    assert Correspondent.objects.get().times_received == 2


def test_a_failure_to_collect_never_fails_the_sync(reader, dovecot, monkeypatch, caplog):
    address = reader.user.email
    deliver_all(dovecot, address, [mail("Ann <ann@example.org>", address, subject="Still cached")])

    def broken(*args, **kwargs):
        raise RuntimeError("collector broke")

    monkeypatch.setattr(correspondents, "record", broken)
    (inbox,) = sync_account(reader, ["INBOX"])
    assert inbox.messages.get().subject == "Still cached"
    assert "correspondents not collected" in caplog.text
    assert not Correspondent.objects.exists()
