"""`idkarta demo`: the main job on the embedded defaults — a citizen's application goes through a
collection point and the Personalization Center to a handed-over card, which is then lost and
restored.

The point and the Center run in this process (:mod:`station.cli.demo_station`: the point's
services call the Center's ``/v1`` API in process; SQLite databases in ``OUT/station``):

1. the point accepts the sample applicant's application with its documents (stages 1-2);
2. the Center checks the PINFL and allocates the card number in its registry (stage 3);
3. the chip's files are built from the application and that card number
   (:mod:`station.card_data`);
4. the Center's document PKI (CSCA, Document Signer, Master List Signer, CVCA → DV → IS) in the
   encrypted file key store signs EF.SOD, a CRL and a master list;
5. an in-process virtual chip is personalized over APDUs and locked; first issue: the chip makes
   the holder's e-signature key, the Center's e-signature CA certifies it, the certificate goes
   into the chip and onto the card's registry entry, the OneID event is delivered (decree of 19
   January 2026); the chip image is saved with the card body's print job next to it;
6. the card is read back as an inspection system would (PACE with the CAN, Chip, Terminal and
   Active Authentication) and compared with what was issued;
7. passive authentication of what was read: the read-back gate, then the registry marks the
   card verified;
8. the holder signs a PDF with card and PIN, and the signature is validated;
9. the point hands the card to the holder (stage 4);
10. the holder reports it lost (stages 5-6): the Center marks it lost, allocates the new number
    and revokes its e-signature certificate (CRL and OCSP say so).

Nothing system-wide is needed; `idkarta card serve` puts the same chip behind pcscd.

The run's throwaway secrets — the key store passphrase, the holder's PIN and PUK, the CAN — are
written to ``demo-secrets.sh`` (mode 0600) in the output folder; every step prints the commands
that repeat it, which read that file in a subshell (``(. demo-out/demo-secrets.sh && idkarta
…)``).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from idcard.chip import ChipSecrets, ChipTransport, VirtualChip
from idcard.cvc import CVCertificate
from idcard.esign.card import ESignCard
from idcard.lds import LDSFile
from idcard.lds.dump import Dump
from idcard.mrz import MRZ
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.reader.personalize import personalize
from idcard.text import count
from idcard.verify import PassiveAuthReport, TrustStore, verify_dump_folder
from pki.card_signer import CardSigner
from pki.cvca import cv_signer, load_certificate
from pki.esign import EsignCA, HolderRecord, IssuedCertificate
from pki.filestore import FileKeyStore, write_atomic
from pki.keys import KeySpec
from pki.ocsp import OCSPResponder
from pki.pdf import PdfSigner, SignatureReport, sign_pdf, simple_pdf, validate_pdf
from station.applicant import Applicant, ApplicantError
from station.card_data import CardKeys
from station.cli.common import EXIT_FAILED, handle_errors
from station.cli.demo_station import (
    CAMERA,
    POINT,
    DemoStation,
    StationRun,
    due_note,
    first_issue_form,
    local_time,
)
from station.cli.verify import format_report
from station.domain.calendar import local_day
from station.domain.cards import parse_card_number
from station.enrollment import CardEnrollment, enroll_card
from station.errors import StationError
from station.folders.esign import open_ca
from station.folders.esign import run_init as esign_init
from station.folders.pki import run_crl, run_init, run_masterlist
from station.outbox import JSONLEndpoint, Outbox
from station.point import service as point_service
from station.point.capture import CaptureReport
from station.point.gate import GateAnchors
from station.point.models import ApplicationStatus
from station.rules import check_applicant, expiry_date

_DEMO_MARK = ".idkarta-demo"
SAMPLE = Path(str(resources.files("station") / "samples" / "applicant.json"))
SECRETS_FILE = "demo-secrets.sh"
"""The demo's throwaway secrets (mode 0600), as ``export NAME='value'`` lines for ``.``."""


