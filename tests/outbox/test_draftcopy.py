"""Each draft's copy in the IMAP Drafts folder (Dovecot): one copy however many saves, tabs or
crashes; a server that is down only delays it; sent or discarded, the copy goes; a draft written
by another client opens in the composer and is then replaced, not duplicated."""

from __future__ import annotations

import email
import email.policy
import uuid
from email.message import EmailMessage

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox import draftcopy
from outbox.models import DraftState, OutgoingMessage, SavedDraft
from tests.helpers import sign_in
from tests.outbox.test_drafts import save
from tests.outbox.test_views import post_compose
from tests.servers.net import free_port
from tests.webmail.mailbox.helpers import folder_named, sync_account
from webmail.protocol import imap, imap_drafts
from webmail.protocol.mailservers import MailServerError


def server_drafts(dovecot, address: str) -> dict[int, tuple[set[bytes], EmailMessage]]:
    """UID -> (flags, parsed message) of everything in Drafts, read behind the app's back."""
    client = dovecot.login(address)
    try:
        if not client.folder_exists("Drafts"):
            return {}
        client.select_folder("Drafts", readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, [b"FLAGS", b"BODY.PEEK[]"]) if uids else {}
        return {
            uid: (set(data[b"FLAGS"]), email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default))
            for uid, data in fetched.items()
        }
    finally:
        client.logout()


def mirrored(draft_id) -> SavedDraft | None:
    draft = SavedDraft.objects.filter(pk=draft_id).first()
    if draft is not None:  # due now, as the sweeper would find it
        SavedDraft.objects.filter(pk=draft_id).update(mirror_due_at=timezone.now())
    draftcopy.mirror(str(draft_id))
    return SavedDraft.objects.filter(pk=draft_id).first()


