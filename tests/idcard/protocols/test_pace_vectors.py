"""PACE against the published worked examples (vectors/pace/, README there names the sources).

ICAO 9303-11 Appendix G.1/G.2 (Generic Mapping, ECDH and DH), H.1/H.2 (Integrated Mapping),
I (Chip Authentication Mapping) and the BSI EAC worked examples: every intermediate value and
every APDU byte for byte, replayed through a transport that fails on any unexpected command.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asn1crypto import core
from tests.conftest import VECTORS

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import TransportError
from idcard.protocols import drive
from idcard.protocols.pace import (
    MRZ,
    PIN,
    PACEChip,
    PACEPassword,
    PACEProtocol,
    verify_chip_authentication,
)
from idcard.protocols.pace.algorithms import pseudo_random
from idcard.protocols.params import standardized
from idcard.reader.replay import ReplayTransport

PACE = VECTORS / "pace"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACE / name).read_text())
    return data


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def i(value: str) -> int:
    return int(value, 16)


def point(value: Any) -> bytes:
    return h(value["uncompressed"] if isinstance(value, dict) else value)


def replay(exchanges: list[tuple[str, str]]) -> ReplayTransport:
    """The library's replay transport (it fails on any unexpected command) over hex pairs."""
    return ReplayTransport([(h(c), h(r)) for c, r in exchanges])


def test_replay_transport_fails_loudly() -> None:
    transport = replay([("00A4040C", "9000")])
    with pytest.raises(TransportError):
        transport.transmit(CommandAPDU(0x00, 0xB0, 0, 0, ne=1))


# -- ICAO 9303-11 Appendix G.1: ECDH Generic Mapping, brainpoolP256r1 -------------------------

G1 = load("icao-9303-11-g1-ecdh-gm.json")


def g1_password() -> PACEPassword:
    return PACEPassword.from_mrz(G1["document_number"], G1["date_of_birth"], G1["date_of_expiry"])


def g1_transcript(mse: str) -> list[tuple[str, str]]:
    v = G1
    return [
        (mse, "9000"),
        (v["ga1_cmd"], v["ga1_rsp"]),
        (v["ga2_cmd"], v["ga2_rsp"]),
        (v["ga3_cmd"], v["ga3_rsp"]),
        (v["ga4_cmd"], v["ga4_rsp"]),
    ]


def test_g1_password_and_k_pi() -> None:
    pw = g1_password()
    assert pw.ref == MRZ
    assert pw.secret == h(G1["pi_sha1_mrz_info"])
    assert pw == PACEPassword.from_mrz_info(G1["mrz_info"])
    assert pw.key("AES-128") == h(G1["k_pi"])
    assert G1["ef_card_access"].endswith("020201" + "0D")  # parameter id 13 in the PACEInfo


@pytest.mark.parametrize(
    ("mse_key", "send_id"),
    [("mse_set_at_cmd", False), ("mse_set_at_cmd_variant_with_domain_parameter_ref", True)],
)
def test_g1_terminal_replay(mse_key: str, send_id: bool) -> None:
    v = G1
    terminal = PACEProtocol(
        g1_password(),
        v["protocol_oid"],
        v["parameter_id"],
        send_parameter_id=send_id,
        mapping_private_key=i(v["terminal_mapping_private_key"]),
        ephemeral_private_key=i(v["terminal_ephemeral_private_key"]),
        record=True,
    )
    transport = replay(g1_transcript(v[mse_key]))
    result = drive(terminal, transport)
    assert transport.remaining == 0
    tr = terminal.trace
    assert tr["k_pi"] == h(v["k_pi"])
    assert tr["encrypted_nonce"] == h(v["encrypted_nonce_z"])
    assert tr["nonce"] == h(v["nonce_s"])
    assert tr["terminal_mapping_public_key"] == point(v["terminal_mapping_public_key"])
    assert tr["chip_mapping_public_key"] == point(v["chip_mapping_public_key"])
    assert tr["H"] == point(v["mapping_shared_secret_H"])
    assert tr["mapped_generator"] == point(v["mapped_generator"])
    assert tr["terminal_ephemeral_public_key"] == point(v["terminal_ephemeral_public_key"])
    assert tr["chip_ephemeral_public_key"] == point(v["chip_ephemeral_public_key"])
    assert tr["K"] == h(v["shared_secret_K"])
    assert tr["ks_enc"] == h(v["ks_enc"])
    assert tr["ks_mac"] == h(v["ks_mac"])
    assert tr["token_input_terminal"] == h(
        v["auth_token_input_for_T_IFD (7F49 with chip ephemeral public key)"]
    )
    assert tr["token_input_chip"] == h(
        v["auth_token_input_for_T_IC (7F49 with terminal ephemeral public key)"]
    )
    assert tr["T_IFD"] == h(v["T_IFD"])
    assert tr["T_IC"] == h(v["T_IC"])
    assert result.ks_enc == h(v["ks_enc"]) and result.ks_mac == h(v["ks_mac"])
    assert result.cipher == "AES-128" and result.mapping == "GM"
    assert result.chip_public_key == point(v["chip_ephemeral_public_key"])
    assert result.terminal_public_key == point(v["terminal_ephemeral_public_key"])
    assert result.id_picc == h(v["chip_ephemeral_public_key"]["x"])
    assert result.secure_channel().ssc_bytes == h(v["ssc_after_pace"])


