"""Remote images "always for this sender": per user, only for senders the trust checks do not
flag, given and taken back by POST only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.helpers import sign_in
from tests.webmail.mailbox.helpers import sync_account
from webmail.mailbox.models import Folder, RemoteImagesAllowed

TRACKER = "https://tracker.example/p.gif"
AUTHSERV_ID = "mx.team.test"
LOOKALIKE = "ex\u0430mple.test".encode("idna").decode()  # example.test spelt with a Cyrillic a


def remote_message(from_: str = "Ann Example <Ann@Example.TEST>", *, headers: str = "", n: int = 1) -> bytes:
    return (
        f"From: {from_}\r\n"
        f"{headers}"
        "To: Rita Reader <rita@example.test>\r\n"
        f"Subject: Newsletter {n}\r\n"
        "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <news{n}@example.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        f'<p>News <img src="{TRACKER}" alt="pixel"></p>\r\n'
    ).encode()


def deliver(reader, dovecot, raw: bytes) -> tuple[Folder, int]:
    uid = dovecot.deliver(reader.user.email, raw)
    sync_account(reader, ["INBOX"])
    return Folder.objects.get(account=reader, name="INBOX"), uid


def img_src(response) -> list[str]:
    for part in response["Content-Security-Policy"].split(";"):
        name, _sep, value = part.strip().partition(" ")
        if name == "img-src":
            return value.split()
    raise AssertionError("no img-src")


def remote_allowed(client: Client, folder: Folder, uid: int) -> bool:
    """Whether the body document of this message may load remote images, and shows them."""
    response = client.get(reverse("mailbox:body", args=[folder.pk, uid]))
    assert response.status_code == 200
    relaxed = "https:" in img_src(response)
    assert relaxed == ("http:" in img_src(response))
    assert relaxed == (TRACKER in response.content.decode()), "the policy and the sanitizer agree"
    return relaxed


def always(client: Client, folder: Folder, uid: int):
    return client.post(reverse("mailbox:images_always", args=[folder.pk, uid]))


def forget(client: Client, address: str, next_url: str = ""):
    data = {"address": address, **({"next": next_url} if next_url else {})}
    return client.post(reverse("mailbox:images_forget"), data)


def listed(user) -> list[str]:
    return list(RemoteImagesAllowed.objects.filter(user=user).values_list("address", flat=True))


@pytest.fixture
def authserv(settings):
    settings.WEBMAIL_AUTHSERV_ID = AUTHSERV_ID


def test_always_for_this_sender_relaxes_img_src_for_that_sender_only(reader, reader_client, dovecot):
    inbox, ann = deliver(reader, dovecot, remote_message())
    _, bob = deliver(reader, dovecot, remote_message("Bob <bob@example.test>", n=2))
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, ann])).content.decode()
    assert "Remote images are blocked" in page
    assert "Always show images from ann@example.test" in page
    assert reverse("mailbox:images_always", args=[inbox.pk, ann]) in page
    assert not remote_allowed(reader_client, inbox, ann)

    response = always(reader_client, inbox, ann)
    assert response.status_code == 302
    assert response["Location"] == reverse("mailbox:message", args=[inbox.pk, ann])
    assert listed(reader.user) == ["ann@example.test"], "normalized to lower case"
    assert remote_allowed(reader_client, inbox, ann)
    assert not remote_allowed(reader_client, inbox, bob)

    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, ann])).content.decode()
    assert "Remote images are blocked" not in page and "Always show images" not in page
    assert "Remote images from ann@example.test are always shown." in page
    assert "Stop showing images from this sender" in page
    iframe = re.search(r"<iframe[^>]*>", page, re.S).group()
    assert f'src="{reverse("mailbox:body", args=[inbox.pk, ann])}"' in iframe, "the body view decides by itself"
    # Same-origin only so that the page can measure the body's height: never scripts with it.
    assert "allow-scripts" not in iframe

    other = reader_client.get(reverse("mailbox:message", args=[inbox.pk, bob])).content.decode()
    assert "Remote images are blocked" in other and "Always show images from bob@example.test" in other

    # Idempotent: asking again changes nothing.
    assert always(reader_client, inbox, ann).status_code == 302
    assert listed(reader.user) == ["ann@example.test"]


def test_the_same_address_in_another_case_counts_too(reader, reader_client, dovecot):
    RemoteImagesAllowed.objects.create(user=reader.user, address="  ANN@example.test ")
    assert listed(reader.user) == ["ann@example.test"]
    inbox, uid = deliver(reader, dovecot, remote_message("ann@EXAMPLE.test"))
    assert remote_allowed(reader_client, inbox, uid)


FLAGGED = {
    "dmarc-fail": remote_message(
        headers=f"Authentication-Results: {AUTHSERV_ID}; dmarc=fail header.from=example.test\r\n"
    ),
    "spf-fail": remote_message(headers=f"Authentication-Results: {AUTHSERV_ID}; spf=softfail smtp.mailfrom=x\r\n"),
    "display-name": remote_message('"boss@team.test" <ann@example.test>'),
    "homograph": remote_message(f"Ann <ann@{LOOKALIKE}>"),
    "two-addresses": remote_message("ann@example.test, eve@evil.test"),
    "two-from-headers": remote_message(headers="From: Eve <eve@evil.test>\r\n"),
}


@pytest.mark.parametrize("case", FLAGGED)
def test_a_flagged_sender_never_unlocks_images_even_if_allowed(reader, reader_client, dovecot, authserv, case):
    address = f"ann@{LOOKALIKE}" if case == "homograph" else "ann@example.test"
    RemoteImagesAllowed.objects.create(user=reader.user, address=address)
    inbox, uid = deliver(reader, dovecot, FLAGGED[case])
    assert not remote_allowed(reader_client, inbox, uid)
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    assert "Remote images are blocked" in page and "Always show images" not in page
    assert "may not come from that sender: its images stay blocked" in page
    assert "Stop showing images from this sender" in page, "the user can still take it off the list"


@pytest.mark.parametrize("case", FLAGGED)
def test_a_flagged_sender_cannot_be_added(reader, reader_client, dovecot, authserv, case):
    inbox, uid = deliver(reader, dovecot, FLAGGED[case])
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    assert "Show remote images" in page and "Always show images" not in page
    response = always(reader_client, inbox, uid)
    assert response.status_code == 302
    assert listed(reader.user) == []
    follow = reader_client.get(response["Location"]).content.decode()
    assert "may not come from who it claims" in follow
    assert not remote_allowed(reader_client, inbox, uid)


def test_an_unflagged_message_of_the_same_sender_still_shows_images(reader, reader_client, dovecot, authserv):
    RemoteImagesAllowed.objects.create(user=reader.user, address="ann@example.test")
    passed = f"Authentication-Results: {AUTHSERV_ID}; spf=pass smtp.mailfrom=example.test; dmarc=pass\r\n"
    inbox, uid = deliver(reader, dovecot, remote_message(headers=passed))
    assert remote_allowed(reader_client, inbox, uid)


def test_one_users_list_never_affects_another(reader, reader_client, dovecot):
    other = UserFactory(email="other@example.test")
    other_client = sign_in(Client(), other)
    RemoteImagesAllowed.objects.create(user=other, address="ann@example.test")
    inbox, uid = deliver(reader, dovecot, remote_message())
    assert not remote_allowed(reader_client, inbox, uid)
    page = reader_client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    assert "Always show images from ann@example.test" in page

    # Another user can neither add to this user's list through their message ...
    assert always(other_client, inbox, uid).status_code == 404
    assert listed(reader.user) == [] and listed(other) == ["ann@example.test"]
    # ... nor take anything off it.
    RemoteImagesAllowed.objects.create(user=reader.user, address="ann@example.test")
    assert forget(other_client, "ann@example.test").status_code == 302
    assert listed(reader.user) == ["ann@example.test"] and listed(other) == []
    assert remote_allowed(reader_client, inbox, uid)
    assert 'value="ann@example.test"' not in other_client.get(reverse("accounts:settings")).content.decode()


def test_revoking_from_the_message_and_from_the_settings(reader, reader_client, dovecot):
    inbox, uid = deliver(reader, dovecot, remote_message())
    message_url = reverse("mailbox:message", args=[inbox.pk, uid])
    always(reader_client, inbox, uid)
    RemoteImagesAllowed.objects.create(user=reader.user, address="news@shop.test")
    settings_page = reader_client.get(reverse("accounts:settings")).content.decode()
    assert 'value="ann@example.test"' in settings_page and 'value="news@shop.test"' in settings_page
    assert reverse("mailbox:images_forget") in settings_page

    response = forget(reader_client, "Ann@Example.test", next_url=message_url)
    assert response.status_code == 302 and response["Location"] == message_url
    assert listed(reader.user) == ["news@shop.test"]
    assert not remote_allowed(reader_client, inbox, uid)
    assert "Always show images from ann@example.test" in reader_client.get(message_url).content.decode()
    # Idempotent: forgetting again is no error.
    assert forget(reader_client, "ann@example.test", next_url=message_url).status_code == 302

    response = forget(reader_client, "news@shop.test", next_url="https://evil.test/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:settings")
    assert listed(reader.user) == []
    assert 'value="news@shop.test"' not in reader_client.get(reverse("accounts:settings")).content.decode()


def test_get_changes_nothing(reader, reader_client, dovecot):
    inbox, uid = deliver(reader, dovecot, remote_message())
    assert reader_client.get(reverse("mailbox:images_always", args=[inbox.pk, uid])).status_code == 405
    assert listed(reader.user) == []
    RemoteImagesAllowed.objects.create(user=reader.user, address="ann@example.test")
    response = reader_client.get(reverse("mailbox:images_forget"), {"address": "ann@example.test"})
    assert response.status_code == 405
    assert listed(reader.user) == ["ann@example.test"]


def test_csrf_is_enforced(reader, dovecot):
    client = sign_in(Client(enforce_csrf_checks=True), reader.user)
    inbox, uid = deliver(reader, dovecot, remote_message())
    assert always(client, inbox, uid).status_code == 403
    assert listed(reader.user) == []

    page = client.get(reverse("mailbox:message", args=[inbox.pk, uid])).content.decode()
    form = re.search(r'<form method="post" action="([^"]*)" class="images-always">(.*?)</form>', page, re.S)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(2)).group(1)
    assert form.group(1) == reverse("mailbox:images_always", args=[inbox.pk, uid])
    assert client.post(form.group(1), {"csrfmiddlewaretoken": token}).status_code == 302
    assert listed(reader.user) == ["ann@example.test"]

    assert forget(client, "ann@example.test").status_code == 403
    assert listed(reader.user) == ["ann@example.test"]
    data = {"address": "ann@example.test", "csrfmiddlewaretoken": token}
    assert client.post(reverse("mailbox:images_forget"), data).status_code == 302
    assert listed(reader.user) == []


def test_anonymous_visitors_change_nothing(reader, dovecot):
    inbox, uid = deliver(reader, dovecot, remote_message())
    RemoteImagesAllowed.objects.create(user=reader.user, address="bob@example.test")
    anonymous = Client()
    assert always(anonymous, inbox, uid).status_code == 302
    assert forget(anonymous, "bob@example.test").status_code == 302
    assert listed(reader.user) == ["bob@example.test"]


def test_a_user_without_the_second_factor_changes_nothing(reader, dovecot, settings):
    settings.WEBMAIL_REQUIRE_2FA = True
    client = sign_in(Client(), reader.user, verified=False)
    inbox, uid = deliver(reader, dovecot, remote_message())
    always(client, inbox, uid)
    assert listed(reader.user) == []