@click.command(name="demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Folder for the demo's output (issued dump, PKI, chip image, dump read back).",
)
@click.option(
    "--applicant",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="An applicant JSON file (default: the synthetic sample); checked before anything is "
    "written (exit 2 naming the field).",
)
@handle_errors
def demo(out: Path, applicant: Path | None) -> None:
    """Issue a sample ID card on a virtual chip, read it back and verify it.

    The run's throwaway secrets (key store passphrase, holder PIN and PUK, CAN) are written to
    OUT/demo-secrets.sh (mode 0600); each step prints the commands that repeat it.
    """
    source = applicant or SAMPLE
    outcome = run_demo(out, Applicant.load(source), source=source)
    print_summary(outcome, click.echo)
    hint = path_hint(shutil.which("idkarta"), Path(sys.executable).parent)
    if hint:
        click.echo(hint)
    if not outcome.ok:
        raise SystemExit(EXIT_FAILED)


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo did and found (paths, PKI labels, the read result, the verification)."""

    applicant: Applicant
    issued: Dump
    decoded: Mapping[str, LDSFile]
    issued_dir: Path
    round_trip: bool
    pki_dir: Path
    pki: dict[str, Any]
    image: Path
    result: ReadResult
    identical: bool
    read_dir: Path
    csca: Path
    masterlist: str
    crl: str
    report: PassiveAuthReport
    esign_certificate: IssuedCertificate
    oneid_delivered: int
    signed_pdf: Path
    pdf_reports: tuple[SignatureReport, ...]
    out: Path
    secrets_file: Path
    card_secrets: Path
    document_pdf: Path
    card_face: tuple[Path, ...] | str = "not rendered"
    """The card body's print job (PDF, front and back PNG) next to the chip image, or why not."""
    applicant_file: Path | None = None
    """The applicant file the card was issued from, for the commands that repeat a step."""
    station: StationRun | None = None
    """What the collection point and the Center did, stage by stage."""

    @property
    def ok(self) -> bool:
        protocols_ok = all(run.ok for run in self.result.protocols)
        pdf_ok = bool(self.pdf_reports) and all(r.ok for r in self.pdf_reports)
        return (
            self.round_trip and self.identical and protocols_ok and self.report.ok and pdf_ok
        )


