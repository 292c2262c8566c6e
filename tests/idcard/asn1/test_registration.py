"""The asn1crypto registration of the LDS content types happened, and works in both directions."""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from tests.conftest import VECTORS

import idcard.asn1  # noqa: F401 - importing the package runs the registration
from idcard.asn1 import oids, registration
from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.asn1.security_infos import SecurityInfos

SOD_FILE = VECTORS / "lds" / "bsi-tr03105-refset" / "EF.SOD"


def test_content_types_are_registered() -> None:
    assert cms.ContentType._map["2.23.136.1.1.1"] == registration.LDS_SECURITY_OBJECT
    assert cms.ContentType._map["0.4.0.127.0.7.3.2.1"] == registration.SECURITY_OBJECT
    assert cms.EncapsulatedContentInfo._oid_specs[registration.LDS_SECURITY_OBJECT] is (
        LDSSecurityObject
    )
    assert cms.EncapsulatedContentInfo._oid_specs[registration.SECURITY_OBJECT] is SecurityInfos


def test_names_resolve_both_ways_and_register_is_idempotent() -> None:
    registration.register()
    registration.register()
    assert cms.ContentType("lds_security_object").dotted == oids.ID_ICAO_LDS_SECURITY_OBJECT
    assert cms.ContentType("security_object").dump() == bytes.fromhex("060804007F0007030201")
    assert cms.ContentType.load(bytes.fromhex("0606678108010101")).native == "lds_security_object"


def test_sod_econtent_parses_through_the_registered_spec() -> None:
    data = SOD_FILE.read_bytes()
    info = cms.ContentInfo.load(data[4:])
    encap = info["content"]["encap_content_info"]
    assert encap["content_type"].native == "lds_security_object"
    parsed = encap["content"].parsed
    assert isinstance(parsed, LDSSecurityObject)
    hashes = {
        h["data_group_number"].native: h["data_group_hash_value"].native
        for h in parsed["data_group_hash_values"]
    }
    dg1 = (VECTORS / "lds" / "bsi-tr03105-refset" / "DG1").read_bytes()
    assert hashes[1] == hashlib.sha256(dg1).digest()


def test_document_pki_registration_is_in_the_one_module() -> None:
    """CSCA master list content type, ICAO extensions and EKUs (9303-12 §7.1.1, §8.2)."""
    from asn1crypto import x509

    from idcard.asn1.document_pki import CscaMasterList, DocumentTypeListSyntax
    from pki import asn1 as pki_asn1

    assert registration.registered()
    assert pki_asn1.register is registration.register
    assert pki_asn1.CscaMasterList is CscaMasterList
    assert cms.EncapsulatedContentInfo._oid_specs["icao_csca_master_list"] is CscaMasterList
    assert x509.Extension._oid_specs["icao_document_type_list"] is DocumentTypeListSyntax
    assert x509.ExtensionId("2.23.136.1.1.6.2").native == "icao_document_type_list"
    assert x509.KeyPurposeId("icao_master_list_signing").dotted == "2.23.136.1.1.3"
    der = DocumentTypeListSyntax({"version": 0, "doc_type_list": ["ID"]}).dump()
    assert der == bytes.fromhex("3009020100310413024944")
