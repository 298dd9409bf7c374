"""Managing folders: create, rename, delete, on the server first."""

from __future__ import annotations

from django.urls import reverse

from tests.webmail.helpers import make_message
from tests.webmail.mailbox.helpers import folder_named, sync_account
from webmail.mailbox.models import Folder


def server_folders(dovecot, address: str) -> set[str]:
    client = dovecot.login(address)
    try:
        return {name for _flags, _delimiter, name in client.list_folders()}
    finally:
        client.logout()


def flash(client) -> str:
    return client.get(reverse("mailbox:index"), follow=True).content.decode()


def test_the_manage_page_lists_folders_and_protects_the_special_ones(reader, reader_client):
    response = reader_client.get(reverse("mailbox:folders", args=[reader.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Inbox", "Drafts", "Sent", "Junk", "Trash", "Archive"):
        assert name in html
    assert "/rename/" not in html and "/delete/" not in html, "only special folders so far: nothing to rename"


def test_create_rename_and_delete_a_folder_on_the_server(reader, reader_client, dovecot):
    address = reader.user.email
    create = reverse("mailbox:folder_create", args=[reader.pk])
    response = reader_client.post(create, {"name": "Projects"})
    assert response.status_code == 302
    assert "Projects" in server_folders(dovecot, address)
    projects = folder_named(reader, "Projects")

    reader_client.post(create, {"name": "2026", "parent": projects.pk})
    assert "Projects/2026" in server_folders(dovecot, address)
    child = folder_named(reader, "Projects/2026")
    dovecot.deliver(address, make_message(1), folder="Projects/2026")
    sync_account(reader, ["Projects/2026"])
    assert child.messages.count() == 1

    reader_client.post(reverse("mailbox:folder_rename", args=[projects.pk]), {"name": "Archive"})
    assert "There is already a folder called “Archive”." in flash(reader_client)
    reader_client.post(reverse("mailbox:folder_rename", args=[projects.pk]), {"name": "Work"})
    names = server_folders(dovecot, address)
    assert {"Work", "Work/2026"} <= names and "Projects" not in names
    assert Folder.objects.get(pk=projects.pk).name == "Work", "the same row, renamed"
    assert Folder.objects.get(pk=child.pk).name == "Work/2026"
    assert Folder.objects.get(pk=child.pk).messages.count() == 1, "the cache survives a rename"
    assert "“Projects” renamed to “Work”." in flash(reader_client)

    delete = reverse("mailbox:folder_delete", args=[child.pk])
    confirm = reader_client.post(delete)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert "Work/2026" in server_folders(dovecot, address), "nothing deleted before the confirmation"
    reader_client.post(delete, {"confirm": "1"})
    assert "Work/2026" not in server_folders(dovecot, address)
    assert not Folder.objects.filter(pk=child.pk).exists()


def test_the_inbox_and_special_folders_cannot_be_deleted_or_renamed(reader, reader_client, dovecot):
    sync_account(reader, [])
    for name in ("INBOX", "Sent", "Trash"):
        folder = folder_named(reader, name)
        reader_client.post(reverse("mailbox:folder_delete", args=[folder.pk]), {"confirm": "1"})
        reader_client.post(reverse("mailbox:folder_rename", args=[folder.pk]), {"name": "Other"})
    names = server_folders(dovecot, reader.user.email)
    assert {"INBOX", "Sent", "Trash"} <= names and "Other" not in names
    assert "cannot be deleted" in flash(reader_client)


def test_folder_names_with_control_characters_or_the_delimiter_are_refused(reader, reader_client, dovecot):
    sync_account(reader, [])
    before = server_folders(dovecot, reader.user.email)
    create = reverse("mailbox:folder_create", args=[reader.pk])
    for name in ("Evil\r\nA1 DELETE INBOX", "Tab\there", "Nul\x00", "a/b", "", "   ", "*", "x" * 201):
        response = reader_client.post(create, {"name": name})
        assert response.status_code == 302, repr(name)
    assert server_folders(dovecot, reader.user.email) == before
    messages = flash(reader_client)
    assert "control characters" in messages and "choose a parent folder" in messages
    inbox = folder_named(reader, "INBOX")
    assert reader_client.post(create, {"name": "x", "parent": "nope"}).status_code == 400
    reader_client.post(reverse("mailbox:folder_rename", args=[inbox.pk]), {"name": "Bad\nName"})
    assert server_folders(dovecot, reader.user.email) == before


def test_an_existing_name_is_refused_and_the_servers_refusal_is_shown(reader, reader_client, dovecot):
    sync_account(reader, [])
    create = reverse("mailbox:folder_create", args=[reader.pk])
    reader_client.post(create, {"name": "Archive"})
    assert "There is already a folder called “Archive”." in flash(reader_client)
    other = dovecot.login(reader.user.email)  # another client, after our last look at the list
    other.create_folder("Elsewhere")
    other.logout()
    reader_client.post(create, {"name": "Elsewhere"})
    page = flash(reader_client)
    assert "The mail server did not answer: the server refused the request" in page
    assert "exists" in page
