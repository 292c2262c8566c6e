"""Documentation that is generated from data stays in step with it."""

from __future__ import annotations

import difflib
import importlib.util

from tests.conftest import ROOT


def test_vectors_page_lists_every_vector_folder() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_vectors_doc.py")
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    page = (ROOT / "docs" / "development" / "vectors.md").read_text(encoding="utf-8")
    assert page == gen.render(ROOT), "run: python tools/gen_vectors_doc.py"
    for folder in sorted(p for p in (ROOT / "vectors").rglob("*") if p.is_dir()):
        has_readme = (folder / "README.md").exists() or (folder / "SOURCES.json").exists()
        assert has_readme, f"{folder} has no README.md or SOURCES.json naming its sources"


def test_cli_page_matches_the_commands() -> None:
    spec = importlib.util.spec_from_file_location("gencli", ROOT / "tools" / "gen_cli_doc.py")
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rendered = gen.render()
    diff = "".join(difflib.unified_diff(page.splitlines(True), rendered.splitlines(True), n=1))
    assert not diff, "run: python tools/gen_cli_doc.py\n" + diff[:3000]