@pytest.mark.parametrize(
    ("mse_key", "send_id"),
    [("mse_set_at_cmd", False), ("mse_set_at_cmd_variant_with_domain_parameter_ref", True)],
)
def test_g1_chip_replay(mse_key: str, send_id: bool) -> None:
    v = G1
    chip = PACEChip(
        [g1_password()],
        [(v["protocol_oid"], v["parameter_id"])],
        nonce=h(v["nonce_s"]),
        mapping_private_key=i(v["chip_mapping_private_key"]),
        ephemeral_private_key=i(v["chip_ephemeral_private_key"]),
        record=True,
    )
    for command, response in g1_transcript(v[mse_key]):
        assert chip.handle(CommandAPDU.decode(h(command))).encode() == h(response)
    assert chip.done and chip.result is not None
    tr = chip.trace
    assert tr["H"] == point(v["mapping_shared_secret_H"])
    assert tr["mapped_generator"] == point(v["mapped_generator"])
    assert tr["K"] == h(v["shared_secret_K"])
    assert chip.result.ks_enc == h(v["ks_enc"]) and chip.result.ks_mac == h(v["ks_mac"])


# -- ICAO 9303-11 Appendix G.2: DH Generic Mapping, MODP 1024/160 ------------------------------

G2 = load("icao-9303-11-g2-dh-gm.json")


def test_g2_group_is_standardized_parameter_0() -> None:
    group = standardized(0)
    assert group.kind == "DH"
    assert (group.p, group.g, group.q) == (
        i(G2["group"]["p"]),
        i(G2["group"]["g"]),
        i(G2["group"]["q"]),
    )


def g2_transcript(final_response: str) -> list[tuple[str, str]]:
    v = G2
    return [
        (v["mse_set_at_cmd"], "9000"),
        (v["ga1_cmd"], v["ga1_rsp"]),
        (v["ga2_cmd"], v["ga2_rsp"]),
        (v["ga3_cmd"], v["ga3_rsp"]),
        (v["ga4_cmd"], final_response),
    ]


