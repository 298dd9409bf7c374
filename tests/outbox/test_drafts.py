"""Drafts through their endpoints: saved as typed, one row per composer, stale saves refused
without loss, files stored once, Send closing the draft (once), Discard and its undo."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox import draftcopy
from outbox.models import DraftState, OutgoingMessage, SavedDraft
from tests.helpers import sign_in
from tests.outbox.test_views import identity_id, post_compose


def save(client: Client, draft_id, revision: int, user, **fields):
    data = {"identity": identity_id(user), "to": "", "subject": "", "body": "", "revision": revision, **fields}
    return client.post(reverse("outbox:draft_save", args=[draft_id]), data)


def upload(client: Client, draft_id, revision: int, name: str = "notes.txt", data: bytes = b"notes"):
    return client.post(
        reverse("outbox:draft_upload", args=[draft_id]), {"revision": revision, "file": SimpleUploadedFile(name, data)}
    )


def test_the_first_save_creates_the_draft_and_each_save_is_the_next_revision(writer_client, writer):
    draft_id = uuid.uuid4()
    first = save(writer_client, draft_id, 0, writer, to="ann@exa", subject="Plans", body="Half a thou")
    assert first.status_code == 200, first.content
    assert first.json()["revision"] == 1
    assert first.json()["url"] == f"/outbox/compose/?draft={draft_id}"
    assert first["Cache-Control"] == "private, no-store"
    second = save(writer_client, draft_id, 1, writer, to="ann@example.org", subject="Plans", body="Half a thought.")
    assert second.json()["revision"] == 2
    draft = SavedDraft.objects.get()
    assert (draft.to, draft.body, draft.revision) == ("ann@example.org", "Half a thought.", 2)
    assert draft.mirror_due_at is not None, "the IMAP copy is due"


def test_a_half_typed_address_is_kept_as_typed_not_refused(writer_client, writer):
    draft_id = uuid.uuid4()
    response = save(writer_client, draft_id, 0, writer, to="Ann <ann@", cc="not an address")
    assert response.status_code == 200
    assert SavedDraft.objects.get().to == "Ann <ann@"


def test_a_stale_save_is_refused_and_changes_nothing(writer_client, writer):
    draft_id = uuid.uuid4()
    save(writer_client, draft_id, 0, writer, body="From the first tab")
    save(writer_client, draft_id, 1, writer, body="From the first tab, later")
    stale = save(writer_client, draft_id, 1, writer, body="From the second tab")
    assert stale.status_code == 409
    assert stale.json() == {"error": "This draft was changed in another window.", "revision": 2}
    assert SavedDraft.objects.get().body == "From the first tab, later"
    # The second tab chooses to keep its version: it saves on the revision it was told.
    kept = save(writer_client, draft_id, 2, writer, body="From the second tab")
    assert kept.status_code == 200 and SavedDraft.objects.get().body == "From the second tab"


def test_a_save_of_a_draft_that_has_gone_is_refused(writer_client, writer):
    response = save(writer_client, uuid.uuid4(), 3, writer, body="late")
    assert response.status_code == 410 and "sent or discarded" in response.json()["error"]
    assert SavedDraft.objects.count() == 0


def test_someone_elses_draft_is_not_found_for_any_endpoint(writer_client, writer, stranger):
    draft_id = uuid.uuid4()
    save(writer_client, draft_id, 0, writer, body="mine")
    other = sign_in(Client(), stranger)
    assert save(other, draft_id, 1, writer, body="theirs").status_code in (400, 404)  # not their identity either
    assert upload(other, draft_id, 1).status_code == 404
    assert other.post(reverse("outbox:draft_discard", args=[draft_id])).status_code == 302
    assert other.get(reverse("outbox:compose"), {"draft": draft_id}).status_code == 404
    draft = SavedDraft.objects.get()
    assert (draft.state, draft.body, draft.attachments.count()) == (DraftState.OPEN, "mine", 0)


def test_an_attachment_is_stored_once_and_survives_a_reload(writer_client, writer):
    draft_id = uuid.uuid4()
    response = upload(writer_client, draft_id, 0, "minutes.txt", b"We agreed.")
    assert response.status_code == 200, response.content
    attachment = response.json()["attachment"]
    assert (attachment["name"], attachment["size"]) == ("minutes.txt", 10)
    save(writer_client, draft_id, 1, writer, body="See the minutes.")
    save(writer_client, draft_id, 2, writer, body="See the minutes, attached.")
    assert SavedDraft.objects.get().attachments.count() == 1, "saves carry no files"
    page = writer_client.get(reverse("outbox:compose"), {"draft": draft_id}).content.decode()
    assert f'name="attachment" value="{attachment["id"]}" checked' in page
    assert "See the minutes, attached.</textarea>" in page
    assert 'name="revision" value="3"' in page

    removed = writer_client.post(attachment["remove_url"], {"revision": 3})
    assert removed.status_code == 200 and SavedDraft.objects.get().attachments.count() == 0


def test_an_attachment_over_the_cap_is_refused_in_the_same_words(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 3000
    response = upload(writer_client, uuid.uuid4(), 0, "big.bin", b"x" * 2500)
    assert response.status_code == 413
    assert response.json()["error"].startswith("The message is too large: 3.3\xa0KB as sent")
    assert SavedDraft.objects.count() == 0


def test_send_queues_the_draft_with_its_files_and_a_second_press_queues_nothing_more(writer_client, writer):
    draft_id = uuid.uuid4()
    kept = upload(writer_client, draft_id, 0, "kept.txt", b"kept").json()["attachment"]
    upload(writer_client, draft_id, 1, "unticked.txt", b"left out")
    fields = {"draft_id": draft_id, "revision": 2, "attachment": [kept["id"]]}
    response = post_compose(writer_client, writer, **fields)
    assert response.status_code == 302
    message = OutgoingMessage.objects.get()
    assert b'filename="kept.txt"' in bytes(message.mime) and b"unticked.txt" not in bytes(message.mime)
    draft = SavedDraft.objects.get()
    assert (draft.state, draft.sent_as_id) == (DraftState.SENT, message.pk)

    again = post_compose(writer_client, writer, **fields)
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert OutgoingMessage.objects.count() == 1
    assert save(writer_client, draft_id, 3, writer, body="late autosave").status_code == 410
    opened = writer_client.get(reverse("outbox:compose"), {"draft": draft_id})
    assert opened.status_code == 302 and opened["Location"] == response["Location"]


def test_a_refused_send_keeps_what_was_typed_and_attached_in_the_draft(writer_client, writer):
    attachment = SimpleUploadedFile("plan.txt", b"the plan")
    response = post_compose(writer_client, writer, to="not an address", body="Keep me.", attachments=[attachment])
    assert response.status_code == 400
    draft = SavedDraft.objects.get()
    assert (draft.to, draft.body) == ("not an address", "Keep me.")
    (stored,) = draft.attachments.all()
    page = response.content.decode()
    assert f'value="{stored.pk}" checked' in page and "plan.txt" in page
    assert "Choose the attachments again" not in page
    assert f'name="draft_id" value="{draft.pk}"' in page

    fixed = post_compose(
        writer_client, writer, to="ann@example.org", draft_id=draft.pk, revision=draft.revision, attachment=[stored.pk]
    )
    assert fixed.status_code == 302
    assert b'filename="plan.txt"' in bytes(OutgoingMessage.objects.get().mime)


def test_discard_can_be_undone(writer_client, writer):
    draft_id = uuid.uuid4()
    save(writer_client, draft_id, 0, writer, subject="Second thoughts", body="Maybe not.")
    response = writer_client.post(reverse("outbox:draft_discard", args=[draft_id]))
    assert response.status_code == 302
    assert SavedDraft.objects.get().state == DraftState.DISCARDED
    listing = writer_client.get(response["Location"]).content.decode()
    assert "“Second thoughts” was discarded." in listing
    assert "Second thoughts</a>" not in listing, "no longer among the drafts"
    assert writer_client.get(reverse("outbox:compose"), {"draft": draft_id}).status_code == 302

    restored = writer_client.post(reverse("outbox:draft_restore", args=[draft_id]))
    assert restored["Location"] == f"/outbox/compose/?draft={draft_id}"
    draft = SavedDraft.objects.get()
    assert draft.state == DraftState.OPEN and draft.mirror_due_at is not None, "its copy is written again"
    assert "Maybe not.</textarea>" in writer_client.get(restored["Location"]).content.decode()


def test_the_drafts_page_lists_open_drafts(writer_client, writer):
    save(writer_client, uuid.uuid4(), 0, writer, subject="Open one", to="ann@example.org")
    page = writer_client.get(reverse("outbox:drafts")).content.decode()
    assert "Open one</a>" in page and "ann@example.org" in page


@pytest.mark.parametrize("value", ["not-a-uuid", ""])
def test_a_malformed_draft_id_is_not_found(writer_client, value):
    assert writer_client.get(reverse("outbox:compose"), {"draft": value}).status_code == 404


def test_undo_brings_the_message_back_into_the_composer(writer_client, writer, settings):
    settings.WEBMAIL_UNDO_SECONDS = 30
    draft_id = uuid.uuid4()
    save(writer_client, draft_id, 0, writer, to="ann@example.org", subject="Too soon", body="Wait for it.")
    stored = upload(writer_client, draft_id, 1, "plan.txt", b"the plan").json()["attachment"]
    sent = post_compose(
        writer_client,
        writer,
        to="ann@example.org",
        subject="Too soon",
        body="Wait for it.",
        draft_id=draft_id,
        revision=2,
        attachment=[stored["id"]],
    )
    message = OutgoingMessage.objects.get()
    assert SavedDraft.objects.get().state == DraftState.SENT
    assert draftcopy.purge_discarded() == 0, "kept while Undo can still bring it back"

    undone = writer_client.post(reverse("outbox:cancel", args=[message.pk]))
    assert undone["Location"] == f"/outbox/compose/?draft={draft_id}", sent["Location"]
    message.refresh_from_db()
    draft = SavedDraft.objects.get()
    assert message.state == "cancelled" and draft.state == DraftState.OPEN and draft.sent_as is None
    page = writer_client.get(undone["Location"]).content.decode()
    assert "Wait for it.</textarea>" in page and f'value="{stored["id"]}" checked' in page
    assert "The message is back in the composer." in page


def test_a_composer_sent_before_its_first_save_comes_back_on_undo_too(writer_client, writer, settings):
    settings.WEBMAIL_UNDO_SECONDS = 30
    draft_id = uuid.uuid4()
    attachment = SimpleUploadedFile("quick.txt", b"quick")
    post_compose(writer_client, writer, subject="Quick one", draft_id=draft_id, attachments=[attachment])
    message = OutgoingMessage.objects.get()
    undone = writer_client.post(reverse("outbox:cancel", args=[message.pk]))
    assert undone["Location"] == f"/outbox/compose/?draft={draft_id}"
    draft = SavedDraft.objects.get()
    assert (draft.subject, [a.filename for a in draft.attachments.all()]) == ("Quick one", ["quick.txt"])


def test_a_sent_draft_is_forgotten_once_its_message_is_past_undo(writer_client, writer, settings):
    settings.WEBMAIL_UNDO_SECONDS = 30
    draft_id = uuid.uuid4()
    save(writer_client, draft_id, 0, writer, to="ann@example.org", subject="Gone soon")
    post_compose(writer_client, writer, subject="Gone soon", draft_id=draft_id, revision=1)
    SavedDraft.objects.update(mirror_due_at=None)  # its IMAP copy is gone (see test_draftcopy)
    assert draftcopy.purge_discarded() == 0
    OutgoingMessage.objects.update(due_at=timezone.now())
    assert draftcopy.purge_discarded() == 1 and not SavedDraft.objects.exists()


def test_saves_of_one_page_never_conflict_and_a_late_one_changes_nothing(writer, writer_client):
    from outbox import drafts

    identity = writer.identities.get()
    draft_id, this_page, other_page = uuid.uuid4(), drafts.Page("a" * 32, 0), drafts.Page("b" * 32, 0)
    first = drafts.save(writer, draft_id, 0, drafts.Fields(identity, body="one"), drafts.Page(this_page.token, 1))
    # The save sent as the tab closed (number 3) overtakes the one still in flight (number 2).
    drafts.save(
        writer, draft_id, first.revision, drafts.Fields(identity, body="three"), drafts.Page(this_page.token, 3)
    )
    late = drafts.save(
        writer, draft_id, first.revision, drafts.Fields(identity, body="two"), drafts.Page(this_page.token, 2)
    )
    assert late.body == "three" and SavedDraft.objects.get().body == "three"
    with pytest.raises(drafts.StaleRevision):  # another page, behind: refused as ever
        drafts.save(
            writer, draft_id, first.revision, drafts.Fields(identity, body="other"), drafts.Page(other_page.token, 9)
        )


def test_a_signed_out_page_is_told_in_json_not_sent_to_the_sign_in_page(client, writer):
    response = client.post(reverse("outbox:draft_save", args=[uuid.uuid4()]), {"body": "x", "revision": 0})
    assert response.status_code == 401 and "signed out" in response.json()["error"]


def test_a_draft_too_large_to_send_is_not_saved_and_says_why(writer_client, writer, settings):
    settings.WEBMAIL_MAX_MESSAGE_BYTES = 2000
    response = save(writer_client, uuid.uuid4(), 0, writer, body="x" * 3000)
    assert response.status_code == 413 and response.json()["error"].startswith("The message is too large")
    assert not SavedDraft.objects.exists()


def test_a_send_refused_after_reading_the_files_keeps_them_whole(writer_client, writer, settings):
    settings.WEBMAIL_MAX_RECIPIENTS = 1  # refused by enqueue, after the form has read the files
    attachment = SimpleUploadedFile("plan.txt", b"the whole plan")
    response = post_compose(writer_client, writer, to="ann@example.org, bob@example.org", attachments=[attachment])
    assert response.status_code == 400 and "at most 1 recipients" in response.content.decode()
    (stored,) = SavedDraft.objects.get().attachments.all()
    assert bytes(stored.data) == b"the whole plan"
