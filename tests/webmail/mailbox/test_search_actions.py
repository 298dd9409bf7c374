"""The bulk actions on search results (``search_bulk``): rows of several folders, each checkbox
"folder:uid", each folder's messages acted on as its own list would, on the server and in the cache."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import MailAccountFactory, UserFactory
from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import cached_folder, deliver_all, server_flags, sync_account
from webmail.mailbox.models import Folder, MessageSummary


def folders(reader) -> dict[str, Folder]:
    return {folder.name: folder for folder in Folder.objects.filter(account=reader)}


def test_search_results_of_two_folders_are_flagged_and_moved_on_the_server(reader, reader_client, dovecot):
    address = reader.user.email
    inbox_uids = deliver_all(dovecot, address, [make_message(1), make_message(2)])
    archive_uids = deliver_all(dovecot, address, [make_message(3)], folder="Archive")
    sync_account(reader)
    boxes = folders(reader)
    inbox, archive, trash = boxes["INBOX"], boxes["Archive"], boxes["Trash"]
    url = reverse("mailbox:search_bulk", args=[inbox.pk])
    back = reverse("mailbox:search", args=[inbox.pk]) + "?q=Message&scope=all"
    picked = [f"{inbox.pk}:{inbox_uids[0]}", f"{archive.pk}:{archive_uids[0]}"]

    response = reader_client.post(url, {"action": "flag", "uid": picked, "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert "2 messages flagged." in response.content.decode()  # one line for both folders
    assert b"\\Flagged" in server_flags(dovecot, address, "INBOX")[inbox_uids[0]]
    assert b"\\Flagged" not in server_flags(dovecot, address, "INBOX")[inbox_uids[1]]
    assert b"\\Flagged" in server_flags(dovecot, address, "Archive")[archive_uids[0]]
    assert MessageSummary.objects.get(folder=archive, uid=archive_uids[0]).flagged

    response = reader_client.post(url, {"action": "delete", "uid": picked, "next": back}, follow=True)
    assert "2 messages moved to Trash." in response.content.decode()
    assert len(server_flags(dovecot, address, "Trash")) == 2
    assert list(server_flags(dovecot, address, "INBOX")) == [inbox_uids[1]]
    assert not server_flags(dovecot, address, "Archive")
    assert not MessageSummary.objects.filter(folder__in=[inbox, archive], uid__in=[inbox_uids[0], archive_uids[0]])
    trash.refresh_from_db()
    assert trash.total == 2


def test_another_accounts_folder_or_a_bad_value_is_refused(reader, reader_client):
    sync_account(reader, [])
    inbox = folders(reader)["INBOX"]
    stranger = cached_folder(MailAccountFactory(user=UserFactory()), "INBOX")
    url = reverse("mailbox:search_bulk", args=[inbox.pk])
    assert reader_client.post(url, {"action": "flag", "uid": [f"{stranger.pk}:1"]}).status_code == 404
    for value in ("1", "x:1", f"{inbox.pk}:0", f"{inbox.pk}:-3"):
        assert reader_client.post(url, {"action": "flag", "uid": [value]}).status_code == 400, value
    assert reader_client.post(url, {"action": "launch", "uid": [f"{inbox.pk}:1"]}).status_code == 400
    other = reverse("mailbox:search_bulk", args=[stranger.pk])
    assert reader_client.post(other, {"action": "flag", "uid": [f"{stranger.pk}:1"]}).status_code == 404