def run_demo(out: Path, applicant: Applicant, *, source: Path | None = None,
             now: datetime | None = None) -> DemoOutcome:  # fmt: skip
    """The demo's body, with its dependencies as arguments (no printing).

    ``source`` is the applicant's JSON file (default: the shipped sample); ``now`` (aware) is
    the time of the whole run. The application is checked before any folder is made or
    anything signed (:func:`station.rules.check_applicant`, and the point's own checks).
    """
    now = now or datetime.now(UTC)
    today = local_day(now)
    check_applicant(applicant, today=today)
    form = first_issue_form(applicant)  # the point's checks of the same person, before writing
    problems = point_service.form_problems(form, point=POINT, today=today)
    if problems:
        raise ApplicantError(problems)
    source = source or SAMPLE
    pki_dir, esign_dir = _fresh_dir(out / "pki"), _fresh_dir(out / "esign")
    station_dir = _fresh_dir(out / "station")
    issued_dir, read_dir, image = out / "card", out / "read", out / "chip.json"
    # The run's throwaway secrets, written first so that every later command can use them.
    passphrase = secrets.token_urlsafe(24).encode()
    holder_pin, holder_puk = f"{secrets.randbelow(10**6):06d}", f"{secrets.randbelow(10**8):08d}"
    secrets_file = _write_secrets(out / SECRETS_FILE, {
        "IDKARTA_PASSPHRASE": passphrase.decode(), "IDKARTA_PIN": holder_pin,
        "IDKARTA_PUK": holder_puk, "IDKARTA_CAN": applicant.can,
    })  # fmt: skip

    # The Center's keys: the document PKI (the layout of `idkarta pki init`: EAC keys in
    # cvc/keys) and the e-signature CA (a folder of `idkarta esign`), in file key stores.
    store = FileKeyStore(pki_dir / "keys", lambda: passphrase)
    eac_store = FileKeyStore(pki_dir / "cvc" / "keys", lambda: passphrase)
    pki = run_init(
        pki_dir,
        store,
        country="UZ",
        organization="Republic of Uzbekistan",
        key_spec=KeySpec.parse("ec-brainpoolP256r1"),
        backend={"type": "file"},
        eac_store=eac_store,
    )
    esign_store = FileKeyStore(esign_dir / "keys", lambda: passphrase)
    esign_init(esign_dir, {"type": "file"}, base_url="http://127.0.0.1:8080",
               key_spec=KeySpec.parse("ec-p256"), common_name="idkarta e-Signature CA",
               store=esign_store)  # fmt: skip
    esign_ca = open_ca(esign_dir, esign_store)

    with DemoStation.create(station_dir, esign_ca, esign_dir, pki_dir=pki_dir,
                            passphrase=passphrase, now=now) as station:  # fmt: skip
        # Stages 1-3: the application at the point, the capture of the face and the fingers
        # (quality gates, stored encrypted), the request to the Center, its answer.
        application = station.apply(form, now=now, app_id=f"{POINT.code}-0001")
        station.capture(application.id, applicant, now=now)
        allocated = station.submit(application.id, now=now)
        applicant = _issued_applicant(applicant, allocated.card, allocated.issue_date)
        applicant_file = _write_applicant(out / "applicant.json", source, applicant)

        # 1. The chip's data from the application, the Center's card record and the accepted
        #    captures; EF.SOD signed at the Center from the data-group hashes.
        keys = CardKeys.generate()
        station.card_files(application.id, allocated, keys, now=now,
                           signature=applicant.signature).write(issued_dir, overwrite=True)
        crl = run_crl(pki_dir, store, next_update_days=30)
        masterlist = run_masterlist(pki_dir, store)
        issued = Dump.read(issued_dir)
        decoded = issued.decode_all()
        round_trip = all(obj.encode() == issued.files[n] for n, obj in decoded.items())

        # 3. Personalization of a virtual chip over APDUs, and the lock (_issue_chip, below).
        cvc = pki["cvc"]
        cvca, dv, inspection = (load_certificate(Path(cvc[k]["path"]))
                                for k in ("cvca", "dv", "is"))  # fmt: skip
        # What `idkarta card personalize --secrets` needs to repeat this on another chip.
        card_secrets = keys.to_secrets_file(out / "card-secrets.json", passphrase,
                                            can=applicant.can, cvca=cvca)  # fmt: skip

        # 4. First issue: the free e-signature certificate goes into the chip and onto the
        #    card's registry entry, OneID is told (decree §5д); the chip image is kept.
        mrz = decoded["DG1"].mrz  # type: ignore[attr-defined]
        record = HolderRecord(
            pinfl=applicant.pinfl.value,
            surname=mrz.surname,
            given_name=mrz.given_names,
            card_number=mrz.document_number,
            card_expiry=expiry_date(applicant.birth_date, applicant.document.issue_date),
        )
        enrollment = _issue_chip(
            issued, keys, image, can=applicant.can, cvca=cvca, record=record, ca=esign_ca,
            pin=holder_pin, puk=holder_puk,
        )
        station.record_esign(allocated.card, enrollment.issued)
        oneid = Outbox(esign_ca.register.path).deliver(JSONLEndpoint(esign_dir / "oneid.jsonl"))
        station.mark(application.id, ApplicationStatus.PERSONALIZED, now=now)
        # The card body's print job next to the chip image, its MRZ from the issued DG1.
        try:
            from station.cardface import CardFace, render_card_face

            card_face: tuple[Path, ...] | str = render_card_face(
                CardFace.from_card_data(applicant, issued)).write(out)
        except StationError as exc:  # e.g. no DejaVu Sans here: the chip is still issued
            card_face = f"not rendered: {exc}"

        # 5. Reading it back as an inspection system would, from the saved image: PACE with
        #    the CAN, Chip Authentication, Terminal Authentication with the PKI's IS certificate
        #    (opens DG3), Active Authentication. 6. Passive authentication of what was read:
        #    the read-back gate of the handover.
        terminal = TerminalCredentials(
            (cvca, dv, inspection), cv_signer(eac_store.load(inspection.chr))
        )
        csca = pki_dir / "certs" / f"{pki['csca']['label']}.pem"
        trust = TrustStore.from_paths(csca, master_lists=[masterlist["path"]],
                                      crls=[crl["path"]])  # fmt: skip
        result, identical, report = _read_back(issued, image, read_dir, can=applicant.can,
                                               terminal=terminal, trust=trust)  # fmt: skip
        station.mark(application.id, ApplicationStatus.VERIFIED, now=now)

        # 7. The holder signs a document with card and PIN; anyone validates it.
        card = ESignCard(ChipTransport(VirtualChip.load(image)))
        card.select()
        pdf_signer = PdfSigner(
            CardSigner(card, lambda: holder_pin), enrollment.issued.certificate,
            [esign_ca.certificate],
        )
        document = simple_pdf("Ariza - idkarta demo")
        (out / "document.pdf").write_bytes(document)
        signed = sign_pdf(document, pdf_signer, reason="idkarta demo")
        (out / "signed.pdf").write_bytes(signed)
        # The CA's CRL when the document was signed: revocation is checked against it (after
        # step 10 the CA's current CRL lists the certificate).
        esign_crl = out / "esign" / "esign-at-signing.crl"
        current_crl = esign_ca.issue_crl()
        esign_crl.write_bytes(current_crl.dump())
        pdf_reports = validate_pdf(signed, [esign_ca.certificate], crls=[current_crl])

        # Stage 4: the handover to the holder.
        station.hand_over(application.id, form, now=now)
        # Stages 5-6: the holder reports the card lost and applies to restore it; the Center
        # marks it lost and revokes its certificate in the same transaction as the new number.
        lost = station.report_lost(allocated.card, now=now, app_id=f"{POINT.code}-0002")
        station.capture(lost.id, applicant, now=now)
        station.submit(lost.id, now=now)
        station.check_revoked(esign_ca, enrollment.issued, out / "esign" / "esign-after-loss.crl")
        # Stage 6: the restored card through the point's personalization pipeline (a blank
        # from stock, its data on the new number from the new capture, EF.SOD at the Center,
        # personalization, a new e-signature certificate with the same PIN, the read-back gate),
        # then handed over.
        anchors = GateAnchors(trust, terminal, esign_ca.certificate,
                              OCSPResponder(esign_ca).respond)  # fmt: skip
        pipeline = station.personalize(lost.id, applicant, esign_ca=esign_ca, anchors=anchors,
                                       cvca=cvca, pin=holder_pin, puk=holder_puk, now=now,
                                       image=out / "chip-replacement.json")  # fmt: skip
        station.hand_over(lost.id, lost.form, now=now, pipeline=pipeline)
        run = station.finish(allocated.card)

    return DemoOutcome(applicant, issued, decoded, issued_dir, round_trip, pki_dir, pki, image,
                       result, identical, read_dir, csca, masterlist["path"], crl["path"], report,
                       enrollment.issued, oneid.delivered, out / "signed.pdf", tuple(pdf_reports),
                       out, secrets_file, card_secrets, out / "document.pdf", card_face,
                       applicant_file, run)


