"""The home page of someone without a mail account says what to do next."""

from __future__ import annotations

import re

from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import UserFactory
from tests.helpers import sign_in

ASK = "Ask your administrator to add one."


def add_link(response) -> str | None:
    found = re.search(r'<a href="([^"]*)">Add one in Admin → Mail accounts</a>', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def test_an_admin_is_sent_to_the_mail_account_form_for_themselves(owner, owner_client):
    response = owner_client.get(reverse("webmail:home"))
    assert response.status_code == 200
    assert ASK not in response.content.decode()
    link = add_link(response)
    assert link == f"{reverse('admin:accounts_mailaccount_add')}?user={owner.pk}"

    form = owner_client.get(link)
    assert form.status_code == 200
    assert re.search(rf'<option value="{owner.pk}" selected>{re.escape(owner.email)}', form.content.decode())


def test_a_user_is_told_to_ask_their_administrator(teammate_client):
    response = teammate_client.get(reverse("webmail:home"))
    assert ASK in response.content.decode()
    assert add_link(response) is None


def test_staff_who_may_not_add_mail_accounts_are_told_to_ask_too(client, db):
    helper = UserFactory(email="helper@example.test", is_staff=True)
    helper.user_permissions.add(Permission.objects.get(codename="view_mailaccount"))
    response = sign_in(client, helper).get(reverse("webmail:home"))
    assert ASK in response.content.decode()
    assert add_link(response) is None
