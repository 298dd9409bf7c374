"""The README's screenshots, taken again: the layout browser tests (tests/browser/test_layout.py) run
against the test servers and write theirs to a temporary folder; the ones README.md shows are
copied into docs/screenshots/. PNG at device scale 1, phone 390 x 844 and desktop 1280 x 800.

    .venv/bin/python bench/screenshots.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "screenshots"


def main() -> int:
    shown = sorted(set(re.findall(r"docs/screenshots/([\w-]+\.png)", (ROOT / "README.md").read_text())))
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/browser/test_layout.py"]
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, "WEBMAIL_SCREENSHOTS": folder}, check=False)
        if done.returncode:
            print("the layout tests failed: no screenshots copied", file=sys.stderr)
            return done.returncode
        TARGET.mkdir(parents=True, exist_ok=True)
        for name in shown:
            shutil.copyfile(Path(folder) / name, TARGET / name)
            print(f"docs/screenshots/{name}: {(TARGET / name).stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