def step_commands(o: DemoOutcome) -> dict[int, list[str]]:
    """The shell commands that repeat each section of the summary by hand, run from the demo's
    working folder; those that need a secret read the secrets file in a subshell."""
    q = shlex.quote
    secrets_path = str(o.secrets_file)
    load = f". {q(secrets_path if os.sep in secrets_path else './' + secrets_path)} && "

    def secret(command: str) -> str:  # in a subshell: the caller's environment stays clean
        return f"({load}{command})"

    pki, card, esign = q(str(o.pki_dir)), q(str(o.issued_dir)), q(str(o.pki_dir.parent / "esign"))
    image, read = q(str(o.image)), q(str(o.read_dir))
    again = q(str(o.out / "chip-again.json"))
    mrz = decoded_mrz(o)
    is_chr = o.pki["cvc"]["is"]["chr"]
    terminal = (f"--terminal {q(str(o.pki_dir / 'cvc'))} "
                f"--terminal-key {q(str(o.pki_dir / 'cvc' / 'keys' / f'{is_chr}.key.pem'))}")
    run = o.station
    assert run is not None and run.application is not None and run.replacement is not None
    assert run.restored is not None
    station = q(str(run.folder))
    return {
        1: [f"idkarta point status {q(run.application.id)} --station {station}"],
        2: [f"idkarta center status --dir {station}",
            f"idkarta mrz parse {q(''.join(mrz.lines()))}"],
        3: [f"idkarta dump show {card}"],
        4: [secret(f"idkarta pki sign-sod --dir {pki} {card}"),
            secret(f"idkarta pki crl --dir {pki}"),
            secret(f"idkarta pki masterlist --dir {pki}")],
        5: [secret(f"idkarta card new {again} --force && idkarta card personalize --image "
                   f"{again} --dump {card} --secrets {q(str(o.card_secrets))}"),
            f"idkarta card show {image}",
            secret(f"idkarta esign crl --dir {esign} --out {esign}/esign.crl"),
            *([f"idkarta card-face {q(str(o.applicant_file))} --dump {card} "
               f"--out {q(str(o.out))}"]
              if o.applicant_file is not None and not isinstance(o.card_face, str) else [])],
        6: [secret(f'idkarta card read --image {image} --can "$IDKARTA_CAN" {terminal} '
                   f"--out {read} --force"),
            f"idkarta card serve {image}",
            secret(f'idkarta card read --reader 0 --can "$IDKARTA_CAN" {terminal} '
                   f"--out {q(str(o.out / 'read-pcsc'))} --force")],
        7: [f"idkarta verify {read} --csca {q(str(o.csca))} --master-list {q(str(o.masterlist))} "
            f"--crl {q(str(o.crl))}"],
        8: [secret(f"idkarta sign {q(str(o.document_pdf))} {q(str(o.signed_pdf))} --card "
                   f"--image {image}"),
            f"idkarta validate {q(str(o.signed_pdf))} --trust {esign}/ca.pem "
            f"--crl {esign}/esign-at-signing.crl"],
        9: [f"idkarta point status {q(run.application.id)} --station {station} --json"],
        10: [f"idkarta point status {q(run.replacement.id)} --station {station}",
             f"idkarta validate {q(str(o.signed_pdf))} --trust {esign}/ca.pem "
             f"--crl {esign}/esign-after-loss.crl || echo \"exit $? (revoked)\"",
             f"idkarta point overdue --station {station}",
             f"idkarta center status --dir {station}",
             f"idkarta center revocations --dir {station}",
             f"idkarta point jobs --station {station}",
             f"idkarta card show {q(str(run.restored.pipeline.image))}",
             f"idkarta card serve {q(str(run.restored.pipeline.image))}",
             secret(f'PYHANKO_PKCS11_PIN="$IDKARTA_PIN" pyhanko sign addsig --field '
                    f"HolderSignature pkcs11 --lib {q(opensc_pkcs11())} --cert-label "
                    '"Certificate for Digital Signature" --key-label "SIGN key" '
                    f"--other-cert-file {esign}/ca.pem {q(str(o.document_pdf))} "
                    f"{q(str(o.out / 'signed-pkcs11.pdf'))}"),
             secret(f"idkarta esign crl --dir {esign} --out {esign}/esign.crl")
             + f" && idkarta validate {q(str(o.out / 'signed-pkcs11.pdf'))} --trust "
               f"{esign}/ca.pem --crl {esign}/esign.crl"],
    }  # fmt: skip


