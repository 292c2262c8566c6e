"""The direction of imports (STYLE.md §1, issue 10 "Shape"): ``idcard`` imports nothing from
``pki`` or ``station``, ``pki`` nothing from ``station``, and no module of ``station`` outside its
fronts (``station.cli``, ``station.web``) imports a front or click — the services reach the
station's folders (:mod:`station.folders`) without a command line.

Every module's syntax tree is walked: imports inside functions and ``TYPE_CHECKING`` blocks
count, as do ``importlib.import_module("…")`` calls with a literal name."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import station

SRC = Path(station.__file__).parents[1]  # the sources under test
FRONTS = ("station.cli", "station.web")
"""The station's front ends: only they may import click and each other."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file at ``path``, relative ones resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from station import cli` imports station.cli
                yield node.lineno, f"{module}.{alias.name}"
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name)
                       and node.func.id in ("import_module", "__import__")))):  # fmt: skip
            yield node.lineno, node.args[0].value


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _violations(
    package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()
) -> list[str]:
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        if _within(_module_name(path), allowed):
            continue
        for line, module in _imports(path):
            if _within(module, forbidden):
                found.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    return found


def test_idcard_imports_neither_pki_nor_station() -> None:
    assert _violations("idcard", ("pki", "station")) == []


def test_pki_imports_nothing_of_station() -> None:
    assert _violations("pki", ("station",)) == []


def test_station_below_its_fronts_imports_no_front_and_no_click() -> None:
    assert _violations("station", ("click", *FRONTS), allowed=FRONTS) == []


def test_the_walk_sees_every_kind_of_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check cannot pass by seeing nothing: each way of importing a front is found."""
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    package = tmp_path / "station" / "folders"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    forms = {
        "plain.py": "import click\n",
        "dotted.py": "import station.cli.common as c\n",
        "from_package.py": "from station import cli\n",
        "relative.py": "from ..cli import pki\n",
        "relative_module.py": "from .. import cli\n",
        "in_function.py": "def f():\n    from click import echo\n",
        "typing_only.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from station.cli.card import card\n"),
        "dynamic.py": "import importlib\nm = importlib.import_module('station.cli.pki')\n",
        "clean.py": "from station.folders import keys\nfrom station.errors import UsageError\n",
    }  # fmt: skip
    for name, text in forms.items():
        (package / name).write_text(text)
    found = _violations("station", ("click", *FRONTS), allowed=FRONTS)
    assert sorted({v.split(":")[0] for v in found}) == sorted(
        f"station/folders/{name}" for name in forms if name != "clean.py"
    )
    (tmp_path / "station" / "cli").mkdir()
    (tmp_path / "station" / "cli" / "pki.py").write_text("import click\n")  # a front may
    assert _violations("station", ("click", *FRONTS), allowed=FRONTS) == found


_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m == "click" or m.startswith(("click.",
      "station.cli")))))
"""


def test_the_folders_load_without_a_front() -> None:
    """Importing the station's folders (as the Center and point services do) loads neither click
    nor any module of the command line."""
    modules = ["station.folders.pki", "station.folders.esign", "station.folders.card",
               "station.folders.keys", "station.folders.staging"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True,
                          text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
