"""Every string marked for translation, in the templates, the Python code and static/js, has a
German and a French translation that ships: a fresh extraction (``makemessages``, into a copy of
the catalogues) leaves no entry untranslated or fuzzy. It needs GNU gettext (``make system-deps``).
docs/TRANSLATING.md says how to add a string."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path

import polib
import pytest

from webmail.mailbox.management.commands import update_translations as catalogues
from webmail.mailbox.management.commands.compile_translations import compile_catalogue


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


@pytest.mark.parametrize("program", [shutil.which("msgfmt"), None], ids=["msgfmt", "polib"])
def test_a_catalogue_compiles_with_msgfmt_or_without_it(tmp_path, settings, program):
    if program is None and shutil.which("msgfmt") is None:
        pytest.skip("no msgfmt")
    po = tmp_path / "django.po"
    shutil.copy(settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po", po)
    compile_catalogue(po, program)
    with (tmp_path / "django.mo").open("rb") as compiled:
        french = gettext.GNUTranslations(compiled)
    assert french.gettext("Inbox") == "Boîte de réception"
    assert french.ngettext("%(counter)s message found", "%(counter)s messages found", 0) == "%(counter)s message trouvé"
    assert french.pgettext("mark as junk", "Junk") == "Indésirable"
