"""docs/development/rules.md maps every rule of shared/domain.md to the tests that implement it:
each test it names exists (a renamed or deleted test breaks the map, and this test)."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

RULES = ROOT / "docs" / "development" / "rules.md"


def _tests_in(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.ClassDef)
            and node.name.startswith(("test_", "Test"))}  # fmt: skip


def test_every_test_the_rules_map_names_exists() -> None:
    rows = [line for line in RULES.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith(("| rule", "| ---"))]  # fmt: skip
    assert len(rows) >= 16
    for row in rows:
        cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        assert cited, f"a rule without a test: {row[:80]}"
        for path, name in cited:
            assert (ROOT / path).is_file(), path
            assert name in _tests_in(path), f"{path}::{name}"
