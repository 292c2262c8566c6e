"""The EAC PKI (pki.cvca): CVCA → DV → IS issued from the file store and from SoftHSM2, chains
validated, Terminal Authentication against the chip side with the IS key on the token, OpenPACE's
cvc-print reading what we issue, requests with inner and outer signatures, link certificates."""

from __future__ import annotations

import datetime
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_tool
from tests.softhsm import SoftHSMToken

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.cvc import TA_ALGORITHMS, CVCertificate, CVRequest, Role, validate_chain
from idcard.protocols.base import drive
from idcard.protocols.ta import TAChip, TAProtocol
from pki.cvca import (
    CVAuthority,
    EACState,
    HolderReference,
    check_request,
    create_cvca,
    create_request,
    cv_signer,
    issue_dv,
    issue_from_request,
    issue_is,
    issue_link,
    ta_algorithm,
    ta_algorithm_name,
)
from pki.errors import IssuanceError, PKIError
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, KeyStore, SignatureAlgorithm, SignatureScheme, Signer

START = datetime.date(2026, 1, 1)
TODAY = datetime.date(2026, 1, 15)
ID_PICC = b"AA1234567<5"
COMP = b"\x5a" * 32
EC_SPECS = ["ec-brainpoolP256r1", "ec-p256"]


@pytest.fixture
def file_store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", lambda: b"cvca-test-passphrase")


@pytest.fixture
def hsm_store(fresh_softhsm_token: SoftHSMToken) -> Iterator[KeyStore]:
    t = fresh_softhsm_token  # a token of its own: the CHR labels are free on every run
    token = PKCS11Module(t.module).token(t.label)
    with token.session(lambda: t.pin) as session:
        yield session


@pytest.fixture(params=["file", pytest.param("hsm", marks=pytest.mark.hsm)])
def store(request: pytest.FixtureRequest) -> KeyStore:
    name = "file_store" if request.param == "file" else "hsm_store"
    result: KeyStore = request.getfixturevalue(name)
    return result


def _label(what: str) -> str:
    return f"cvctest-{what}-{uuid.uuid4().hex[:8]}"  # the token lives for the whole session


def _hierarchy(
    store: KeyStore, spec: str, *, dv_dg4: bool = False, is_dg3: bool = True, is_dg4: bool = True
) -> tuple[list[CVCertificate], Signer, CVAuthority]:
    """CVCA (DG3+DG4) → domestic DV (DG3, DG4 as given) → IS (as given)."""
    key_spec = KeySpec.parse(spec)
    cvca = create_cvca(store.generate(_label("cvca"), key_spec), "UZCVCA00001",
                       effective_date=START)  # fmt: skip
    dv_key = store.generate(_label("dv"), key_spec)
    dv_cert = issue_dv(cvca, dv_key.public_key(), "UZDV00001", read_dg3=True, read_dg4=dv_dg4,
                       effective_date=START)  # fmt: skip
    dv = CVAuthority(dv_cert, dv_key, cvca.domain)
    is_key = store.generate(_label("is"), key_spec)
    is_cert = issue_is(dv, is_key.public_key(), "UZIS00001", read_dg3=is_dg3, read_dg4=is_dg4,
                       effective_date=START)  # fmt: skip
    return [cvca.certificate, dv_cert, is_cert], is_key, dv


class Wire:
    def __init__(self, chip: TAChip) -> None:
        self.chip = chip

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return self.chip.handle(CommandAPDU.decode(command.encode()))


def _terminal_authentication(certs: list[CVCertificate], is_key: Signer) -> TAChip:
    chip = TAChip(certs[0], TODAY, id_picc=ID_PICC, ephemeral_public_key_comp=COMP)
    proto = TAProtocol(certs[1:], cv_signer(is_key), id_picc=ID_PICC,
                       ephemeral_public_key_comp=COMP)  # fmt: skip
    assert drive(proto, Wire(chip)) is True
    return chip


# -- identifiers --------------------------------------------------------------------------------


def test_holder_reference_rules() -> None:
    ref = HolderReference.of("uz", "cvca", 1)
    assert str(ref) == "UZCVCA00001"
    assert HolderReference.parse("UZDV00042") == HolderReference("UZ", "DV", "00042")
    assert str(HolderReference.parse("DETESTDV0DE001")) == "DETESTDV0DE001"
    for bad in ("U", "UZ00001", "UZ" + "X" * 10 + "00001", "uzDV00001", "UZDV0001!"):
        with pytest.raises(IssuanceError):
            HolderReference.parse(bad)
    with pytest.raises(IssuanceError):
        HolderReference.of("UZ", "IS", 100000)


