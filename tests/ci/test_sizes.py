"""Modules stay under ~400 lines and functions under ~60, unless they say why.

A long module gives its reason in its docstring, in a paragraph that starts "Why this module is
long:"; a long function in its docstring ("Why this function is long:") or in a comment just
above its ``def`` (or its decorators) that starts ``# Long:``. Migrations are generated and not
counted. See docs/CONTRIBUTING.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "outbox", "webmail", "bench")
MODULE_LINES = 420  # "about 400"
FUNCTION_LINES = 60


def sources() -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts
    )


def _says_why(docstring: str | None, kind: str) -> bool:
    return f"why this {kind} is long:" in (docstring or "").lower()


def _commented(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    above = lines[first - 2].strip() if first >= 2 else ""
    return above.startswith("# Long:")


def long_modules() -> list[str]:
    found = []
    for path in sources():
        text = path.read_text()
        count = text.count("\n")
        if count > MODULE_LINES and not _says_why(ast.get_docstring(ast.parse(text)), "module"):
            found.append(f"{path.relative_to(ROOT)}: {count} lines")
    return found


def long_functions() -> list[str]:
    found = []
    for path in sources():
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            count = (node.end_lineno or node.lineno) - node.lineno + 1
            if count > FUNCTION_LINES and not (
                _says_why(ast.get_docstring(node), "function") or _commented(lines, node)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {count} lines")
    return found


def test_no_module_is_long_without_a_reason():
    assert long_modules() == []


def test_no_function_is_long_without_a_reason():
    assert long_functions() == []


def test_the_check_sees_a_long_function(tmp_path, monkeypatch):
    long_body = "\n".join(f"    x{i} = {i}" for i in range(FUNCTION_LINES + 1))
    package = tmp_path / "accounts"
    package.mkdir()
    (package / "sample.py").write_text(f"def quiet():\n{long_body}\n\n\n# Long: a table.\ndef told():\n{long_body}\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGES"]), "PACKAGES", ("accounts",))
    assert long_functions() == [f"accounts/sample.py:1 quiet: {FUNCTION_LINES + 2} lines"]
