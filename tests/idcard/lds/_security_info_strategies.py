"""Hypothesis strategies for SecurityInfos and for mutating real sample files (shared by tests)."""

from __future__ import annotations

import string

from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import strategies as st

from idcard.asn1 import oids
from idcard.asn1 import security_infos as asn1
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    CardInfoLocator,
    ChipAuthenticationDomainParameterInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    DomainParameter,
    FileID,
    PACEDomainParameterInfo,
    PACEInfo,
    PrivilegedTerminalInfo,
    RestrictedIdentificationDomainParameterInfo,
    RestrictedIdentificationInfo,
    SecurityInfo,
    SecurityInfos,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
)

integers = st.integers(min_value=-(2**72), max_value=2**72)
small = st.integers(min_value=0, max_value=255)
optional_integers = st.none() | integers
foreign_oids = st.builds(
    lambda a, b: f"1.3.6.1.4.1.{a}.{b}",
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=0, max_value=2**20),
)
PACE_FAMILIES = [
    oids.ID_PACE_DH_GM,
    oids.ID_PACE_ECDH_GM,
    oids.ID_PACE_DH_IM,
    oids.ID_PACE_ECDH_IM,
    oids.ID_PACE_ECDH_CAM,
]
CURVES = [ec.SECP256R1(), ec.BrainpoolP256R1(), ec.SECP384R1(), ec.BrainpoolP384R1()]


def _der_any(value: core.Asn1Value) -> bytes:
    return bytes(value.dump())


domain_parameters = st.one_of(
    st.builds(DomainParameter.standardized, st.integers(min_value=0, max_value=31)),
    st.builds(
        DomainParameter,
        foreign_oids,
        st.none()
        | st.builds(lambda n: _der_any(core.Integer(n)), integers)
        | st.builds(lambda b: _der_any(core.OctetString(b)), st.binary(max_size=40)),
    ),
)


@st.composite
def ec_public_key_infos(draw: st.DrawFn) -> bytes:
    """A real EC key (named curve) as DER SubjectPublicKeyInfo, from a drawn private scalar."""
    curve = draw(st.sampled_from(CURVES))
    secret = draw(st.integers(min_value=1, max_value=2**160))
    key = ec.derive_private_key(secret, curve).public_key()
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@st.composite
def standardized_public_key_infos(draw: st.DrawFn) -> bytes:
    """A TR-03110 style SPKI: standardizedDomainParameters id and an arbitrary point string."""
    algorithm = DomainParameter.standardized(draw(st.integers(min_value=0, max_value=18)))
    spki = asn1.SubjectPublicKeyInfo(
        {
            "algorithm": algorithm.to_asn1(),
            "subject_public_key": draw(st.binary(min_size=1, max_size=97)),
        }
    )
    return bytes(spki.dump())


file_ids = st.builds(
    FileID, st.binary(min_size=2, max_size=2), st.none() | st.binary(min_size=1, max_size=1)
)

leaf_infos: st.SearchStrategy[SecurityInfo] = st.one_of(
    st.builds(PACEInfo, st.sampled_from(sorted(oids.PACE_PROTOCOLS)), integers, optional_integers),
    st.builds(
        PACEDomainParameterInfo,
        st.sampled_from(PACE_FAMILIES),
        domain_parameters,
        optional_integers,
    ),
    st.builds(
        ChipAuthenticationInfo,
        st.sampled_from(sorted(oids.CA_PROTOCOLS)),
        integers,
        optional_integers,
    ),
    st.builds(
        ChipAuthenticationDomainParameterInfo,
        st.sampled_from([oids.ID_CA_DH, oids.ID_CA_ECDH]),
        domain_parameters,
        optional_integers,
    ),
    st.builds(
        ChipAuthenticationPublicKeyInfo,
        st.sampled_from([oids.ID_PK_DH, oids.ID_PK_ECDH]),
        ec_public_key_infos() | standardized_public_key_infos(),
        optional_integers,
    ),
    st.builds(TerminalAuthenticationInfo, st.just(oids.ID_TA), small, st.none() | file_ids),
    st.builds(
        ActiveAuthenticationInfo,
        st.sampled_from(["1.2.840.10045.4.3.2", "1.2.840.10045.4.3.4", f"{oids.BSI_DE}.1.1.4.1.3"]),
        st.just(oids.ID_AA),
        small,
    ),
    st.builds(
        CardInfoLocator,
        st.text(alphabet=string.ascii_letters + string.digits + ":/.-_", max_size=60),
        st.just(oids.ID_CI),
        st.none() | file_ids,
    ),
    st.builds(
        RestrictedIdentificationInfo,
        st.sampled_from(sorted(oids.RI_PROTOCOLS)),
        integers,
        integers,
        st.booleans(),
        optional_integers,
    ),
    st.builds(
        RestrictedIdentificationDomainParameterInfo,
        st.sampled_from([oids.ID_RI_DH, oids.ID_RI_ECDH]),
        domain_parameters,
    ),
    st.builds(
        lambda oid, n: UnknownSecurityInfo(
            oid,
            bytes(
                asn1.SecurityInfo(
                    {"protocol": oid, "required_data": core.Any.load(core.Integer(n).dump())}
                ).dump()
            ),
        ),
        foreign_oids,
        integers,
    ),
)

security_info_sets = st.builds(
    lambda infos: SecurityInfos(tuple(infos)), st.lists(leaf_infos, min_size=1, max_size=5)
)

security_infos = st.one_of(
    security_info_sets,
    st.builds(
        lambda outer, inner: SecurityInfos((*outer.infos, PrivilegedTerminalInfo(inner))),
        security_info_sets,
        security_info_sets,
    ),
)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1–4 random byte flips, insertions, deletions or truncations."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        i = draw(st.integers(min_value=0, max_value=max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[i] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif op == "set" and buf:
            buf[i] = draw(st.integers(min_value=0, max_value=255))
        elif op == "insert":
            buf[i:i] = draw(st.binary(min_size=1, max_size=3))
        elif op == "delete" and buf:
            del buf[i]
        elif op == "truncate":
            del buf[i:]
    return bytes(buf)