@pytest.mark.parametrize(
    "final", [G2["ga4_rsp"] + "9000", G2["ga4_rsp_variant"]], ids=["with-CAR", "token-only"]
)
def test_g2_terminal_replay(final: str) -> None:
    v = G2
    terminal = PACEProtocol(
        g1_password(),
        v["protocol_oid"],
        0,
        send_parameter_id=False,
        mapping_private_key=i(v["terminal_mapping_private_key"]),
        ephemeral_private_key=i(v["terminal_ephemeral_private_key"]),
        record=True,
    )
    transport = replay(g2_transcript(final))
    result = drive(terminal, transport)
    assert transport.remaining == 0
    tr = terminal.trace
    assert tr["k_pi"] == h(v["k_pi"])
    assert tr["nonce"] == h(v["nonce_s"])
    assert tr["terminal_mapping_public_key"] == h(v["terminal_mapping_public_key"])
    assert tr["chip_mapping_public_key"] == h(v["chip_mapping_public_key"])
    assert tr["H"] == h(v["mapping_shared_secret_h"])
    assert tr["mapped_generator"] == h(v["mapped_generator"])
    assert tr["terminal_ephemeral_public_key"] == h(v["terminal_ephemeral_public_key"])
    assert tr["K"] == h(v["shared_secret_K"])
    assert tr["ks_enc"] == h(v["ks_enc"]) and tr["ks_mac"] == h(v["ks_mac"])
    assert tr["token_input_terminal"] == h(
        v["auth_token_input_for_T_IFD (7F49 with chip ephemeral public key)"]
    )
    assert tr["token_input_chip"] == h(
        v["auth_token_input_for_T_IC (7F49 with terminal ephemeral public key)"]
    )
    assert tr["T_IFD"] == h(v["T_IFD"]) and tr["T_IC"] == h(v["T_IC"])
    with_car = final != v["ga4_rsp_variant"]
    assert result.cars == ((b"DETESTCVCA00003",) if with_car else ())
    assert result.chip_public_key == h(v["chip_ephemeral_public_key"])


def test_g2_chip_replay_token_only_variant() -> None:
    v = G2
    chip = PACEChip(
        [g1_password()],
        [(v["protocol_oid"], 0)],
        cars=(b"DETESTCVCA00003",),  # not returned: this MSE:Set AT carries no CHAT
        nonce=h(v["nonce_s"]),
        mapping_private_key=i(v["chip_mapping_private_key"]),
        ephemeral_private_key=i(v["chip_ephemeral_private_key"]),
    )
    for command, response in g2_transcript(v["ga4_rsp_variant"]):
        assert chip.handle(CommandAPDU.decode(h(command))).encode() == h(response)
    assert chip.done


# -- BSI EAC worked examples (PIN 123456) -------------------------------------------------------

BSI_EC = load("bsi-eac-worked-example-ecdh-gm.json")
BSI_DH = load("bsi-eac-worked-example-dh-gm.json")


@pytest.mark.parametrize("v", [BSI_EC, BSI_DH], ids=["ECDH", "DH"])
def test_bsi_worked_example_in_process(v: dict[str, Any]) -> None:
    oid = {"id-PACE-ECDH-GM-AES-CBC-CMAC-128": "0.4.0.127.0.7.2.2.4.2.2",
           "id-PACE-DH-GM-AES-CBC-CMAC-128": "0.4.0.127.0.7.2.2.4.1.2"}[v["protocol"]]
    assert v["password_type"] == "PIN"
    pw = PACEPassword.pin(v["password"])
    assert pw.ref == PIN
    # EF.CardAccess of the example offers this OID with this parameter id
    assert core.ObjectIdentifier(oid).dump().hex().upper() in v["ef_card_access"]
    terminal = PACEProtocol(
        pw,
        oid,
        v["parameter_id"],
        mapping_private_key=i(v["terminal_mapping_private_key"]),
        ephemeral_private_key=i(v["terminal_ephemeral_private_key"]),
        record=True,
    )
    chip = PACEChip(
        [pw],
        [(oid, v["parameter_id"])],
        nonce=h(v["nonce_s"]),
        mapping_private_key=i(v["chip_mapping_private_key"]),
        ephemeral_private_key=i(v["chip_ephemeral_private_key"]),
        record=True,
    )
    result = drive(terminal, chip_transport(chip))
    tr, ct = terminal.trace, chip.trace
    assert tr["encrypted_nonce"] == ct["encrypted_nonce"] == h(v["encrypted_nonce_z"])
    assert tr["nonce"] == h(v["nonce_s"])
    assert tr["terminal_mapping_public_key"] == h(v["terminal_mapping_public_key"])
    assert tr["chip_mapping_public_key"] == h(v["chip_mapping_public_key"])
    h_key = next(k for k in v if k.lower() == "mapping_shared_secret_h")
    assert tr["H"] == ct["H"] == h(v[h_key])
    assert tr["mapped_generator"] == ct["mapped_generator"] == h(v["mapped_generator"])
    # the BSI DH example prints the terminal key with a leading 00 (129 bytes): compare values
    assert int.from_bytes(tr["terminal_ephemeral_public_key"], "big") == i(
        v["terminal_ephemeral_public_key"]
    )
    assert tr["chip_ephemeral_public_key"] == h(v["chip_ephemeral_public_key"])
    assert tr["K"] == ct["K"] == h(v["shared_secret_K"])
    assert result.ks_enc == h(v["ks_enc"]) and result.ks_mac == h(v["ks_mac"])
    assert tr["T_IFD"] == h(v["T_PCD"]) and tr["T_IC"] == h(v["T_PICC"])
    assert chip.result is not None and chip.result.ks_mac == result.ks_mac