def test_every_save_replaces_the_one_copy_in_drafts(sender, dovecot):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, to="Ann <ann@example.org>, half@", bcc="boss@example.org", subject="Plans")
    draft = mirrored(draft_id)
    assert draft.mirrored_revision == 1 and draft.mirror_due_at is None and draft.mirror_folder == "Drafts"
    ((uid, (flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert {b"\\Draft", b"\\Seen"} <= flags and draft.mirror_uid == uid
    assert copy["To"] == "Ann <ann@example.org>", "what can be read of a half-typed field"
    assert copy["Bcc"] == "boss@example.org" and copy["Subject"] == "Plans"
    assert copy[imap_drafts.MARKER_HEADER] == str(draft_id)

    save(client, draft_id, 1, sender, to="ann@example.org", subject="Plans", body="Thursday?")
    save(client, draft_id, 2, sender, to="ann@example.org", subject="Plans for Thursday", body="Thursday?")
    draft = mirrored(draft_id)
    ((new_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert new_uid > uid and copy["Subject"] == "Plans for Thursday" and draft.mirrored_revision == 3


def test_two_tabs_and_a_worker_that_died_after_append_still_leave_one_copy(sender, dovecot):
    client, other_tab = sign_in(Client(), sender), sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, body="First tab")
    assert save(other_tab, draft_id, 0, sender, body="Second tab").status_code == 409
    save(other_tab, draft_id, 1, sender, body="Second tab, kept")
    # A worker appended a copy and died before recording it.
    draft = SavedDraft.objects.select_related("identity__account").get(pk=draft_id)
    with imap.session(draft.identity.account) as session:
        session.append(imap_drafts.drafts_folder(session), draftcopy.copy_bytes(draft, draft.identity))
    assert len(server_drafts(dovecot, sender.email)) == 1
    mirrored(draft_id)
    ((_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert copy.get_content().strip() == "Second tab, kept"


def test_a_mail_server_that_is_down_delays_the_copy_and_loses_nothing(sender, dovecot):
    client = sign_in(Client(), sender)
    account = sender.mail_accounts.get()
    port = account.imap_port
    account.imap_port = free_port()  # nothing listens there
    account.save(update_fields=["imap_port"])
    draft_id = uuid.uuid4()
    assert save(client, draft_id, 0, sender, subject="Written offline", body="Every word.").status_code == 200
    draft = mirrored(draft_id)
    assert draft.mirror_attempts == 1 and draft.mirror_due_at > timezone.now() and draft.mirror_error
    assert draft.body == "Every word." and server_drafts(dovecot, sender.email) == {}
    page = client.get(reverse("outbox:drafts")).content.decode()
    assert "not yet copied to the mail server" in page

    account.imap_port = port
    account.save(update_fields=["imap_port"])
    assert draftcopy.due() == [], "not before its time"
    draft = mirrored(draft_id)
    assert draft.mirror_due_at is None and draft.mirror_attempts == 0
    ((_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert copy["Subject"] == "Written offline"


def test_sending_removes_the_draft_everywhere(sender, dovecot):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, to="ann@example.org", subject="Soon sent")
    mirrored(draft_id)
    assert len(server_drafts(dovecot, sender.email)) == 1
    response = post_compose(client, sender, to="ann@example.org", subject="Soon sent", draft_id=draft_id, revision=1)
    assert response.status_code == 302 and OutgoingMessage.objects.filter(user=sender).count() == 1
    assert SavedDraft.objects.get(pk=draft_id).state == DraftState.SENT
    assert mirrored(draft_id) is None, "the row goes once its copy has"
    assert server_drafts(dovecot, sender.email) == {}


def test_discard_removes_the_copy_and_undo_writes_it_again(sender, dovecot):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, subject="Second thoughts")
    mirrored(draft_id)
    client.post(reverse("outbox:draft_discard", args=[draft_id]))
    draft = mirrored(draft_id)
    assert draft.state == DraftState.DISCARDED and draft.mirror_uid is None
    assert server_drafts(dovecot, sender.email) == {}
    client.post(reverse("outbox:draft_restore", args=[draft_id]))
    mirrored(draft_id)
    ((_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert copy["Subject"] == "Second thoughts"


def test_another_clients_draft_opens_in_the_composer_and_is_replaced_not_duplicated(sender, dovecot):
    written = EmailMessage()
    written["From"] = sender.email
    written["To"] = "Ann <ann@example.org>"
    written["Cc"] = "bob@example.org"
    written["Subject"] = "Started on my phone"
    written.set_content("Dear Ann,\n\nabout the")
    written.add_attachment(b"%PDF-1.4 agenda", maintype="application", subtype="pdf", filename="agenda.pdf")
    client_of_another = dovecot.login(sender.email)
    try:
        client_of_another.create_folder("Drafts")
        client_of_another.append("Drafts", written.as_bytes(), flags=[b"\\Draft"])
    finally:
        client_of_another.logout()
    account = sender.mail_accounts.get()
    sync_account(account, ["Drafts"])
    drafts_folder = folder_named(account, "Drafts")
    uid = drafts_folder.messages.get().uid

    client = sign_in(Client(), sender)
    opened = client.get(reverse("mailbox:message", args=[drafts_folder.pk, uid]), follow=True)
    assert opened.status_code == 200
    assert opened.redirect_chain[-1][0].startswith("/outbox/compose/?draft=")
    form = opened.context["form"]
    assert form.initial["to"] == "Ann <ann@example.org>" and form.initial["cc"] == "bob@example.org"
    assert form.initial["subject"] == "Started on my phone" and "about the" in form.initial["body"]
    draft = SavedDraft.objects.get(user=sender)
    assert [a.filename for a in draft.attachments.all()] == ["agenda.pdf"]
    # Opened again: the same draft, not a second one.
    client.get(reverse("outbox:draft_open", args=[drafts_folder.pk, uid]))
    assert SavedDraft.objects.filter(user=sender).count() == 1

    save(
        client,
        draft.pk,
        draft.revision,
        sender,
        to="Ann <ann@example.org>",
        subject="Finished here",
        body="Dear Ann,\n\nabout the agenda: attached.",
    )
    mirrored(draft.pk)
    ((_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert copy["Subject"] == "Finished here"
    assert [part.get_filename() for part in copy.iter_attachments()] == ["agenda.pdf"]


def test_undo_writes_the_copy_in_drafts_again(sender, dovecot, settings):
    settings.WEBMAIL_UNDO_SECONDS = 30
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, to="ann@example.org", subject="Second thoughts")
    mirrored(draft_id)
    post_compose(client, sender, to="ann@example.org", subject="Second thoughts", draft_id=draft_id, revision=1)
    assert mirrored(draft_id).state == DraftState.SENT, "kept while Undo is possible"
    assert server_drafts(dovecot, sender.email) == {}
    message = OutgoingMessage.objects.get(user=sender)
    client.post(reverse("outbox:cancel", args=[message.pk]))
    mirrored(draft_id)
    ((_uid, (_flags, copy)),) = server_drafts(dovecot, sender.email).items()
    assert copy["Subject"] == "Second thoughts"


def test_only_a_drafts_folder_opens_in_the_composer(sender, dovecot):
    uid = dovecot.deliver(sender.email, b"From: ann@example.org\r\nSubject: Not a draft\r\n\r\nHello\r\n")
    account = sender.mail_accounts.get()
    sync_account(account, ["INBOX"])
    client = sign_in(Client(), sender)
    assert client.get(reverse("outbox:draft_open", args=[folder_named(account, "INBOX").pk, uid])).status_code == 404
    assert not SavedDraft.objects.exists()


def test_a_copy_that_cannot_be_built_backs_off_and_says_why(sender, dovecot, monkeypatch):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, subject="Unlucky")

    def broken(draft, identity):  # a fault no server produces: a bug in building the copy
        raise ValueError("cannot build")

    monkeypatch.setattr(draftcopy, "copy_bytes", broken)
    draft = mirrored(draft_id)
    assert draft.mirror_attempts == 1 and draft.mirror_due_at > timezone.now() and draft.mirror_claimed_until is None
    assert draft.mirror_error == "cannot build"


def test_a_copy_appended_by_a_worker_that_lost_the_reply_is_removed_when_the_draft_is_sent(
    sender, dovecot, monkeypatch
):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, to="ann@example.org", subject="Half done")

    def append_then_lose_the_connection(session, folder, raw, marker, also, known):
        session.append(folder, raw)
        raise MailServerError("the connection was lost")

    with monkeypatch.context() as patched:
        patched.setattr(imap_drafts, "replace_draft", append_then_lose_the_connection)
        draft = mirrored(draft_id)
    assert draft.mirror_uid is None and draft.mirror_attempts == 1
    assert len(server_drafts(dovecot, sender.email)) == 1, "a copy nobody recorded"
    post_compose(client, sender, to="ann@example.org", subject="Half done", draft_id=draft_id, revision=1)
    mirrored(draft_id)
    assert server_drafts(dovecot, sender.email) == {}


def test_our_copy_edited_by_another_client_brings_its_text_into_our_draft(sender, dovecot):
    client = sign_in(Client(), sender)
    draft_id = uuid.uuid4()
    save(client, draft_id, 0, sender, to="ann@example.org", subject="Written here")
    mirrored(draft_id)
    draft = SavedDraft.objects.select_related("identity").get(pk=draft_id)
    edited = draftcopy.copy_bytes(draft, draft.identity).replace(b"Subject: Written here", b"Subject: Edited there")
    new_uid = dovecot.deliver(sender.email, edited, folder="Drafts", flags=[b"\\Draft"])  # marker kept
    account = sender.mail_accounts.get()
    sync_account(account, ["Drafts"])
    opened = client.get(reverse("outbox:draft_open", args=[folder_named(account, "Drafts").pk, new_uid]))
    assert opened["Location"] == f"/outbox/compose/?draft={draft_id}", "the same draft"
    draft.refresh_from_db()
    assert draft.subject == "Edited there" and draft.mirror_uid == new_uid
    assert SavedDraft.objects.filter(user=sender).count() == 1
