"""The PIV face of the e-signature key (docs/chip.md, "PIV face"; NIST SP 800-73-4).

A PIV card application (SP 800-73-4 Part 2 §3) over the *same* key, certificate, PIN and PUK
as the e-signature application (:mod:`idcard.chip.esign_app`), so that OpenSC's PIV driver —
and through it any PKCS#11 application — signs with the holder's key without a driver of ours:

* SELECT by the PIV AID (full, or right-truncated to the 9 bytes OpenSC sends) answers the
  application property template (Part 2 §3.1.1, Table 3);
* GET DATA ``00 CB 3F FF`` of the discovery object (``7E``), the CCC, the CHUID and the X.509
  certificate for digital signature (slot 9C: the e-signature application's EF ``C000``);
* VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER of the PIV application PIN (key
  reference ``80``) and PUK (``81``) are the e-signature application's own commands on its PIN
  (``81``) and PUK (``82``): one value, one retry counter, one verified status;
* GENERAL AUTHENTICATE ``00 87 alg 9C`` with ``7C { 82 00, 81 challenge }`` signs with the
  e-signature key (ECC P-256 ``11``, P-384 ``14``: DER ECDSA; RSA 2048 ``07``, 3072 ``05``: the
  host-padded block, raw) only after the PIN was verified in the current session;
* responses longer than the short Le are chained with ``61xx`` and GET RESPONSE, commands with
  CLA ``10`` (ISO/IEC 7816-4 §5.1.1.1), as OpenSC uses both.

No secure messaging on this face (contact interface): see docs/chip.md for the threat model.
:class:`PIVApplication` is driven by :class:`~idcard.chip.emrtd.VirtualChip` while the PIV AID is
the selected application; it does no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.chip.state import ESIGN, ChipState
from idcard.errors import DecodeError, EncodeError
from idcard.esign.protocol import FID_CERTIFICATE, PIN_REF, PUK_REF, encode_public_key

__all__ = [
    "ALG_ECC_P256",
    "ALG_ECC_P384",
    "ALG_RSA_2048",
    "ALG_RSA_3072",
    "KEY_DIGITAL_SIGNATURE",
    "PIV_AID",
    "PIV_AID_SHORT",
    "PIV_PIN_REF",
    "PIV_PUK_REF",
    "TAG_CCC",
    "TAG_CERT_9C",
    "TAG_CHUID",
    "TAG_DISCOVERY",
    "PIVApplication",
    "application_property_template",
    "fasc_n",
]

PIV_AID = bytes.fromhex("A000000308000010000100")
"""The PIV card application's AID, version 01 00 (SP 800-73-4 Part 1 §2.2)."""
PIV_AID_SHORT = PIV_AID[:9]
"""The AID right-truncated to the PIX without version, as OpenSC selects it (Part 2 §3.1.1)."""
PIV_PIN_REF = 0x80
"""The PIV card application PIN (Part 1 Table 4)."""
PIV_PUK_REF = 0x81
"""The PIN unblocking key (Part 1 Table 4)."""
KEY_DIGITAL_SIGNATURE = 0x9C
"""The digital signature key (Part 1 Table 4b)."""

ALG_RSA_3072, ALG_RSA_2048 = 0x05, 0x07
ALG_ECC_P256, ALG_ECC_P384 = 0x11, 0x14
"""Cryptographic mechanism identifiers (SP 800-78-4 Table 6-2)."""

TAG_DISCOVERY = b"\x7e"
TAG_CCC = bytes.fromhex("5FC107")
TAG_CHUID = bytes.fromhex("5FC102")
TAG_CERT_9C = bytes.fromhex("5FC10A")
"""BER-TLV tags of the data objects served (Part 1 Table 3)."""

_APPLICATION_LABEL = b"idkarta e-signature (PIV)"
_GET_RESPONSE = 0xC0
_SHORT_LE = 256

_HASH_BY_SIZE: dict[int, hashes.HashAlgorithm] = {32: hashes.SHA256(), 48: hashes.SHA384()}

# FASC-N characters (TIG SCEPACS §6): 4 data bits, least significant first, and odd parity.
_SS, _FS, _ES = 0xB, 0xD, 0xF


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