class chip_transport:
    """In-process transport to a chip-side protocol."""

    def __init__(self, chip: PACEChip) -> None:
        self.chip = chip

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return self.chip.handle(CommandAPDU.decode(command.encode()))


# -- ICAO 9303-11 Appendix H: Integrated Mapping ---------------------------------------------

H1 = load("icao-9303-11-h1-ecdh-im.json")
H2 = load("icao-9303-11-h2-dh-im.json")
# The examples' K_pi is KDF_pi("123456") while MSE:Set AT names the MRZ (83 01 01).
IM_PASSWORD = PACEPassword(MRZ, b"123456")


def test_im_prf_constants_and_password() -> None:
    assert IM_PASSWORD.key("AES-128") == h(H1["k_pi"]) == h(H2["k_pi"])
    consts = H1["im_prng_constants"]
    from idcard.protocols.pace import algorithms

    assert h(consts["c0_128"]) == algorithms._C0_128 and h(consts["c1_128"]) == algorithms._C1_128
    assert h(consts["c0_256"]) == algorithms._C0_256 and h(consts["c1_256"]) == algorithms._C1_256


@pytest.mark.parametrize("v", [H1, H2], ids=["ECDH", "DH"])
def test_im_prf_and_mapping(v: dict[str, Any]) -> None:
    domain = standardized(v["parameter_id"])
    r = pseudo_random(h(v["nonce_s"]), h(v["terminal_nonce_t"]), "AES-128", domain.p)
    assert r == h(v["prng_output_R_s_t"])
    assert int.from_bytes(r, "big") % domain.p == i(v["R_reduced_mod_p"])
    assert domain.integrated_map(int.from_bytes(r, "big")) == point(v["mapped_generator"])


@pytest.mark.parametrize("v", [H1, H2], ids=["ECDH", "DH"])
@pytest.mark.parametrize("ga2_answer", ["7C0282009000", "9000"], ids=["empty-82", "no-data"])
def test_im_terminal_replay(v: dict[str, Any], ga2_answer: str) -> None:
    a = v["apdus"]
    transport = replay(
        [
            (a["mse_set_at_cmd"], "9000"),
            (a["ga1_cmd"], a["ga1_rsp"]),
            (a["ga2_cmd (terminal nonce t, tag 81)"], ga2_answer),
            (a["ga3_cmd"], a["ga3_rsp"]),
            (a["ga4_cmd"], a["ga4_rsp"]),
        ]
    )
    terminal = PACEProtocol(
        IM_PASSWORD,
        v["protocol_oid"],
        v["parameter_id"],
        send_parameter_id=False,
        terminal_nonce=h(v["terminal_nonce_t"]),
        ephemeral_private_key=i(v["terminal_ephemeral_private_key"]),
        record=True,
    )
    result = drive(terminal, transport)
    assert transport.remaining == 0
    tr = terminal.trace
    assert tr["nonce"] == h(v["nonce_s"])
    assert tr["pseudo_random"] == h(v["prng_output_R_s_t"])
    assert tr["mapped_generator"] == point(v["mapped_generator"])
    assert tr["terminal_ephemeral_public_key"] == h(v["terminal_ephemeral_public_key"])
    assert tr["chip_ephemeral_public_key"] == h(v["chip_ephemeral_public_key"])
    assert tr["K"] == h(v["shared_secret_K"])
    assert result.ks_enc == h(v["ks_enc"]) and result.ks_mac == h(v["ks_mac"])
    assert tr["T_IFD"] == h(v["T_IFD"]) and tr["T_IC"] == h(v["T_IC"])
    assert result.mapping == "IM" and result.chip_mapping_public_key is None


