"""The online options through the batch and the command line: the settings fingerprint (a rerun
verifies again when --esign-ca, --online or --center change, and every day when asking the
network), worker processes verifying online, and unusable options as usage errors (exit 2)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.idcard.chip.cards import build_dump, ds_pki
from tests.idcard.verify.online_kit import Site, serving
from tests.idcard.verify.pa_pki import pem

from station.audit.batch import BatchSettings, Verifier, dump_folders, run_batch
from station.cli import main

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("online-settings")
    (root / "csca.pem").write_bytes(pem(ds_pki().csca))
    (root / "esign-ca.pem").write_bytes(pem(ds_pki().csca))  # any certificate will do here
    dump, _ = build_dump()
    dump.write(root / "dumps" / "one")
    dump.write(root / "dumps" / "two")
    return root


def test_the_settings_fingerprint_covers_the_online_options(trust: Path) -> None:
    csca = trust / "csca.pem"
    base = BatchSettings(csca, at=AT)
    prints = {base.fingerprint(),
              BatchSettings(csca, at=AT, esign_ca=trust / "esign-ca.pem").fingerprint(),
              BatchSettings(csca, at=AT, online=True).fingerprint(),
              BatchSettings(csca, at=AT, center="http://127.0.0.1:1").fingerprint(),
              BatchSettings(csca, at=AT, center="http://127.0.0.1:2").fingerprint()}  # fmt: skip
    assert len(prints) == 5
    assert BatchSettings(trust / "csca.pem", at=AT).fingerprint() == base.fingerprint()


def test_asking_the_network_is_verified_again_the_next_day(
    trust: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import station.audit.batch as batch

    settings = {"offline": BatchSettings(trust / "csca.pem", at=AT),
                "online": BatchSettings(trust / "csca.pem", at=AT, online=True)}  # fmt: skip
    today = {name: s.fingerprint() for name, s in settings.items()}

    class Tomorrow(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Tomorrow:  # type: ignore[override]
            return cls.fromtimestamp(dt.datetime.now(tz).timestamp() + 86400, tz)

    monkeypatch.setattr(batch, "datetime", Tomorrow)
    assert settings["offline"].fingerprint() == today["offline"]  # --at fixes the day
    assert settings["online"].fingerprint() != today["online"]  # OCSP/CRL answers are of the day


def test_workers_verify_online_and_fetch_the_crl_per_worker(trust: Path) -> None:
    """Two worker processes with --online and --center: each dump has the new checks; the test
    DS names no CRL distribution point, so nothing is fetched and revocation says why."""
    with serving(Site({"/v1/cards/AD1234567": 503})) as center:
        settings = BatchSettings(trust / "csca.pem", at=AT, online=True, center=center.url,
                                 esign_ca=trust / "esign-ca.pem")  # fmt: skip
        rows, skipped = run_batch(dump_folders(trust / "dumps"), settings, jobs=2)
    assert skipped == 0 and [r["dump"] for r in rows] == ["one", "two"]
    for row in rows:
        assert row["error"] is None and row["ok"] is True
        assert row["checks"]["center_status"] == "not-checked"
        assert row["reasons"]["center_status"] == (
            f"the Center at {center.url} could not be asked: the Center answered HTTP 503 that is "
            "not JSON")
        assert row["reasons"]["revocation"] == (
            "no CRL from the DS certificate's issuer (the DS certificate names no http(s) CRL "
            "distribution point)")
        assert row["reasons"]["esign_chain"] == (
            "no e-signature certificate in the dump (EF.C.ESIGN)")
    assert center.hits["/v1/cards/AD1234567"] == 2


def test_the_verifier_is_made_once_from_the_settings(trust: Path) -> None:
    verifier = Verifier.of(BatchSettings(trust / "csca.pem", at=AT, online=True,
                                         esign_ca=trust / "esign-ca.pem"))  # fmt: skip
    assert verifier.trust.fetcher is not None and verifier.esign.fetcher is verifier.trust.fetcher
    assert len(verifier.esign.anchors) == 1
    offline = Verifier.of(BatchSettings(trust / "csca.pem", at=AT))
    assert offline.trust.fetcher is None and offline.esign.fetcher is None
    assert offline.esign.anchors == ()
    assert [c.__name__ for c in offline.checks] == ["check_validity_period",
                                                    "check_center_status"]


def test_unusable_online_options_are_usage_errors(trust: Path, tmp_path: Path) -> None:
    one = trust / "dumps" / "one"
    base = ("verify", str(one), "--csca", str(trust / "csca.pem"), "--at", "2026-12-01")
    code, _, err = _run(*base, "--center", "center.example:8700")
    assert (code, err) == (2, "error: --center 'center.example:8700' is not an http(s) URL\n")
    missing = tmp_path / "none.pem"
    code, _, err = _run(*base, "--esign-ca", str(missing))
    assert (code, err) == (2, f"error: {missing}: no such file or directory\n")
    (tmp_path / "junk.pem").write_bytes(b"junk")
    code, _, err = _run(*base, "--esign-ca", str(tmp_path / "junk.pem"))
    assert code == 2 and err.startswith(f"error: {tmp_path / 'junk.pem'}: not an X.509 certificate")
    batch = tmp_path / "batch"
    shutil.copytree(one, batch / "one")
    code, _, err = _run("verify", str(batch), "--csca", str(trust / "csca.pem"), "--esign-ca",
                        str(missing), "--jobs", "1")  # fmt: skip
    assert (code, err) == (2, f"error: {missing}: no such file or directory\n")


def test_the_options_reach_a_single_dump(trust: Path) -> None:
    code, out, _ = _run("verify", str(trust / "dumps" / "one"), "--csca",
                        str(trust / "csca.pem"), "--at", "2026-12-01", "--online",
                        "--json")  # fmt: skip
    checks = {c["name"]: c["reason"] for c in json.loads(out)["checks"]}
    assert code == 0
    assert checks["revocation"].endswith("(the DS certificate names no http(s) CRL distribution "
                                         "point)")  # fmt: skip
    assert checks["esign_revocation"] == "no e-signature certificate in the dump (EF.C.ESIGN)"