def decoded_mrz(o: DemoOutcome) -> MRZ:
    mrz: MRZ = o.decoded["DG1"].mrz  # type: ignore[attr-defined]
    return mrz


def print_summary(o: DemoOutcome, echo: Callable[[str], None]) -> None:
    """The readable account of a demo run, each step with the commands that repeat it."""
    applicant, issued, result = o.applicant, o.issued, o.result
    decoded = o.decoded
    mrz = decoded_mrz(o)
    commands = step_commands(o)

    def repeat(step: int, note: str = "") -> None:
        for command in commands[step]:
            echo(f"   $ {command}")
            if note and command.startswith("idkarta card serve"):
                echo(f"     {note}")

    st = o.station
    assert st is not None and st.application is not None and st.card is not None
    app, card = st.application, st.card
    person = app.form.person
    issued_on = applicant.document.issue_date
    echo(f"0. Secrets    {o.secrets_file} (mode 0600): this run's throwaway key store "
         "passphrase, holder PIN and PUK, and CAN; the commands below read it")
    echo(f"1. Point      {POINT.code} {POINT.name} (stages 1-2, {st.folder})")
    echo(f"   Accepted    application {app.id} by operator {app.operator}, "
         f"{local_time(app.accepted_at)}")  # fmt: skip
    echo(f"   Holder      {person.surname.latin} {person.given_name.latin} "
         f"{person.patronymic.latin}, born {person.birth_date.isoformat()}")  # fmt: skip
    first = " (first ID card)" if app.form.first_issue else ""
    echo(f"   Ground      {app.form.ground.value}{first}; documents: "
         f"{', '.join(sorted(d.value for d in app.form.documents))}")  # fmt: skip
    echo(f"   Due         {due_note(app)}")
    captured = st.captures.get(app.id)
    if captured is not None:
        echo(f"   Capture     {_capture_line(captured)}")
        echo(f"   Stored      encrypted at rest (AES-256-GCM, key {captured.key_id}); DG3 takes "
             f"{', '.join(f'finger {p}' for p in captured.dg3) or 'no finger'}")  # fmt: skip
    repeat(1)
    returned = st.returned
    assert returned is not None
    echo(f"2. Center     request {app.id} (stage 3)")
    echo(f"   PINFL       {returned.pinfl}: "
         f"{'generated' if card.pinfl != person.pinfl else 'present and correct'}")
    echo(f"   Registry    card {card.card} allocated to point {card.point}, issued "
         f"{card.issue_date.isoformat()}, valid until {card.expiry_date.isoformat()} "
         f"(age rule)")  # fmt: skip
    echo(
        f"   Document    {mrz.document_code} {mrz.document_number}, issued "
        f"{issued_on.isoformat()}, valid until {expiry_date(applicant.birth_date, issued_on)}"
    )
    echo("   MRZ         " + "\n               ".join(str(mrz).splitlines()))
    repeat(2)
    echo(f"3. Chip data  {o.issued_dir}")
    for name, data in issued.files.items():
        echo(f"   {name:<16}{len(data):>7} bytes  {_describe(decoded[name].to_json())}")
    echo(f"   Round trip  {'every file re-encodes byte for byte' if o.round_trip else 'MISMATCH'}")
    repeat(3)
    echo(
        f"4. PKI        {o.pki_dir} (file key store): CSCA {o.pki['csca']['label']}, "
        f"Document Signer {o.pki['ds']['label']}, Master List Signer {o.pki['mls']['label']}; "
        "EF.SOD signed at the Center from the data-group hashes (no biometrics sent)"
    )
    echo(
        f"   EAC         CVCA {o.pki['cvc']['cvca']['chr']} → DV {o.pki['cvc']['dv']['chr']} → "
        f"IS {o.pki['cvc']['is']['chr']} (DG3 fingerprints for inspection systems)"
    )
    repeat(4)
    echo(f"5. Chip       virtual chip personalized over APDUs and locked: {o.image}")
    cert = o.esign_certificate.certificate
    echo(
        f"   E-signature {cert.subject.human_friendly}; serial {o.esign_certificate.serial:x}; "
        f"key made in the chip, PIN set by the holder (IDKARTA_PIN in {o.secrets_file})"
    )
    echo(f"   OneID       {count(o.oneid_delivered, 'registration event')} delivered to the local "
         "queue")
    face = o.card_face
    echo(f"   Card face   {face if isinstance(face, str) else ', '.join(map(str, face))}")
    echo(f"   Registry    {card.card} personalized; e-signature certificate "
         f"{o.esign_certificate.serial:x} recorded on it")  # fmt: skip
    repeat(5)
    echo(f"6. Read back  {o.read_dir} (CAN {applicant.can}, {result.access})")
    for run in result.protocols:
        echo(f"   {'OK  ' if run.ok else 'FAIL'} {run.protocol:<9}{run.detail}")
    for name, why in result.skipped.items():
        echo(f"   not read {name}: {why}")
    echo(f"   Files read  {'identical to the files issued' if o.identical else 'DIFFERENT'}")
    repeat(6, "(puts the chip behind pcscd until Ctrl-C; run the next command in another "
              "terminal)")
    echo(f"7. Verify     passive authentication of {o.read_dir}")
    repeat(7)
    for line in format_report(o.report).splitlines():
        echo(f"   {line}")
    echo(f"   Registry    {card.card} verified (the read-back gate before the handover)")
    echo(f"8. Signed     {o.signed_pdf} with card and PIN")
    repeat(8)
    for r in o.pdf_reports:
        echo(
            f"   {r.field_name}: intact {_yes(r.intact)}, valid {_yes(r.valid)}, "
            f"trusted {_yes(r.trusted)}, revocation {r.revocation.value}"
        )
    handover = st.handover
    assert handover is not None
    echo(f"9. Handover   {handover.card} to the {handover.receiver_role} {handover.receiver_name}"
         f" ({handover.receiver_document}) by {handover.operator}, {local_time(handover.at)}: "
         f"{'on time' if handover.on_time else 'LATE'} (due {handover.due_date.isoformat()}; "
         "stage 4)")  # fmt: skip
    repeat(9)
    lost, again, previous, revoked = (st.replacement, st.replacement_returned,
                                      st.previous_card, st.revoked)  # fmt: skip
    assert lost is not None and again is not None and previous is not None
    assert revoked is not None and st.status is not None
    echo(f"10. Lost card the holder applies to restore {previous.card} (stages 5-6)")
    echo(f"   Accepted    application {lost.id}: ground {lost.form.ground.value}; documents: "
         f"{', '.join(sorted(d.value for d in lost.form.documents))}")  # fmt: skip
    echo(f"   Due         {due_note(lost)}")
    echo(f"   Center      {previous.card} {previous.status.value}; new card {again.card}")
    echo(f"   E-signature certificate {revoked.serial:x} revoked: "
         f"{'listed' if revoked.in_crl else 'NOT LISTED'} in {revoked.crl_path}, OCSP answers "
         f"{revoked.ocsp_status}")  # fmt: skip
    restored = st.restored
    assert restored is not None and restored.pipeline.job.esign_serial is not None
    done, job = restored.handover, restored.pipeline.job
    captured = st.captures.get(lost.id)
    if captured is not None:
        echo(f"   Capture     {_capture_line(captured)}")
    echo(f"   Pipeline    job {job.id[:8]} on {job.reader}, blank {job.blank}: "
         f"{', '.join(restored.pipeline.steps)}")  # fmt: skip
    echo(f"   Restored    {done.card} {job.status.value}: personalized on "
         f"{restored.pipeline.image} with a new e-signature certificate "
         f"{job.esign_serial:x}, through the read-back gate; "
         f"handed to the {done.receiver_role} {done.receiver_name}: "
         f"{'on time' if done.on_time else 'LATE'} (due {done.due_date.isoformat()})")  # fmt: skip
    cards = ", ".join(f"{k} {v}" for k, v in st.status.cards.items() if v)
    echo(f"   Registry    {st.status.persons} person(s), {st.status.requests} requests, "
         f"cards: {cards}; {st.status.pending_revocations} revocation(s) pending")  # fmt: skip
    repeat(10, "(the restored card behind pcscd until Ctrl-C; in another terminal the holder "
               "signs through OpenSC's PKCS#11 module with pyHanko, docs/guide/esign.md)")