def fasc_n(
    agency: str = "9999", system: str = "9999", credential: str = "999999", series: str = "0",
    issue: str = "1", person: str = "0000000000", category: str = "3", organization: str = "0000",
    association: str = "1",
) -> bytes:  # fmt: skip
    """The 25-byte FASC-N (TIG SCEPACS v2.3 §6). The defaults are the FASC-N of a card not issued
    by a U.S. federal agency (agency code 9999, as PIV-I cards carry): the GUID of the CHUID
    identifies the card instead."""
    fields = (agency, system, credential, series, issue)
    if not all(f.isascii() and f.isdigit() for f in (*fields, person, category, organization,
                                                      association)):  # fmt: skip
        raise EncodeError("FASC-N fields are decimal digits")
    lengths = [len(f) for f in (*fields, person, category, organization, association)]
    if lengths != [4, 4, 6, 1, 1, 10, 1, 4, 1]:
        raise EncodeError("FASC-N field lengths are 4, 4, 6, 1, 1, 10, 1, 4, 1")
    chars = [_SS]
    for f in fields:
        chars += [int(d) for d in f]
        chars.append(_FS)
    chars += [int(d) for d in person + category + organization + association]
    chars.append(_ES)
    lrc = 0
    for c in chars:
        lrc ^= c
    chars.append(lrc)
    bits = ""
    for c in chars:
        data = "".join(str((c >> i) & 1) for i in range(4))
        bits += data + ("0" if data.count("1") % 2 else "1")
    return int(bits, 2).to_bytes(25, "big")


def application_property_template(algorithms: Sequence[int]) -> bytes:
    """The answer to SELECT (Part 2 Table 3): the PIX, the tag allocation authority, a label,
    and the mechanisms the card offers (``AC { 80 alg …, 06 00 }``)."""
    return tlv.encode(0x61, [
        tlv.encode(0x4F, PIV_AID[5:]),
        tlv.encode(0x79, tlv.encode(0x4F, PIV_AID[:5])),
        tlv.encode(0x50, _APPLICATION_LABEL),
        tlv.encode(0xAC, [*(tlv.encode(0x80, bytes([a])) for a in algorithms),
                          tlv.encode(0x06, b"\x00")]),
    ])  # fmt: skip


def _discovery() -> bytes:
    """Discovery object (Part 1 §3.3.2): the AID and the PIN usage policy ``40 00`` (only the
    PIV application PIN; no global PIN, no OCC)."""
    return tlv.encode(0x7E, [tlv.encode(0x4F, PIV_AID), tlv.encode(0x5F2F, b"\x40\x00")])


