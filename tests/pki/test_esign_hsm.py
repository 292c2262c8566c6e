"""The e-signature CA with its key in SoftHSM2: issuance, and an HSM session lost mid-issuance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.pki.test_esign_kit import ALISHER, NOW, PUBLIC_URLS, ec_signer
from tests.softhsm import SoftHSMToken

from pki.enroll import build_request, enroll
from pki.errors import HSMError
from pki.esign import EsignCA, EsignRegister
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, verify_signature

pytestmark = pytest.mark.hsm


def test_hsm_backed_ca_and_lost_session(softhsm_token: SoftHSMToken, tmp_path: Path) -> None:
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    label = f"esign-ca-{os.urandom(4).hex()}"
    register = EsignRegister(tmp_path / "esign.sqlite")
    session = token.session(lambda: softhsm_token.pin).__enter__()
    try:
        key = session.generate_key(label, KeySpec("ec", curve="secp256r1"))
        ca = EsignCA.create(register, key, PUBLIC_URLS, now=NOW)
        issued = enroll(ec_signer(), ALISHER, ca, now=NOW)
        tbs = issued.certificate["tbs_certificate"].dump()
        signature = issued.certificate["signature_value"].native
        assert verify_signature(key.public_key(), signature, tbs, ca.algorithm)
        before = [r.serial for r in register.all()]
        request = build_request(ec_signer(), ALISHER)
    finally:
        session.close()  # the session is lost under the CA
    with pytest.raises(HSMError):
        ca.issue(request, ALISHER, now=NOW)
    assert [r.serial for r in register.all()] == before
    with token.session(lambda: softhsm_token.pin) as again:
        ca = EsignCA(register, again.key(label), PUBLIC_URLS)
        retried = ca.issue(request, ALISHER, now=NOW)
        assert register.get(retried.serial) is not None
        assert len(register.by_pinfl(ALISHER.pinfl)) == 2
        again.destroy_key(label)