OPENSC_PKCS11 = (
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
    "/usr/local/lib/opensc-pkcs11.so",
)


def opensc_pkcs11() -> str:
    """OpenSC's PKCS#11 module on this system (Debian's opensc-pkcs11), for the printed command;
    Debian x86_64's path when it is not installed."""
    return next((m for m in OPENSC_PKCS11 if Path(m).exists()), OPENSC_PKCS11[0])


def _issue_chip(
    dump: Dump, keys: CardKeys, image: Path, *, can: str, cvca: CVCertificate,
    record: HolderRecord, ca: EsignCA, pin: str, puk: str,
) -> CardEnrollment:
    """A new virtual chip personalized over APDUs with ``dump`` and locked, the holder's
    e-signature key made in it and certified by ``ca`` (PIN ``pin``), its image saved."""
    chip, k_perso = VirtualChip.new(), os.urandom(16)  # the station would keep k_perso
    personalize(ChipTransport(chip), dump, ChipSecrets(
        ca_private_key=keys.chip_authentication,
        aa_private_key=keys.active_authentication,
        can=can,
        cvca=cvca,  # the Terminal Authentication trust anchor
        esign_perso_key=k_perso,
    ))  # fmt: skip
    enrollment = enroll_card(ChipTransport(chip), k_perso=k_perso, record=record, ca=ca,
                             pin=lambda: pin, puk=puk)  # fmt: skip
    chip.save(image)
    return enrollment


