"""No signed-in page may be kept by a browser or a proxy."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver


def parameterless_paths(patterns=None, prefix: str = "") -> list[str]:
    """Every URL of the site that takes no argument, as a signed-in person could open it."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            found += parameterless_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + route)
    return found


def test_the_walk_finds_the_pages_people_use():
    paths = parameterless_paths()
    for expected in ("/accounts/settings/", "/outbox/compose/", "/accounts/password/", "/"):
        assert any(path == expected or path.endswith(expected) for path in paths), (expected, paths)


@pytest.mark.django_db
def test_every_signed_in_page_says_no_store(owner_client):
    checked = []
    for path in parameterless_paths():
        response = owner_client.get(path)
        if response.status_code != 200 or path.startswith("/static/"):
            continue
        assert "no-store" in response.get("Cache-Control", ""), path
        checked.append(path)
    assert len(checked) >= 5, checked
