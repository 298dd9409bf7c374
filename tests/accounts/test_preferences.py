"""The Preferences section of the settings page: a user changes their own name, time zone,
undo-send window, plain-text composing and default sender address, and nothing of anyone else's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Identity
from outbox.sending import undo_delay
from tests.factories import IdentityFactory, MailAccountFactory

URL = reverse("accounts:preferences")


@pytest.fixture
def identities(owner):
    account = MailAccountFactory(user=owner)
    first = IdentityFactory(user=owner, account=account, address="olivia@example.test")
    second = IdentityFactory(user=owner, account=account, address="sales@example.test")
    return first, second


def form_data(identity=None, **changes) -> dict:
    data = {"full_name": "Olivia O.", "time_zone": "", "undo_send_seconds": "", "compose_plain": ""}
    if identity is not None:
        data["default_identity"] = str(identity.pk)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_settings_page_shows_the_form_with_the_site_defaults(owner_client, identities, settings):
    settings.TIME_ZONE = "Europe/Paris"
    settings.WEBMAIL_UNDO_SECONDS = 10
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert 'id="preferences"' in page
    assert "Site default (Europe/Paris)" in page
    assert "Site default (10 s)" in page
    assert '<option value="America/New_York">America/New_York</option>' in page
    first, _second = identities
    assert f'<option value="{first.pk}" selected>olivia@example.test' in page.replace("Olivia Owner &lt;", "")


def test_saving_changes_the_users_own_row_and_says_so(owner_client, owner, identities, settings):
    settings.WEBMAIL_UNDO_SECONDS = 10
    _first, second = identities
    data = form_data(second, time_zone="Asia/Tokyo", undo_send_seconds="20", compose_plain="on")
    response = owner_client.post(URL, data, follow=True)
    assert response.redirect_chain == [(reverse("accounts:settings") + "#preferences", 302)]
    assert "Your preferences are saved." in response.content.decode()
    owner.refresh_from_db()
    assert (owner.full_name, owner.time_zone, owner.undo_send_seconds, owner.compose_plain) == (
        "Olivia O.",
        "Asia/Tokyo",
        20,
        True,
    )
    assert owner.zone.key == "Asia/Tokyo"
    assert undo_delay(owner) == 20
    assert list(Identity.objects.filter(user=owner, is_default=True)) == [second]


def test_site_default_and_off_are_distinct(owner_client, owner, settings):
    settings.WEBMAIL_UNDO_SECONDS = 10
    owner_client.post(URL, form_data(undo_send_seconds="0"))
    owner.refresh_from_db()
    assert owner.undo_send_seconds == 0
    assert undo_delay(owner) == 0
    owner_client.post(URL, form_data(undo_send_seconds=""))
    owner.refresh_from_db()
    assert owner.undo_send_seconds is None
    assert undo_delay(owner) == 10


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice."),
        ("undo_send_seconds", "7", "Select a valid choice."),
        ("undo_send_seconds", "lots", "Select a valid choice."),
        ("full_name", "Olivia\nBcc: x@example.test", "A name cannot contain line breaks or control characters."),
    ],
)
def test_a_bad_value_is_refused_with_its_reason_and_the_input_kept(owner_client, owner, field, value, error):
    response = owner_client.post(URL, form_data(**{"full_name": "Kept Name", field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    if field != "full_name":
        assert 'value="Kept Name"' in page
    owner.refresh_from_db()
    assert (owner.full_name, owner.time_zone, owner.undo_send_seconds) == ("Olivia Owner", "", None)


def test_another_users_identity_is_refused(owner_client, owner, teammate, identities):
    first, _second = identities
    theirs = IdentityFactory(user=teammate, address="tom@example.test")
    response = owner_client.post(URL, form_data(theirs, full_name="Changed"))
    assert response.status_code == 400
    assert "Choose one of your own sender addresses." in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.is_default  # still the teammate's default
    assert list(Identity.objects.filter(user=owner, is_default=True)) == [first]
    owner.refresh_from_db()
    assert owner.full_name == "Olivia Owner"


def test_a_user_without_identities_saves_the_rest(owner_client, owner):
    response = owner_client.post(URL, form_data(time_zone="Europe/Berlin"))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.time_zone == "Europe/Berlin"


def test_an_undo_window_set_by_an_administrator_stays_choosable(owner_client, owner):
    owner.undo_send_seconds = 45
    owner.save()
    page = owner_client.get(reverse("accounts:settings")).content.decode()
    assert '<option value="45" selected>45 seconds</option>' in page
    assert owner_client.post(URL, form_data(undo_send_seconds="45")).status_code == 302


def test_the_form_needs_a_signed_in_user_and_csrf(client, owner):
    response = client.post(URL, form_data(time_zone="Asia/Tokyo"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    from django.test import Client

    from tests.helpers import sign_in

    strict = sign_in(Client(enforce_csrf_checks=True), owner)
    assert strict.post(URL, form_data(time_zone="Asia/Tokyo")).status_code == 403
    assert client.get(URL).status_code in (302, 405)
    owner.refresh_from_db()
    assert owner.time_zone == ""


def test_the_display_settings_are_saved_and_a_language_outside_the_list_is_refused(owner_client, owner):
    data = form_data(
        language="de",
        date_format="iso",
        density="compact",
        theme="dark",
        reading_pane="on",
        images_from_correspondents="on",
    )
    assert owner_client.post(URL, data).status_code == 302
    owner.refresh_from_db()
    assert (owner.language, owner.date_format, owner.density, owner.theme) == ("de", "iso", "compact", "dark")
    assert owner.reading_pane and owner.images_from_correspondents
    response = owner_client.post(URL, form_data(language="xx", theme="sepia"))
    assert response.status_code == 400
    owner.refresh_from_db()
    assert (owner.language, owner.theme) == ("de", "dark")


def test_a_form_without_the_density_keeps_the_comfortable_list(owner_client, owner):
    assert owner_client.post(URL, form_data()).status_code == 302
    owner.refresh_from_db()
    assert owner.density == "comfortable"