def _read_back(issued: Dump, image: Path, read_dir: Path, *, can: str,
               terminal: TerminalCredentials,
               trust: TrustStore) -> tuple[ReadResult, bool, PassiveAuthReport]:  # fmt: skip
    """The read-back gate: the chip of ``image`` read as an inspection system would (PACE with
    the CAN, CA, TA, AA) into ``read_dir``, every issued file read back identical (or not
    readable for a stated reason), passive authentication passing; else a StationError, and
    the card is not handed over."""
    result = read_document(ChipTransport(VirtualChip.load(image)), can=can, terminal=terminal)
    result.write(read_dir, overwrite=True)
    identical = all(issued.files.get(n) == d for n, d in result.dump.files.items()) and set(
        issued.files
    ) == set(result.dump.files) | set(result.skipped)
    report = verify_dump_folder(read_dir, trust)
    if not (report.ok and identical and all(run.ok for run in result.protocols)):
        raise StationError(f"the card read back into {read_dir} does not verify: it is not "
                           "handed over")  # fmt: skip
    return result, identical, report


def _issued_applicant(applicant: Applicant, card: str, issued_on: date) -> Applicant:
    """The applicant with the card the Center allocated (series, number, day of issue)."""
    series, number = parse_card_number(card)
    document = replace(applicant.document, series=series, number=f"{number:07d}",
                       issue_date=issued_on)  # fmt: skip
    return replace(applicant, document=document)