def test_ta_algorithm_oids_match_the_codec() -> None:
    names = {"ecdsa": "ECDSA", "rsa-pss": "RSA-PSS", "rsa-pkcs1v15": "RSA-v1_5"}
    every = {
        SignatureScheme.ECDSA: ("sha1", "sha224", "sha256", "sha384", "sha512"),
        SignatureScheme.RSA_PSS: ("sha1", "sha256", "sha512"),
        SignatureScheme.RSA_PKCS1V15: ("sha1", "sha256", "sha512"),
    }
    for scheme, hashes in every.items():
        for h in hashes:
            oid = ta_algorithm(SignatureAlgorithm(scheme, h))  # type: ignore[arg-type]
            assert TA_ALGORITHMS[oid] == (names[scheme.value], h)
    assert ta_algorithm_name("0.4.0.127.0.7.2.2.2.2.3") == "id-TA-ECDSA-SHA-256"
    assert ta_algorithm_name("0.4.0.127.0.7.2.2.2.1.4") == "id-TA-RSA-PSS-SHA-256"
    with pytest.raises(IssuanceError):
        ta_algorithm(SignatureAlgorithm.rsa_pkcs1v15("sha384"))


def test_state_file_counts_per_mnemonic(tmp_path: Path) -> None:
    path = tmp_path / "cvc" / "state.json"
    state = EACState.create(path, country="UZ", key_spec=KeySpec.parse("ec-p256"))
    refs = [str(state.next_chr(m)) for m in ("CVCA", "DV", "DV", "IS")]
    assert refs == ["UZCVCA00001", "UZDV00001", "UZDV00002", "UZIS00001"]
    state.record("cvca", "UZCVCA00001")
    state.save()
    again = EACState.load(path)
    assert again.cvca == "UZCVCA00001" and str(again.next_chr("DV")) == "UZDV00003"
    with pytest.raises(PKIError, match="no DV"):
        again.latest("dv")
    with pytest.raises(IssuanceError):
        EACState.create(path, country="UZ", key_spec=KeySpec.parse("ec-p384"))
    with pytest.raises(PKIError):
        EACState.load(tmp_path / "missing.json")


# -- the hierarchy, from the file store and from the token -------------------------------------


@pytest.mark.parametrize("spec", EC_SPECS)
def test_chain_validates_and_chat_is_the_and(store: KeyStore, spec: str) -> None:
    certs, _, _ = _hierarchy(store, spec, dv_dg4=False, is_dg3=True, is_dg4=True)
    cvca, dv, term = certs
    assert cvca.car == cvca.chr == "UZCVCA00001" and cvca.public_key.has_domain_parameters
    assert dv.car == "UZCVCA00001" and not dv.public_key.has_domain_parameters
    assert dv.chat.role is Role.DV_DOMESTIC and term.chat.role is Role.TERMINAL
    assert term.chat.read_dg3 and term.chat.read_dg4  # asked for both …
    result = validate_chain(cvca, [dv, term], TODAY)
    assert result.valid, result.reason
    assert result.effective_chat is not None  # … but the DV may not read DG4
    assert result.effective_chat.read_dg3 and not result.effective_chat.read_dg4
    assert result.effective_chat.role is Role.TERMINAL
    assert len(term.signature) == 64  # plain r ‖ s, not DER
    assert CVCertificate.decode(term.encode()) == term
    assert not validate_chain(cvca, [dv, term], term.body.expiration_date
                              + datetime.timedelta(days=1)).valid  # fmt: skip


@pytest.mark.parametrize("is_dg3", [True, False])
def test_terminal_authentication_with_the_is_key_in_the_store(store: KeyStore,
                                                               is_dg3: bool) -> None:  # fmt: skip
    certs, is_key, _ = _hierarchy(store, "ec-brainpoolP256r1", dv_dg4=True, is_dg3=is_dg3,
                                  is_dg4=False)  # fmt: skip
    chip = _terminal_authentication(certs, is_key)
    assert chip.done
    assert chip.read_dg3 is is_dg3 and not chip.read_dg4


def test_terminal_authentication_refuses_another_key(file_store: FileKeyStore) -> None:
    certs, _, _ = _hierarchy(file_store, "ec-p256")
    intruder = file_store.generate(_label("intruder"), KeySpec.parse("ec-p256"))
    chip = TAChip(certs[0], TODAY, id_picc=ID_PICC, ephemeral_public_key_comp=COMP)
    proto = TAProtocol(certs[1:], cv_signer(intruder), id_picc=ID_PICC,
                       ephemeral_public_key_comp=COMP)  # fmt: skip
    with pytest.raises(Exception, match="6300"):
        drive(proto, Wire(chip))
    assert not chip.done and "signature" in (chip.failure or "")


