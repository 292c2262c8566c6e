"""Documentation that is generated from data stays in step with it."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


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


# Issue 9 item 23: every Python snippet of the guide runs as written; the licence is declared once.

GUIDE = ROOT / "docs" / "guide"
_SNIPPET = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
_NEEDS_SOFTHSM = ("PKCS11Module",)


def guide_snippets(page: Path) -> list[str]:
    """The ```python blocks of ``page``, in order."""
    return _SNIPPET.findall(page.read_text(encoding="utf-8"))


def test_the_guide_has_snippets() -> None:
    pages = {p.name: len(guide_snippets(p)) for p in GUIDE.glob("*.md")}
    assert {"mrz.md", "lds.md", "pki.md", "esign.md"} <= {n for n, k in pages.items() if k}


@pytest.mark.parametrize("page", sorted(GUIDE.glob("*.md")), ids=lambda p: p.name)
def test_guide_snippets_run_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """A page's snippets run in order in one namespace, in a temporary working folder; a page
    that opens a PKCS#11 module gets the SoftHSM2 token of the test session through the
    environment the guide names (``PKCS11_MODULE``, ``IDKARTA_TOKEN``, ``IDKARTA_PIN``)."""
    snippets = guide_snippets(page)
    if any(name in code for code in snippets for name in _NEEDS_SOFTHSM):
        token = request.getfixturevalue("softhsm_token")
        monkeypatch.setenv("PKCS11_MODULE", token.module)
        monkeypatch.setenv("IDKARTA_TOKEN", token.label)
        monkeypatch.setenv("IDKARTA_PIN", token.pin)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"guide_{page.stem}"}
    for number, code in enumerate(snippets, 1):
        exec(compile(code, f"{page.name} snippet {number}", "exec"), namespace)  # noqa: S102


def test_license_file_is_the_declared_apache_2() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"  # an SPDX expression (PEP 639)
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in project["build-system"]["requires"]  # reads both (no warning)
    text = (ROOT / "LICENSE").read_bytes()
    # The Apache License 2.0 as www.apache.org/licenses/LICENSE-2.0.txt publishes it.
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256
    assert b"Apache License\n                           Version 2.0, January 2004" in text
