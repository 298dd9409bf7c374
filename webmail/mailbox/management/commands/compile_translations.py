"""Compile the translation catalogues (``locale/<language>/LC_MESSAGES/*.po``) into the ``.mo``
files Django reads; ``make run`` and ``make test`` run it first.

With GNU gettext's ``msgfmt`` on the PATH, it compiles them as Django's ``compilemessages``
does (checking that each translation keeps its placeholders); without it, polib writes the
same files, so that ``make run`` needs nothing outside the virtualenv. A catalogue whose
``.mo`` is newer than its ``.po`` is left as it is. The ``.mo`` files are build output, not
kept in git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogues() -> list[Path]:
    return sorted(po for folder in settings.LOCALE_PATHS for po in Path(folder).glob("*/LC_MESSAGES/*.po"))


def compile_catalogue(po: Path, msgfmt: str | None) -> None:
    mo = po.with_suffix(".mo")
    if msgfmt:
        done = subprocess.run(  # noqa: S603 (a fixed program on our own files)
            [msgfmt, "--check-format", "-o", str(mo), str(po)], capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise CommandError(f"{po}: {done.stderr.strip()}")
    else:
        polib.pofile(str(po)).save_as_mofile(str(mo))


class Command(BaseCommand):
    help = "Compile the translation catalogues into .mo files (with msgfmt, else with polib)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Compile even the catalogues that look up to date.")

    def handle(self, *args, **options) -> None:
        msgfmt = shutil.which("msgfmt")
        for po in catalogues():
            mo = po.with_suffix(".mo")
            if not options["force"] and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            compile_catalogue(po, msgfmt)
            if options["verbosity"] >= 1:
                self.stdout.write(f"Compiled {po.relative_to(settings.BASE_DIR)} ({'msgfmt' if msgfmt else 'polib'})")
