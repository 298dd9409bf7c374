"""Bring the translation catalogues up to date, for a translator (docs/TRANSLATING.md).

It extracts every string marked for translation (``makemessages``: the templates, the Python
code, and ``static/js`` for the ``djangojs`` domain) into ``locale/<language>/LC_MESSAGES/``,
then fills each entry in from the reviewed table of ``locale/translations/<language>.py`` and
lists what the table lacks, what it has that no longer exists, and translations whose
placeholders (``%(name)s``, ``{count}``...) differ from the original's. It may be run again
at any time: the tables are the source, the ``.po`` files are written from them."""

from __future__ import annotations

import contextlib
import re
import runpy
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LANGUAGES = ("de", "fr")
DOMAINS = ("django", "djangojs")
# Not the app's own strings: third-party code, tests, build output.
IGNORED = [".venv", "venv", "tests", "bench", "static/vendor", "staticfiles", "var", "locale", "node_modules"]
HEADER = "Made by manage.py update_translations from locale/translations/; edit those, not this file."
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\{ *\w+ *\}\}|\{\w+\}")


def extract(root: Path | None = None, verbosity: int = 0) -> None:
    """makemessages for every language and domain, over the sources under ``root`` (the
    project's folder), into ``settings.LOCALE_PATHS[0]``. makemessages also writes into a
    ``locale`` folder next to the sources, so a trial run (the test of the catalogues) makes a
    ``root`` of links to the sources beside a copy of ``locale``; links are followed."""
    with contextlib.chdir(root or settings.BASE_DIR):
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                domain=domain,
                ignore_patterns=IGNORED,
                add_location="file",
                no_obsolete=True,
                symlinks=root is not None,
                verbosity=verbosity,
            )


def catalogue(language: str, domain: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / f"{domain}.po"


def untranslated(po: polib.POFile) -> list[str]:
    """The entries that ship without a translation (fuzzy ones are not used either)."""
    return [entry.msgid for entry in po if not entry.obsolete and (not entry.translated() or entry.fuzzy)]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def table(language: str) -> dict:
    return runpy.run_path(str(Path(settings.BASE_DIR) / "locale" / "translations" / f"{language}.py"))["TRANSLATIONS"]


def fill(po: polib.POFile, translations: dict, used: set) -> list[str]:
    """Each entry of ``po`` from ``translations``; returns the problems found."""
    problems = []
    for entry in po:
        key = (entry.msgctxt, entry.msgid) if entry.msgctxt else entry.msgid
        value = translations.get(key)
        if value is None:
            problems.append(f"missing: {key!r}")
            continue
        used.add(key)
        forms = list(value) if entry.msgid_plural else [value]
        originals = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        for form in forms:
            if not any(placeholders(form) == placeholders(original) for original in originals):
                problems.append(f"placeholders differ: {key!r} -> {form!r}")
        if entry.msgid_plural:
            entry.msgstr_plural = dict(enumerate(forms))
        else:
            entry.msgstr = value
        if entry.fuzzy:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    return problems


class Command(BaseCommand):
    help = "Extract the strings to translate and fill the catalogues from locale/translations/*.py."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-extract", action="store_true", help="Fill the catalogues as they are.")

    def handle(self, *args, **options) -> None:
        if not options["no_extract"]:
            extract(verbosity=max(options["verbosity"] - 1, 0))
        problems = []
        for language in LANGUAGES:
            translations, used = table(language), set[object]()
            for domain in DOMAINS:
                path = catalogue(language, domain)
                if not path.exists():
                    continue
                po = polib.pofile(str(path), wrapwidth=100)
                po.header = HEADER
                po.metadata_is_fuzzy = False  # msgfmt would skip a fuzzy header, and its charset with it
                po.metadata.update({"Project-Id-Version": "webmail", "Language": language, "Language-Team": language})
                problems += [f"{language}: {problem}" for problem in fill(po, translations, used)]
                po.save()
            problems += [f"{language}: not used any more: {key!r}" for key in translations.keys() - used]
        for problem in problems:
            self.stderr.write(problem)
        if any(not problem.split(": ", 1)[1].startswith("not used") for problem in problems):
            raise CommandError(f"{len(problems)} problems; the catalogues are written with what is there.")