@pytest.mark.parametrize("v", [H1, H2], ids=["ECDH", "DH"])
def test_im_chip_side_first_steps(v: dict[str, Any]) -> None:
    a = v["apdus"]
    chip = PACEChip([IM_PASSWORD], [(v["protocol_oid"], v["parameter_id"])],
                    nonce=h(v["nonce_s"]), record=True)
    assert chip.handle(CommandAPDU.decode(h(a["mse_set_at_cmd"]))).encode() == h("9000")
    assert chip.handle(CommandAPDU.decode(h(a["ga1_cmd"]))).encode() == h(a["ga1_rsp"])
    answer = chip.handle(CommandAPDU.decode(h(a["ga2_cmd (terminal nonce t, tag 81)"])))
    assert answer.encode() == h("7C0282009000")
    assert chip.trace["mapped_generator"] == point(v["mapped_generator"])


# -- ICAO 9303-11 Appendix I: Chip Authentication Mapping -------------------------------------

CAM = load("icao-9303-11-i-cam.json")


def cam_pk_ic() -> bytes:
    """PK_IC out of the published ChipAuthenticationPublicKeyInfo (its BIT STRING)."""
    info = core.Sequence.load(h(CAM["chip_authentication_public_key_info_PK_IC"]))
    spki = core.Sequence.load(info[1].dump())
    bits = spki[1].contents
    assert bits[0] == 0  # no unused bits
    return bytes(bits[1:])


@pytest.mark.parametrize(("mse_key", "send_id"),
                         [("mse_set_at_cmd", False), ("mse_set_at_cmd_variant_HEAD", True)])
def test_cam_terminal_replay(mse_key: str, send_id: bool) -> None:
    v = CAM
    transport = replay(
        [
            (v[mse_key], "9000"),
            (v["ga1_cmd"], v["ga1_rsp"]),
            (v["ga2_cmd"], v["ga2_rsp"]),
            (v["ga3_cmd"], v["ga3_rsp"]),
            (v["ga4_cmd"], v["ga4_rsp"]),
        ]
    )
    pk_ic = cam_pk_ic()
    terminal = PACEProtocol(
        PACEPassword.from_mrz_info(v["mrz_info"]),
        v["protocol_oid"],
        v["parameter_id"],
        send_parameter_id=send_id,
        chip_ca_public_key=pk_ic,
        mapping_private_key=i(v["terminal_mapping_private_key"]),
        ephemeral_private_key=i(v["terminal_ephemeral_private_key"]),
        record=True,
    )
    result = drive(terminal, transport)
    assert transport.remaining == 0
    tr = terminal.trace
    assert tr["nonce"] == h(v["nonce_s"])
    assert tr["terminal_mapping_public_key"] == point(v["terminal_mapping_public_key"])
    assert tr["chip_mapping_public_key"] == point(v["chip_mapping_public_key"])
    assert tr["mapped_generator"] == point(v["mapped_generator"])
    assert tr["terminal_ephemeral_public_key"] == point(v["terminal_ephemeral_public_key"])
    assert tr["K"] == h(v["shared_secret_K"])
    assert result.ks_enc == h(v["ks_enc"]) and result.ks_mac == h(v["ks_mac"])
    assert tr["T_IFD"] == h(v["ga4_sliced"]["T_IFD"]) and tr["T_IC"] == h(v["ga4_sliced"]["T_IC"])
    assert tr["A_IC"] == h(v["ga4_sliced"]["A_IC_encrypted_chip_authentication_data"])
    assert result.chip_authentication_data == h(v["ca_ic_decrypted_chip_authentication_data"])
    assert result.chip_authenticated is True
    assert verify_chip_authentication(result, pk_ic)
    other = standardized(13).public_key(12345)
    assert not verify_chip_authentication(result, other)
