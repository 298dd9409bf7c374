"""The submission worker's logic against a real aiosmtpd server (STARTTLS + AUTH)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outbox import delivery
from outbox.compose import parse_addresses
from outbox.models import DeliveryAttempt, MessageState, OutgoingMessage, Phase, RecipientState
from tests.outbox.helpers import queue_message


def test_a_queued_message_is_submitted_and_recorded(sender, smtp_server, django_capture_on_commit_callbacks):
    message = queue_message(sender, to="Ann <ann@example.test>, bob@example.test", subject="Hello")
    delivery.deliver(str(message.pk))

    received = smtp_server.wait_for(1)
    assert received[0].mail_from == sender.email
    assert sorted(received[0].rcpt_tos) == ["ann@example.test", "bob@example.test"]
    assert received[0].data.replace(b"\r\n", b"\n") == bytes(message.mime).replace(b"\r\n", b"\n")
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.phase == Phase.NONE and message.lease_owner == ""
    # Each accepted recipient keeps the answer that took the message for it: the end of DATA's.
    assert set(message.recipients.values_list("state", "code", "enhanced_code", "reply")) == {
        (RecipientState.ACCEPTED, 250, "2.0.0", "2.0.0 OK queued")
    }
    steps = list(DeliveryAttempt.objects.filter(message=message).values_list("step", "code"))
    assert steps == [("mail", 250), ("rcpt", 250), ("rcpt", 250), ("data", 250)]
    assert DeliveryAttempt.objects.filter(message=message).first().tls_version.startswith("TLS")


def test_dsn_parameters_are_sent_when_the_server_offers_dsn(sender, smtp_server):
    message = queue_message(sender, to="ann@example.test", delivery_receipt=True)
    delivery.deliver(str(message.pk))
    received = smtp_server.wait_for(1)[0]
    # (aiosmtpd hands the parameters over upper-cased)
    assert "RET=HDRS" in received.mail_options
    assert f"ENVID={message.pk}".upper() in received.mail_options
    assert "NOTIFY=SUCCESS,FAILURE,DELAY" in received.rcpt_options
    assert "ORCPT=RFC822;ANN@EXAMPLE.TEST" in received.rcpt_options


def test_no_dsn_parameters_without_the_extension(sender, smtp_server):
    smtp_server.handler.advertise_dsn = False
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    received = smtp_server.wait_for(1)[0]
    assert not any(o.startswith(("RET=", "ENVID=")) for o in received.mail_options)
    assert received.rcpt_options == []


def test_a_rejected_recipient_is_not_retried_and_the_others_are_not_resent(sender, smtp_server):
    smtp_server.handler.reject_recipient("nobody@example.test")
    message = queue_message(sender, to="ann@example.test, nobody@example.test, bob@example.test")
    delivery.deliver(str(message.pk))
    assert sorted(smtp_server.wait_for(1)[0].rcpt_tos) == ["ann@example.test", "bob@example.test"]
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    nobody = message.recipients.get(address="nobody@example.test")
    assert nobody.state == RecipientState.REJECTED
    assert (nobody.code, nobody.enhanced_code) == (550, "5.1.1")
    delivery.deliver(str(message.pk))
    assert len(smtp_server.messages) == 1, "a settled message is never sent again"


def test_temporary_failures_are_retried_until_delivered_once(sender, smtp_server):
    smtp_server.handler.fail_next("MAIL", "451 4.3.0 try again later", times=2)
    message = queue_message(sender, to="ann@example.test")
    for expected in (MessageState.DEFERRED, MessageState.DEFERRED, MessageState.SENT):
        delivery.deliver(str(message.pk))
        message.refresh_from_db()
        assert message.state == expected
        OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert len(smtp_server.wait_for(1)) == 1
    assert message.attempts == 3
    codes = list(DeliveryAttempt.objects.filter(message=message, step="mail").values_list("code", flat=True))
    assert codes == [451, 451, 250]


def test_a_refused_data_command_defers_the_message_without_sending_it(sender, smtp_server):
    # The DATA command goes out while the message is being marked; refused, it hands nothing
    # over, so the message is retried later, not left "uncertain"; the other one still goes.
    smtp_server.handler.refuse_data_command("451 4.3.0 queue full, try again later")
    message, other = queue_message(sender, to="ann@example.test"), queue_message(sender, to="bob@example.test")
    delivery.deliver(str(message.pk))
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["bob@example.test"]]
    message.refresh_from_db()
    assert (message.state, message.phase, message.lease_owner) == (MessageState.DEFERRED, Phase.NONE, "")
    assert message.recipients.get().state == RecipientState.DEFERRED
    refused = DeliveryAttempt.objects.get(message=message, step="data")
    assert (refused.code, refused.enhanced_code) == (451, "4.3.0")
    assert OutgoingMessage.objects.get(pk=other.pk).state == MessageState.SENT
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    delivery.deliver(str(message.pk))
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == ["ann@example.test", "bob@example.test"]
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SENT, 2)


def test_a_deferred_message_waits_for_its_next_attempt(sender, smtp_server):
    smtp_server.handler.fail_next("RCPT", "450 4.2.1 mailbox busy, try again in 300 seconds")
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.DEFERRED
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=290), "the server's hint is honoured"
    delivery.deliver(str(message.pk))
    assert smtp_server.messages == []


def test_a_permanent_data_failure_fails_the_message(sender, smtp_server):
    smtp_server.handler.fail_next("DATA", "554 5.6.0 content refused")
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.recipients.get().reply == "5.6.0 content refused"


def test_an_oversized_message_is_refused_before_data(sender, smtp_server):
    smtp_server.handler.size_limit = 2000
    message = queue_message(sender, to="ann@example.test", body="x" * 5000)
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert smtp_server.messages == []
    assert DeliveryAttempt.objects.get(message=message).step == "size"


def test_a_refused_password_holds_the_account(sender, smtp_server):
    account = sender.mail_accounts.get()
    account.set_secret("imap_password", "wrong")
    account.save()
    first = queue_message(sender, to="ann@example.test")
    second = queue_message(sender, to="bob@example.test")
    delivery.deliver(str(first.pk))
    account.refresh_from_db()
    assert account.smtp_held_at is not None
    assert "535" in account.smtp_hold_reason
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {MessageState.HELD}

    account.set_secret("imap_password", smtp_server.users[sender.email])
    account.save()
    ids = delivery.release_hold(account)
    assert sorted(ids) == sorted([str(first.pk), str(second.pk)])
    delivery.deliver(ids[0])
    assert len(smtp_server.wait_for(2)) == 2


def test_a_temporary_auth_failure_defers_the_mail_and_does_not_hold_the_account(sender, smtp_server):
    # The server's password backend is briefly down: nothing an admin needs to fix.
    smtp_server.handler.answer_auth("454 4.7.0 Temporary authentication failure")
    first = queue_message(sender, to="ann@example.test")
    second = queue_message(sender, to="bob@example.test")
    delivery.deliver(str(first.pk))
    account = sender.mail_accounts.get()
    assert (account.smtp_held_at, account.smtp_hold_reason) == (None, "")
    rows = OutgoingMessage.objects.filter(pk__in=[first.pk, second.pk])
    assert set(rows.values_list("state", flat=True)) == {MessageState.DEFERRED}
    assert all(m.next_attempt_at > timezone.now() for m in rows)
    assert "454" in DeliveryAttempt.objects.filter(message=first, step="connect").get().reply
    assert smtp_server.messages == []

    smtp_server.handler.answer_auth(None)  # the backend is back
    rows.update(next_attempt_at=timezone.now())
    delivery.deliver(str(first.pk))
    assert len(smtp_server.wait_for(2)) == 2
    assert set(rows.values_list("state", "attempts")) == {(MessageState.SENT, 2)}


@pytest.mark.parametrize(
    "reply",
    ["534 5.7.9 Authentication mechanism is too weak", "538 5.7.11 Encryption required for requested mechanism"],
)
def test_an_auth_refusal_that_retrying_cannot_fix_holds_the_account_with_the_servers_words(sender, smtp_server, reply):
    smtp_server.handler.answer_auth(reply)
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    account = sender.mail_accounts.get()
    assert account.smtp_held_at is not None
    assert reply[:3] in account.smtp_hold_reason
    assert "password" not in account.smtp_hold_reason, "the password is not what is wrong"
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.HELD


def test_a_dropped_connection_after_data_leaves_the_message_uncertain(sender, smtp_server):
    smtp_server.handler.drop_after_data()
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    delivery.deliver(str(message.pk))
    assert smtp_server.messages == [], "an uncertain message is never resent on its own"


def test_a_sender_who_lost_the_identity_is_refused_in_the_worker(sender, smtp_server):
    message = queue_message(sender, to="ann@example.test")
    sender.identities.all().delete()
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert smtp_server.messages == []


def test_many_messages_of_one_account_share_connections(sender, smtp_server, settings):
    settings.WEBMAIL_SMTP_CONNECTIONS = 2
    messages = [queue_message(sender, to=f"r{i}@example.test") for i in range(10)]
    delivery.deliver(str(messages[0].pk))
    assert len(smtp_server.wait_for(10)) == 10
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {MessageState.SENT}


def test_the_sweeper_recovers_dead_leases(sender, smtp_server):
    before_data = queue_message(sender, to="ann@example.test")
    after_data = queue_message(sender, to="bob@example.test")
    past = timezone.now() - timedelta(seconds=1)
    OutgoingMessage.objects.filter(pk=before_data.pk).update(
        state=MessageState.SENDING, phase=Phase.ENVELOPE, lease_until=past, lease_owner="dead"
    )
    OutgoingMessage.objects.filter(pk=after_data.pk).update(
        state=MessageState.SENDING, phase=Phase.DATA, lease_until=past, lease_owner="dead"
    )
    due = delivery.sweep()
    assert due == [str(before_data.pk)]
    assert OutgoingMessage.objects.get(pk=after_data.pk).state == MessageState.UNCERTAIN


def test_parse_addresses_accepts_idn_domains():
    assert parse_addresses("José <jose@bücher.de>")[0].address == "jose@xn--bcher-kva.de"


def test_a_server_that_stalls_before_data_times_out_and_the_message_is_deferred(sender, smtp_server, settings):
    import time

    settings.WEBMAIL_SMTP_TIMEOUT = 1
    smtp_server.handler.stall(5, "RCPT")
    message = queue_message(sender, to="ann@example.test")
    started = time.monotonic()
    delivery.deliver(str(message.pk))
    assert time.monotonic() - started < 4, "the command timeout bounds the wait"
    message.refresh_from_db()
    assert message.state == MessageState.DEFERRED
    assert "timed out" in message.recipients.get().reply


def test_a_server_that_stalls_after_data_leaves_the_message_uncertain(sender, smtp_server, settings):
    settings.WEBMAIL_SMTP_TIMEOUT = 1
    smtp_server.handler.stall(5, "DATA")
    message = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN


def test_resending_twice_makes_one_copy(sender, smtp_server):
    smtp_server.handler.reject_recipient("nobody@example.test")
    message = queue_message(sender, to="ann@example.test, nobody@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert message.can_resend
    copy = delivery.resend(message)
    assert copy is not None and list(copy.recipients.values_list("address", flat=True)) == ["nobody@example.test"]
    assert delivery.resend(message) is None, "a stale page or a double click makes no second copy"
    message.refresh_from_db()
    assert not message.can_resend
    assert OutgoingMessage.objects.count() == 2


def test_an_uncertain_message_is_resent_once_to_everyone(sender, smtp_server):
    smtp_server.handler.drop_after_data()
    message = queue_message(sender, to="ann@example.test, bob@example.test")
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    copy = delivery.resend(message)
    assert sorted(copy.recipients.values_list("address", flat=True)) == ["ann@example.test", "bob@example.test"]
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.CANCELLED
    assert delivery.resend(message) is None
    delivery.deliver(str(copy.pk))
    assert len(smtp_server.wait_for(1)) == 1


def test_what_the_server_receives_from_header_lookalikes_is_one_subject_and_the_right_envelope(sender, smtp_server):
    import email

    # Text that looks like headers, without a line break, is allowed: it must arrive as text.
    message = queue_message(
        sender, to='"Ann, Bcc: victim3@example.test" <ann@example.test>', subject="Hello Bcc: victim@example.test"
    )
    delivery.deliver(str(message.pk))
    received = smtp_server.wait_for(1)[0]
    assert received.rcpt_tos == ["ann@example.test"]
    parsed = email.message_from_bytes(received.data)
    assert parsed.get_all("Subject") == ["Hello Bcc: victim@example.test"]
    assert parsed.get_all("Bcc") is None
    assert len(parsed.get_all("To")) == 1


def test_an_encoded_newline_in_the_subject_is_refused_and_nothing_is_queued(sender, smtp_server):
    from outbox.sending import SendRefused

    with pytest.raises(SendRefused, match="line breaks"):
        queue_message(sender, to="ann@example.test", subject="x =?utf-8?q?a=0D=0ABcc:_victim@example.test?=")
    assert not OutgoingMessage.objects.exists()


def test_a_claim_blocked_behind_another_workers_claim_takes_nothing(sender):
    import threading
    import time as clock

    from django.db import connection, transaction

    message = queue_message(sender, to="ann@example.test")
    account_id = message.account_id
    claims: dict[str, list] = {}

    def first() -> None:
        # The first worker's UPDATE holds the row until its (slow) commit.
        with transaction.atomic():
            claims["first"] = delivery.claim(account_id)[1]
            clock.sleep(1.0)
        connection.close()

    def second() -> None:
        clock.sleep(0.3)
        claims["second"] = delivery.claim(account_id)[1]
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.message_id for e in claims["first"]] == [str(message.pk)]
    assert claims["second"] == []
    assert OutgoingMessage.objects.get(pk=message.pk).attempts == 1


def test_a_server_that_takes_fewer_connections_than_we_would_gets_everything_over_those_it_takes(
    sender, smtp_server, settings
):
    settings.WEBMAIL_SMTP_CONNECTIONS = 4
    smtp_server.handler.max_sessions = 2  # the rest are greeted with 421
    messages = [queue_message(sender, to=f"r{i}@example.test") for i in range(12)]
    delivery.deliver(str(messages[0].pk))
    assert len(smtp_server.wait_for(12)) == 12
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {MessageState.SENT}
    assert not DeliveryAttempt.objects.filter(step="connect").exists(), "no message paid for a refused lane"


def test_a_server_that_takes_no_connection_defers_everything_claimed(sender, smtp_server, settings):
    smtp_server.handler.max_sessions = 0
    messages = [queue_message(sender, to=f"r{i}@example.test") for i in range(3)]
    delivery.deliver(str(messages[0].pk))
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {MessageState.DEFERRED}
    assert "421" in DeliveryAttempt.objects.filter(step="connect").first().reply
    assert smtp_server.messages == []


def test_one_run_claims_batch_after_batch_until_nothing_is_due(sender, smtp_server, monkeypatch):
    monkeypatch.setattr(delivery.claiming, "CLAIM_BATCH", 4)
    messages = [queue_message(sender, to=f"r{i}@example.test") for i in range(11)]
    delivery.deliver(str(messages[0].pk))
    assert len(smtp_server.wait_for(11)) == 11
    assert set(OutgoingMessage.objects.values_list("state", "attempts")) == {(MessageState.SENT, 1)}


def test_a_message_whose_lease_was_taken_back_before_data_is_not_sent(sender, smtp_server):
    import threading

    from django.db import connection

    message = queue_message(sender, to="ann@example.test")
    smtp_server.handler.stall(2, "RCPT")

    def run() -> None:
        delivery.deliver(str(message.pk))
        connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    smtp_server.handler.wait_until_reached("RCPT")
    # Meanwhile the lease lapsed and another worker took the message.
    OutgoingMessage.objects.filter(pk=message.pk).update(lease_owner="another-worker")
    worker.join(30)
    assert not worker.is_alive()
    assert smtp_server.messages == []
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert (row.state, row.lease_owner, row.phase) == (MessageState.SENDING, "another-worker", Phase.ENVELOPE)


def test_a_run_that_finds_nothing_due_hangs_up_the_connection_it_dialled_ahead(sender, smtp_server):
    import asyncio
    import time as clock

    from accounts.models import MailAccount

    account = MailAccount.objects.select_related("user").get(user=sender)
    asyncio.run(delivery.Run(account, None).execute())  # nothing queued: what a late doorbell finds
    deadline = clock.monotonic() + 5
    while smtp_server.handler._sessions and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert smtp_server.handler._sessions == 0
    assert len(smtp_server.handler.auth_attempts) == 1, "the first lane dialled while the claim ran"
    assert smtp_server.handler.quits == 1, "and hung up properly"
    assert smtp_server.messages == []


def test_runs_recover_when_the_database_drops_the_connections_they_keep(sender, smtp_server):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("terminating another session's backend is a PostgreSQL test")
    first = queue_message(sender, to="ann@example.test")
    delivery.deliver(str(first.pk))  # the run's database threads now hold connections of their own
    with connection.cursor() as cursor:  # what a database restart does to them
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    second = queue_message(sender, to="bob@example.test")
    delivery.deliver(str(second.pk))
    assert OutgoingMessage.objects.get(pk=second.pk).state == MessageState.SENT
    assert len(smtp_server.wait_for(2)) == 2


def test_results_are_written_only_for_messages_whose_lease_is_still_the_runs(sender):
    from webmail.protocol import smtp

    kept = queue_message(sender, to="ann@example.test, nobody@example.test")
    lost = queue_message(sender, to="cy@example.test")
    _token, envelopes, ledger = delivery.claim(kept.account_id)
    assert sorted(e.message_id for e in envelopes) == sorted([str(kept.pk), str(lost.pk)])
    # Meanwhile the lease on one of them lapsed and another worker took it.
    OutgoingMessage.objects.filter(pk=lost.pk).update(lease_owner="another-worker")
    now = timezone.now()
    outcomes = []
    for envelope in envelopes:
        first, *others = [r.id for r in envelope.recipients]
        result = smtp.SubmissionResult(
            accepted={first: smtp.Reply(250, "2.0.0 queued as 1234")},
            rejected={rid: smtp.Reply(550, "5.1.1 no such user") for rid in others},
        )
        result.exchanges = [
            smtp.Exchange("mail", now, 2, smtp.Reply(250, "2.1.0 Ok")),
            smtp.Exchange("rcpt", now, 1, smtp.Reply(250, "2.1.5 Ok"), first),
            *(smtp.Exchange("rcpt", now, 1, smtp.Reply(550, "5.1.1 no such user"), rid) for rid in others),
            smtp.Exchange("data", now, 4, smtp.Reply(250, "2.0.0 queued as 1234")),
        ]
        outcomes.append(
            delivery.EnvelopeOutcome(envelope.message_id, result, tls_version="TLSv1.3", tls_cipher="X25519")
        )

    delivery.write_results(outcomes, ledger)

    kept.refresh_from_db()
    assert (kept.state, kept.lease_owner, kept.phase, kept.lease_until) == (MessageState.SENT, "", Phase.NONE, None)
    assert kept.sent_at is not None
    assert sorted(kept.recipients.values_list("address", "state", "code", "enhanced_code")) == [
        ("ann@example.test", RecipientState.ACCEPTED, 250, "2.0.0"),
        ("nobody@example.test", RecipientState.REJECTED, 550, "5.1.1"),
    ]
    assert kept.recipients.get(address="ann@example.test").reply == "2.0.0 queued as 1234"
    attempts = DeliveryAttempt.objects.filter(message=kept).order_by("id")
    assert [(a.step, a.code, a.enhanced_code, a.attempt, a.tls_version) for a in attempts] == [
        ("mail", 250, "2.1.0", 1, "TLSv1.3"),
        ("rcpt", 250, "2.1.5", 1, "TLSv1.3"),
        ("rcpt", 550, "5.1.1", 1, "TLSv1.3"),
        ("data", 250, "2.0.0", 1, "TLSv1.3"),
    ]
    assert attempts[1].recipient.address == "ann@example.test"
    # The other worker's message is as that worker left it: this run's word no longer counts.
    lost.refresh_from_db()
    assert (lost.state, lost.lease_owner, lost.phase) == (MessageState.SENDING, "another-worker", Phase.ENVELOPE)
    assert set(lost.recipients.values_list("state", flat=True)) == {RecipientState.PENDING}
    assert not DeliveryAttempt.objects.filter(message=lost).exists()


def test_a_deferral_past_the_message_lifetime_gives_its_recipients_up(sender, smtp_server):
    smtp_server.handler.fail_next("RCPT", "450 4.2.1 mailbox busy")
    message = queue_message(sender, to="ann@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(expires_at=timezone.now())
    delivery.deliver(str(message.pk))
    message.refresh_from_db()
    assert (message.state, message.lease_owner, message.next_attempt_at) == (MessageState.FAILED, "", None)
    ann = message.recipients.get()
    assert (ann.state, ann.code) == (RecipientState.REJECTED, 450)
    assert ann.reply == "gave up after 1 attempts: 4.2.1 mailbox busy"
    assert smtp_server.messages == []


def test_a_run_whose_time_is_up_rings_for_another_run(sender, smtp_server, monkeypatch):
    from outbox import tasks
    from outbox.delivery import run

    message = queue_message(sender, to="ann@example.test")
    monkeypatch.setattr(run, "RUN_BUDGET_SECONDS", -1)  # up before the first claim
    rung = []
    monkeypatch.setattr(tasks, "ring_doorbell", lambda account_id, message_id: rung.append((account_id, message_id)))
    delivery.deliver(str(message.pk))
    assert rung == [(message.account_id, str(message.pk))]
    assert OutgoingMessage.objects.get(pk=message.pk).state == MessageState.QUEUED
    assert smtp_server.messages == []
