"""Every string marked for translation, in the templates, the Python code and static/js, has a
German and a French translation that ships: a fresh extraction (``makemessages``, into a copy of
the catalogues) leaves no entry untranslated or fuzzy. docs/TRANSLATING.md says how to add them."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest

from webmail.mailbox.management.commands import update_translations as catalogues

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")


def trial_project(base: Path, root: Path) -> Path:
    """``root``: links to the project's sources, beside a copy of its catalogues."""
    for entry in base.iterdir():
        if entry.name not in {"locale", ".git", *catalogues.IGNORED}:
            (root / entry.name).symlink_to(entry)
    shutil.copytree(base / "locale", root / "locale", ignore=shutil.ignore_patterns("*.mo", "translations"))
    return root / "locale"


def test_every_string_has_a_german_and_a_french_translation(tmp_path, settings):
    before = {path: path.read_bytes() for path in (settings.BASE_DIR / "locale").glob("*/LC_MESSAGES/*.po")}
    settings.LOCALE_PATHS = [trial_project(settings.BASE_DIR, tmp_path)]
    catalogues.extract(tmp_path)
    missing = {}
    for language in catalogues.LANGUAGES:
        for domain in catalogues.DOMAINS:
            po = polib.pofile(str(catalogues.catalogue(language, domain)))
            assert len(po) > 0
            if untranslated := catalogues.untranslated(po):
                missing[f"{language}/{domain}"] = untranslated
    assert missing == {}, "run `manage.py update_translations` after adding these to locale/translations/"
    assert {path: path.read_bytes() for path in before} == before  # the catalogues themselves are untouched
