"""The language of the pages: the signed-in user's own choice (Settings), else the browser's
Accept-Language, with Content-Language and Vary saying which; a signed-out page follows the
browser."""

from __future__ import annotations

from django.urls import reverse

from tests.accounts.test_preferences import URL as PREFERENCES
from tests.accounts.test_preferences import form_data

LOGIN = reverse("accounts:login")
SETTINGS = reverse("accounts:settings")


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}


def test_a_signed_out_page_follows_the_browser(client, db):
    french = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    html = french.content.decode()
    assert french["Content-Language"] == "fr"
    assert '<html lang="fr"' in html
    assert "Se connecter" in html and "Adresse e-mail" in html
    assert "accept-language" in vary(french)
    english = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert english["Content-Language"] == "en"
    assert "Sign in" in english.content.decode()
    nothing_known = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="ja")
    assert nothing_known["Content-Language"] == "en"


def test_a_german_user_gets_german_pages_whatever_the_browser_asks_for(owner, owner_client):
    owner.language = "de"
    owner.save()
    page = owner_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page["Content-Language"] == "de"
    assert '<html lang="de"' in html
    assert "Einstellungen speichern" in html and "Abmelden" in html and "Postausgang" in html
    assert "Se déconnecter" not in html and "Sign out" not in html
    # The page depends on the session (whose user chose German) and on the browser's languages.
    assert {"accept-language", "cookie"} <= vary(page)
    # The strings the composer's script asks for come in the user's language too.
    catalogue = owner_client.get(reverse("outbox:jsi18n"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vorschl\\u00e4ge" in catalogue or "Vorschläge" in catalogue


def test_a_user_who_chose_no_language_gets_the_browsers(owner_client):
    assert "Einstellungen speichern" in owner_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    page = owner_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9")
    assert page["Content-Language"] == "fr"
    assert "Enregistrer les préférences" in page.content.decode()


def test_a_language_chosen_in_preferences_applies_from_the_next_page(owner, owner_client):
    response = owner_client.post(PREFERENCES, form_data(language="fr", density="comfortable"), follow=True)
    assert "Vos préférences sont enregistrées." in response.content.decode()
    owner.refresh_from_db()
    assert owner.language == "fr"
    owner.language = "xx"  # not one of LANGUAGES (an old row, say): the browser decides
    owner.save()
    page = owner_client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "en"
    assert "Save preferences" in page.content.decode()