def test_rsa_hierarchy(file_store: FileKeyStore) -> None:
    certs, is_key, _ = _hierarchy(file_store, "rsa-2048")
    assert certs[0].public_key.oid == "0.4.0.127.0.7.2.2.2.1.4"  # id-TA-RSA-PSS-SHA-256
    assert validate_chain(certs[0], certs[1:], TODAY).valid
    assert _terminal_authentication(certs, is_key).read_dg3


@pytest.mark.tool
@pytest.mark.parametrize("spec", EC_SPECS)
def test_cvc_print_reads_what_the_store_issued(store: KeyStore, spec: str,
                                               tmp_path: Path) -> None:  # fmt: skip
    tool = require_tool("cvc-print")
    certs, _, _ = _hierarchy(store, spec)
    for cert in certs:
        path = tmp_path / f"{cert.chr}.cvcert"
        path.write_bytes(cert.encode())
        out = subprocess.run([tool, "--cvc", str(path)], capture_output=True, text=True,
                             check=False)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert cert.chr in out.stdout and cert.car in out.stdout


# -- link certificates --------------------------------------------------------------------------


def test_link_certificate_moves_the_trust_anchor(store: KeyStore) -> None:
    spec = KeySpec.parse("ec-brainpoolP256r1")
    old = create_cvca(store.generate(_label("cvca1"), spec), "UZCVCA00001", effective_date=START)
    link, new = issue_link(old, store.generate(_label("cvca2"), spec), "UZCVCA00002",
                           effective_date=TODAY)  # fmt: skip
    assert link.car == "UZCVCA00001" and link.chr == new.chr == "UZCVCA00002"
    assert link.public_key == new.certificate.public_key and link.public_key.has_domain_parameters
    assert link.chat.role is Role.CVCA and link.chat == old.certificate.chat
    dv_key = store.generate(_label("dv"), spec)
    dv = CVAuthority(issue_dv(new, dv_key.public_key(), "UZDV00001", effective_date=TODAY),
                     dv_key, new.domain)  # fmt: skip
    is_key = store.generate(_label("is"), spec)
    term = issue_is(dv, is_key.public_key(), "UZIS00001", effective_date=TODAY)
    # a chip still trusting the old CVCA accepts link → DV → IS
    assert validate_chain(old.certificate, [link, dv.certificate, term], TODAY).valid
    assert not validate_chain(old.certificate, [dv.certificate, term], TODAY).valid
    chip = _terminal_authentication([old.certificate, link, dv.certificate, term], is_key)
    assert chip.read_dg3 and chip.read_dg4


# -- requests -----------------------------------------------------------------------------------


def test_dv_request_initial_and_renewal(file_store: FileKeyStore) -> None:
    spec = KeySpec.parse("ec-brainpoolP256r1")
    cvca = create_cvca(file_store.generate(_label("cvca"), spec), "UZCVCA00001",
                       effective_date=START)  # fmt: skip
    first_key = file_store.generate(_label("dv1"), spec)
    first = create_request(first_key, "UZDV00001", car="UZCVCA00001")
    assert first.outer_signature is None and first.verify_inner()
    assert first.public_key.has_domain_parameters  # requests carry them (inner check)
    dv_cert = issue_from_request(cvca, first, role=Role.DV_DOMESTIC, read_dg4=False,
                                 effective_date=START)  # fmt: skip
    assert not dv_cert.public_key.has_domain_parameters
    dv = CVAuthority(dv_cert, first_key, cvca.domain)
    # renewal: new key, authenticated with the current DV key
    next_key = file_store.generate(_label("dv2"), spec)
    renewal = create_request(next_key, "UZDV00002", car="UZCVCA00001", current=dv)
    decoded = CVRequest.decode(renewal.encode())
    assert decoded.encode()[:1] == b"\x67" and decoded.outer_car == "UZDV00001"
    assert decoded.verify_inner()
    assert decoded.verify_outer(dv_cert.public_key, cvca.domain)
    known = {dv_cert.chr: dv_cert}
    renewed = issue_from_request(cvca, decoded, role=Role.DV_DOMESTIC, known=known,
                                 require_outer=True, effective_date=TODAY)  # fmt: skip
    assert validate_chain(cvca.certificate, [renewed], TODAY).valid
    # a wrong outer signature, an unknown outer CAR, a missing one
    sig = bytearray(decoded.outer_signature or b"")
    sig[5] ^= 1
    forged = CVRequest(decoded.public_key, decoded.chr, decoded.inner_signature, decoded.car,
                       None, decoded.outer_car, bytes(sig))  # fmt: skip
    with pytest.raises(IssuanceError, match="outer signature"):
        check_request(forged, known=known, domain=cvca.domain)
    with pytest.raises(IssuanceError, match="unknown"):
        check_request(decoded, domain=cvca.domain)
    with pytest.raises(IssuanceError, match="not authenticated"):
        check_request(first, require_outer=True)
    bad_inner = CVRequest(first.public_key, first.chr, bytes(64), first.car)
    with pytest.raises(IssuanceError, match="self-signature"):
        check_request(bad_inner)
    # an IS request goes to the DV; the CVCA refuses to make a terminal certificate
    is_request = create_request(file_store.generate(_label("is"), spec), "UZIS00001",
                                car="UZDV00001")  # fmt: skip
    with pytest.raises(IssuanceError, match="not a DV"):
        issue_from_request(cvca, is_request, role=Role.TERMINAL)
    term = issue_from_request(dv, is_request, role=Role.TERMINAL, effective_date=TODAY)
    assert validate_chain(cvca.certificate, [dv_cert, term], TODAY).valid


