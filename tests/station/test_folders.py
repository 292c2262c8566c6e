"""The station's folders used without a front (issue 10 "Shape"): the key store's secrets come
from the environment or the caller's ``ask``, and without either the work stops with a
UsageError, never a prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from pki.keys import KeySpec
from station.errors import UsageError
from station.folders.keys import open_stores, passphrase_once, pin_once, secret
from station.folders.pki import open_pki_stores, run_crl, run_init_staged


def test_secret_from_the_environment_else_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, bool]] = []

    def ask(prompt: str, confirm: bool) -> str:
        asked.append((prompt, confirm))
        return "typed"

    monkeypatch.setenv("IDKARTA_PIN", "from-env")
    assert secret("IDKARTA_PIN", "Token user PIN", ask=ask) == "from-env" and asked == []
    monkeypatch.delenv("IDKARTA_PIN")
    assert secret("IDKARTA_PIN", "Token user PIN", confirm=True, ask=ask) == "typed"
    assert asked == [("Token user PIN", True)]
    with pytest.raises(UsageError) as missing:
        secret("IDKARTA_PIN", "Token user PIN")
    assert str(missing.value) == "Token user PIN needed: set IDKARTA_PIN"


def test_each_secret_is_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDKARTA_PASSPHRASE", raising=False)
    monkeypatch.delenv("IDKARTA_PIN", raising=False)
    asked: list[tuple[str, bool]] = []

    def ask(prompt: str, confirm: bool) -> str:
        asked.append((prompt, confirm))
        return f"{len(asked)}"

    passphrase, pin = passphrase_once(True, ask), pin_once(ask)
    assert asked == []  # nothing until needed
    assert [passphrase(), passphrase(), pin(), pin()] == [b"1", b"1", "2", "2"]
    assert asked == [("Key store passphrase", True), ("Token user PIN", False)]


def test_a_pki_folder_without_a_passphrase_stops_with_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDKARTA_PASSPHRASE", raising=False)
    d = tmp_path / "pki"
    run_init_staged(
        d, {"type": "file"},
        lambda at: open_stores(at, {"type": "file"}, new=True, passphrase=lambda: b"pw"),
        country="UZ", organization=None, key_spec=KeySpec.parse("ec-p256"),
    )  # fmt: skip
    with open_pki_stores(d) as (store, _), pytest.raises(UsageError, match="IDKARTA_PASSPHRASE"):
        run_crl(d, store, next_update_days=1)
    assert not (d / "crl").exists()
    with open_pki_stores(d, ask=lambda prompt, confirm: "pw") as (store, eac_store):
        assert run_crl(d, store, next_update_days=1)["crl_number"] == 1
        assert eac_store.labels() == ["UZCVCA00001", "UZDV00001", "UZIS00001"]