def _write_applicant(path: Path, source: Path, applicant: Applicant) -> Path:
    """``source``'s applicant JSON with the issued card's document (its image files named by
    absolute path), for the commands that repeat a step on the card as issued."""
    data = json.loads(source.read_text(encoding="utf-8"))
    doc = applicant.document
    data["document"] = {**data["document"], "series": doc.series, "number": doc.number,
                        "issue_date": doc.issue_date.isoformat()}  # fmt: skip
    for key in ("portrait", "signature"):
        if isinstance(data.get(key), str):
            data[key] = str((source.parent / data[key]).resolve())
    for finger in data.get("fingers") or ():
        finger["image"] = str((source.parent / finger["image"]).resolve())
    write_atomic(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode())
    return path


def _write_secrets(path: Path, values: Mapping[str, str]) -> Path:
    """The throwaway secrets file: ``export NAME='value'`` lines, mode 0600, written atomically."""
    lines = [
        "# Throwaway secrets of one `idkarta demo` run, for the commands it prints",
        "# (`(. FILE && idkarta …)`). Never use them for real keys, cards or holders.",
        *(f"export {name}={shlex.quote(value)}" for name, value in values.items()),
    ]
    write_atomic(path, ("\n".join(lines) + "\n").encode(), 0o600)
    return path


def path_hint(found: str | None, bin_dir: Path) -> str | None:
    """A note when ``idkarta`` is not on PATH (``make demo`` runs ``.venv/bin/idkarta``), so
    that the printed commands work as printed once the note is followed."""
    if found is not None:
        return None
    if (bin_dir / "idkarta").exists():
        return (f"Note: idkarta is not on PATH in this shell; first run "
                f"export PATH={shlex.quote(str(bin_dir))}:\"$PATH\" (or activate the virtualenv)")
    return "Note: idkarta is not on PATH in this shell; install it (pip install -e .) first"


def _capture_line(report: CaptureReport) -> str:
    """Each slot of a capture: face from the counter's camera, fingers with their scores."""
    parts = []
    for slot in report.slots:
        name = f"face ({CAMERA.name})" if slot.position == 0 else f"finger {slot.position}"
        score = f", score {slot.score}" if slot.score is not None else ""
        parts.append(f"{name} {slot.status} (attempt {slot.attempts}{score})")
    return "; ".join(parts)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _fresh_dir(path: Path) -> Path:
    """A demo folder, emptied if an earlier demo made it; never someone else's folder."""
    if path.exists():
        if not (path / _DEMO_MARK).exists():
            raise StationError(f"{path} exists and was not made by the demo; choose another --out")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / _DEMO_MARK).touch()
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
    if "data_group_hashes" in info:
        return (f"{info['hash_algorithm']} hashes of "
                f"{count(len(info['data_group_hashes']), 'data group')}")
    for key in ("faces", "fingers", "images"):
        if key in info:
            return count(len(info[key]), key.removesuffix("s"), key)
    if "mrz" in info:
        return f"{info['surname']} {info['given_names']}"
    if "algorithm" in info:
        return f"{info['algorithm']} {info.get('curve') or info.get('key_size')}"
    return ", ".join(k for k in info if k != "name")
