"""`idkarta demo`: the main job on the embedded defaults.

Today: build the complete LDS of the sample Uzbek ID card from the sample applicant; create a
document PKI (CSCA, Document Signer, Master List Signer) in the file key store; sign EF.SOD with
the Document Signer; write the dump folder, decode it back byte for byte, and verify it as an
auditor would (passive authentication against the CSCA). Nothing system-wide is needed.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import click

from idcard.lds.dump import Dump
from idcard.verify import TrustStore, verify_dump_folder
from pki.filestore import FileKeyStore
from pki.keys import KeySpec
from station.applicant import Applicant, sample_applicant
from station.card_data import CardKeys, build_card_data
from station.cli.common import EXIT_FAILED, handle_errors
from station.cli.pki import run_crl, run_init, run_masterlist, run_sign_sod
from station.cli.verify import format_report
from station.errors import StationError
from station.rules import expiry_date


@click.command(name="demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Folder for the demo's output (the dump folder goes in OUT/card).",
)
@click.option(
    "--applicant",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="An applicant JSON file (default: the synthetic sample).",
)
@handle_errors
def demo(out: Path, applicant: Path | None) -> None:
    """Build a sample ID card's chip data, write it as a dump folder and read it back."""
    run_demo(out, sample_applicant() if applicant is None else Applicant.load(applicant))


def run_demo(out: Path, applicant: Applicant) -> None:
    """The demo's body, with its dependencies as arguments (testable without the CLI)."""
    pki_dir = _fresh_pki_dir(out / "pki")
    dump = build_card_data(applicant, CardKeys.generate())
    folder = out / "card"
    dump.write(folder, overwrite=True)
    # The demo PKI's passphrase is random and kept only in memory: its keys serve this run only.
    passphrase = secrets.token_urlsafe(24).encode()
    store = FileKeyStore(pki_dir / "keys", lambda: passphrase)
    pki = run_init(
        pki_dir,
        store,
        country="UZ",
        organization="Republic of Uzbekistan",
        key_spec=KeySpec.parse("ec-brainpoolP256r1"),
        backend={"type": "file"},
    )
    (pki_dir / _DEMO_MARK).touch()
    run_sign_sod(pki_dir, store, folder)
    crl = run_crl(pki_dir, store, next_update_days=30)
    masterlist = run_masterlist(pki_dir, store)
    back = Dump.read(folder)
    decoded = back.decode_all()
    same = all(decoded[name].encode() == back.files[name] for name in back.files)

    mrz = decoded["DG1"].mrz  # type: ignore[attr-defined]
    issued = applicant.document.issue_date
    click.echo(f"Applicant   {applicant.surname} {applicant.given_names} {applicant.patronymic}")
    click.echo(f"PINFL       {applicant.pinfl.value}")
    click.echo(
        f"Document    {mrz.document_code} {mrz.document_number}, issued "
        f"{issued.isoformat()}, valid until {expiry_date(applicant.birth_date, issued)}"
    )
    click.echo("MRZ")
    for line in str(mrz).splitlines():
        click.echo(f"            {line}")
    click.echo(f"Dump folder {folder}")
    for name, data in back.files.items():
        click.echo(f"  {name:<16}{len(data):>7} bytes  {_describe(decoded[name].to_json())}")
    click.echo(f"Round trip  {'every file re-encodes byte for byte' if same else 'MISMATCH'}")
    click.echo(
        f"PKI         {pki_dir} (file key store): CSCA {pki['csca']['label']}, "
        f"Document Signer {pki['ds']['label']}, Master List Signer {pki['mls']['label']}"
    )
    csca = pki_dir / "certs" / f"{pki['csca']['label']}.pem"
    trust = TrustStore.from_paths(
        csca, master_lists=[masterlist["path"]], crls=[crl["path"]]
    )
    report = verify_dump_folder(folder, trust)
    click.echo(
        f"Verify      idkarta verify {folder} --csca {csca} "
        f"--master-list {masterlist['path']} --crl {crl['path']}"
    )
    for line in format_report(report).splitlines():
        click.echo(f"            {line}")
    if not (same and report.ok):
        raise SystemExit(EXIT_FAILED)


_DEMO_MARK = ".idkarta-demo"


def _fresh_pki_dir(path: Path) -> Path:
    """The demo's PKI folder, emptied if an earlier demo made it; never someone else's PKI."""
    if path.exists():
        if not (path / _DEMO_MARK).exists():
            raise StationError(f"{path} exists and is not a demo PKI; choose another --out")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _describe(info: object) -> str:
    """A short hint of what a file holds, from its JSON form."""
    if not isinstance(info, dict):
        return ""
    if "security_infos" in info:
        infos = info["security_infos"]
        return ", ".join(str(i.get("protocol_name", i.get("protocol"))) for i in infos)
    if "data_groups" in info:
        return "lists " + " ".join(info["data_groups"])
    for key in ("faces", "fingers", "images"):
        if key in info:
            return f"{len(info[key])} {key}"
    if "mrz" in info:
        return f"{info['surname']} {info['given_names']}"
    if "algorithm" in info:
        return f"{info['algorithm']} {info.get('curve') or info.get('key_size')}"
    return ", ".join(k for k in info if k != "name")