class PIVApplication:
    """The PIV commands over the chip's persistent ``state`` (see module doc).

    ``pin`` handles the PIN commands: the e-signature application's handler, called with its own
    key references, so that both faces share one PIN, one counter and one verified status;
    ``pin_verified`` reads that status."""

    def __init__(
        self,
        state: ChipState,
        *,
        pin: Callable[[CommandAPDU], ResponseAPDU],
        pin_verified: Callable[[], bool],
    ) -> None:
        self.state = state
        self._pin = pin
        self._pin_verified = pin_verified
        self.deselect()

    def deselect(self) -> None:
        """Power cycle, reset or another SELECT: pending chained data and responses are gone
        (the verified PIN is the e-signature application's status, ended by the chip)."""
        self._chain: tuple[int, int, int, bytes] | None = None
        self._pending = b""

    @property
    def available(self) -> bool:
        """The face answers SELECT when the e-signature application holds a key."""
        return self.state.esign_key is not None

    def select(self) -> ResponseAPDU:
        self.deselect()
        return ResponseAPDU(application_property_template(self._algorithms()))

    def _algorithms(self) -> list[int]:
        key = self.state.esign_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return [ALG_ECC_P384 if key.curve.key_size == 384 else ALG_ECC_P256]
        if isinstance(key, rsa.RSAPrivateKey):
            return [ALG_RSA_3072 if key.key_size == 3072 else ALG_RSA_2048]
        return []

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        """One command while the PIV application is selected (SELECT is the chip's)."""
        if command.ins == _GET_RESPONSE and command.cla == 0x00:
            return self._get_response(command)
        self._pending = b""
        if command.cla not in (0x00, 0x10):
            self._chain = None
            return _sw(StatusWord.CLA_NOT_SUPPORTED)
        head = (command.ins, command.p1, command.p2)
        data = bytes(command.data)
        if self._chain is not None:
            if self._chain[:3] == head:
                data = self._chain[3] + data
            self._chain = None
        if command.cla == 0x10:
            if command.ins != 0x87:
                return _sw(0x6884)  # command chaining not supported for this command
            self._chain = (*head, data)
            return ResponseAPDU(b"")
        try:
            return self._chained_out(self._command(command, data), command.ne)
        except (DecodeError, EncodeError):
            return _sw(StatusWord.WRONG_DATA)

    def _command(self, command: CommandAPDU, data: bytes) -> ResponseAPDU:
        ins = command.ins
        if ins == 0xCB:
            return self._get_data(command, data)
        if ins in (0x20, 0x24, 0x2C):
            return self._pin_command(command)
        if ins == 0x87:
            return self._general_authenticate(command, data)
        return _sw(StatusWord.INS_NOT_SUPPORTED)

    def _chained_out(self, response: ResponseAPDU, ne: int | None) -> ResponseAPDU:
        """A response longer than a short Le: the first Ne bytes and ``61xx`` (ISO/IEC 7816-4
        §5.3.4); the rest comes with GET RESPONSE."""
        limit = _SHORT_LE if ne is None else ne
        if response.sw != StatusWord.OK or len(response.data) <= limit:
            return response
        self._pending = response.data[limit:]
        left = len(self._pending)
        return ResponseAPDU(response.data[:limit], 0x6100 | (left if left < _SHORT_LE else 0))

    def _get_response(self, command: CommandAPDU) -> ResponseAPDU:
        if (command.p1, command.p2) != (0x00, 0x00):
            return _sw(StatusWord.INCORRECT_P1P2)
        if not self._pending:
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        pending, self._pending = self._pending, b""
        return self._chained_out(ResponseAPDU(pending), command.ne or _SHORT_LE)

    # -- data objects --------------------------------------------------------------------------

    def _get_data(self, command: CommandAPDU, data: bytes) -> ResponseAPDU:
        """``00 CB 3F FF`` with ``5C`` tag list of one tag (Part 2 §3.1.2)."""
        if (command.p1, command.p2) != (0x3F, 0xFF):
            return _sw(StatusWord.INCORRECT_P1P2)
        tag = tlv.decode_one(data, expected_tag=0x5C, allow_padding=False).value
        content = self.data_object(tag)
        if content is None:
            return _sw(StatusWord.FILE_NOT_FOUND)
        return ResponseAPDU(content)

    def data_object(self, tag: bytes) -> bytes | None:
        """The BER-TLV data object with ``tag`` as GET DATA returns it, or None when absent."""
        if tag == TAG_DISCOVERY:
            return _discovery()
        if tag == TAG_CCC:
            return tlv.encode(0x53, self._ccc())
        if tag == TAG_CHUID:
            return tlv.encode(0x53, self._chuid())
        if tag == TAG_CERT_9C:
            cert = self.certificate()
            if cert is None:
                return None
            return tlv.encode(0x53, [tlv.encode(0x70, cert), tlv.encode(0x71, b"\x00"),
                                     tlv.encode(0xFE, b"")])  # fmt: skip
        return None

    def certificate(self) -> bytes | None:
        """The holder's signature certificate: the e-signature application's EF C000, once
        completely written."""
        content = self.state.files[ESIGN].get(FID_CERTIFICATE)
        if content is None or self.state.unwritten.get(ESIGN, {}).get(FID_CERTIFICATE):
            return None
        return bytes(content)

    def _card_id(self) -> bytes:
        """16 bytes that identify this card's key: SHA-256 of its public key, truncated."""
        key = self.state.esign_key
        assert key is not None
        return hashlib.sha256(encode_public_key(key.public_key())).digest()[:16]

    def _ccc(self) -> bytes:
        """Card Capability Container (Part 1 §3.1.1): card identifier ``F0`` (GSC-RID, the
        manufacturer ID FF, card type 02 = Java Card-like, 14 bytes of the card ID), versions and
        empty optional elements."""
        card_id = bytes.fromhex("A000000116FF02") + self._card_id()[:14]
        parts = [(0xF0, card_id), (0xF1, b"\x21"), (0xF2, b"\x21"), (0xF3, b""), (0xF4, b"\x00"),
                 (0xF5, b"\x10"), (0xF6, b""), (0xF7, b""), (0xFA, b""), (0xFB, b""), (0xFC, b""),
                 (0xFD, b""), (0xFE, b"")]  # fmt: skip
        return b"".join(tlv.encode(t, v) for t, v in parts)

    def _chuid(self) -> bytes:
        """CHUID (Part 1 §3.1.2): FASC-N of a non-federal issuer, GUID = card ID, expiry of the
        holder's certificate (or none), an empty issuer signature (the CHUID is not signed:
        trust comes from the e-signature certificate chain), error detection code."""
        expiry = b"99991231"
        cert = self.certificate()
        if cert is not None:
            try:
                not_after = x509.load_der_x509_certificate(cert).not_valid_after_utc
                expiry = not_after.strftime("%Y%m%d").encode("ascii")
            except ValueError:
                pass
        parts = [(0x30, fasc_n()), (0x34, self._card_id()), (0x35, expiry), (0x3E, b""),
                 (0xFE, b"")]  # fmt: skip
        return b"".join(tlv.encode(t, v) for t, v in parts)

    # -- PIN -----------------------------------------------------------------------------------

    def _pin_command(self, command: CommandAPDU) -> ResponseAPDU:
        """VERIFY (P1 00, or FF to reset the status), CHANGE REFERENCE DATA (P1 00) of the PIN
        ``80`` or PUK ``81``, RESET RETRY COUNTER (P1 00, PUK ‖ new PIN) of the PIN: the
        e-signature application's commands on its PIN ``81`` / PUK ``82``."""
        ins, p1, p2 = command.ins, command.p1, command.p2
        refs = {PIV_PIN_REF: PIN_REF}
        if ins == 0x24:
            refs[PIV_PUK_REF] = PUK_REF
        if p2 not in refs:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if p1 != 0x00 and not (ins == 0x20 and p1 == 0xFF):
            return _sw(StatusWord.INCORRECT_P1P2)
        return self._pin(CommandAPDU(0x00, ins, p1, refs[p2], command.data, command.ne))

    # -- signing -------------------------------------------------------------------------------

    def _general_authenticate(self, command: CommandAPDU, data: bytes) -> ResponseAPDU:
        """``00 87 alg 9C`` with ``7C { 82 00, 81 challenge }`` (Part 2 §3.2.4, Appendix A.4):
        the signature in ``7C { 82 … }``."""
        key = self.state.esign_key
        if command.p2 != KEY_DIGITAL_SIGNATURE or key is None:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if command.p1 not in self._algorithms():
            return _sw(StatusWord.INCORRECT_P1P2)
        template = tlv.decode_one(data, expected_tag=0x7C, allow_padding=False).children()
        tags = [item.tag for item in template]
        response, challenge = tlv.find(template, 0x82), tlv.find(template, 0x81)
        if sorted(tags) != [0x81, 0x82] or response is None or response.value:
            return _sw(StatusWord.WRONG_DATA)
        assert challenge is not None
        verified = self._pin_verified()
        status = self._pin(CommandAPDU(0x00, 0x20, 0x00, PIN_REF))  # the PIN's state, no try
        if status.sw == StatusWord.AUTH_METHOD_BLOCKED:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        if not verified:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        signature = self._sign(key, challenge.value)
        if signature is None:
            return _sw(StatusWord.WRONG_DATA)
        return ResponseAPDU(tlv.encode(0x7C, tlv.encode(0x82, signature)))

    @staticmethod
    def _sign(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, value: bytes) -> bytes | None:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size = (key.curve.key_size + 7) // 8
            if not 1 <= len(value) <= size:
                return None  # the host truncates a longer hash (SP 800-73-4 Part 2 §3.2.4)
            padded = value.rjust(size, b"\x00")
            return key.sign(padded, ec.ECDSA(Prehashed(_HASH_BY_SIZE[size])))
        k = (key.key_size + 7) // 8
        m = int.from_bytes(value, "big")
        n = key.public_key().public_numbers().n
        if len(value) != k or m >= n:
            return None
        return pow(m, key.private_numbers().d, n).to_bytes(k, "big")