@pytest.mark.tool
def test_cvc_print_verifies_our_requests(file_store: FileKeyStore, tmp_path: Path) -> None:
    """OpenPACE reads and verifies a plain request and the inner request of a renewal (its
    cvc-print does not parse the authenticated form, DO'67')."""
    tool = require_tool("cvc-print")
    spec = KeySpec.parse("ec-p256")
    cvca = create_cvca(file_store.generate(_label("cvca"), spec), "UZCVCA00001",
                       effective_date=START)  # fmt: skip
    dv_key = file_store.generate(_label("dv"), spec)
    dv = CVAuthority(issue_dv(cvca, dv_key.public_key(), "UZDV00001", effective_date=START),
                     dv_key, cvca.domain)  # fmt: skip
    first = create_request(file_store.generate(_label("dv2"), spec), "UZDV00002",
                           car="UZCVCA00001")  # fmt: skip
    renewal = create_request(file_store.generate(_label("dv3"), spec), "UZDV00003",
                             car="UZCVCA00001", current=dv)  # fmt: skip
    for name, data in (("UZDV00002", first.encode()), ("UZDV00003", renewal.inner)):
        path = tmp_path / f"{name}.cvreq"
        path.write_bytes(data)
        out = subprocess.run([tool, "--csr", str(path)], capture_output=True, text=True,
                             check=False)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "certificate request verified" in out.stdout and "CAR: UZCVCA00001" in out.stdout
        assert f"CHR: {name}" in out.stdout


@pytest.mark.hsm
def test_request_signed_on_the_token(hsm_store: KeyStore) -> None:
    spec = KeySpec.parse("ec-p256")
    cvca = create_cvca(hsm_store.generate(_label("cvca"), spec), "UZCVCA00001",
                       effective_date=START)  # fmt: skip
    dv_key = hsm_store.generate(_label("dv"), spec)
    dv = CVAuthority(issue_dv(cvca, dv_key.public_key(), "UZDV00001", effective_date=START),
                     dv_key, cvca.domain)  # fmt: skip
    request = create_request(hsm_store.generate(_label("dv2"), spec), "UZDV00002", current=dv)
    assert request.verify_inner() and request.verify_outer(dv.certificate.public_key, cvca.domain)


# -- refusals -----------------------------------------------------------------------------------


def test_refusals(file_store: FileKeyStore) -> None:
    bp = KeySpec.parse("ec-brainpoolP256r1")
    cvca = create_cvca(file_store.generate(_label("cvca"), bp), "UZCVCA00001",
                       effective_date=START, validity_days=365)  # fmt: skip
    other_curve = file_store.generate(_label("p256"), KeySpec.parse("ec-p256"))
    with pytest.raises(IssuanceError, match="brainpoolP256r1"):
        issue_dv(cvca, other_curve.public_key(), "UZDV00001")
    with pytest.raises(IssuanceError, match="curves"):
        create_cvca(file_store.generate(_label("p384"), KeySpec.parse("ec-p384")), "UZCVCA00002")
    with pytest.raises(IssuanceError, match="not the key"):
        CVAuthority(cvca.certificate, other_curve)
    dv_key = file_store.generate(_label("dv"), bp)
    dv_cert = issue_dv(cvca, dv_key.public_key(), "UZDV00001", effective_date=START,
                       validity_days=5000)  # fmt: skip
    assert dv_cert.body.expiration_date == cvca.certificate.body.expiration_date  # clamped
    dv = CVAuthority(dv_cert, dv_key, cvca.domain)
    with pytest.raises(IssuanceError, match="not a CVCA"):
        issue_dv(dv, dv_key.public_key(), "UZDV00002")
    with pytest.raises(IssuanceError, match="not a DV"):
        issue_is(cvca, dv_key.public_key(), "UZIS00001")
    with pytest.raises(IssuanceError, match="expired"):
        issue_is(dv, dv_key.public_key(), "UZIS00001", effective_date=datetime.date(2028, 1, 1))
