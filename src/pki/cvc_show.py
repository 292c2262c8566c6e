"""``idkarta pki cvc-show``: a CV certificate or request described for people (BSI TR-03110-3).

:func:`describe_cvc` decodes a card verifiable certificate (TR-03110-3 §C.1) or certificate
request (§C.2) into a dict of readable values (role and rights from the CHAT, §C.4; the public
key with its id-TA algorithm, §A.6.2 / §D.3); :func:`describe_text` lays that dict out as text.
"""

from __future__ import annotations

from typing import Any

from idcard.cvc import ID_AT, ID_IS, ID_ST, CVCertificate, CVPublicKey, CVRequest, Role
from idcard.errors import DecodeError
from pki.cvca import ta_algorithm_name
from pki.errors import PKIError

__all__ = ["describe_cvc", "describe_text"]

_ROLE_NAMES = {
    Role.CVCA: "CVCA", Role.DV_DOMESTIC: "DV (official domestic)",
    Role.DV_FOREIGN: "DV (non-official / foreign)", Role.TERMINAL: "terminal",
}  # fmt: skip
_TERMINAL_TYPES = {ID_IS: "id-IS (Inspection System)", ID_AT: "id-AT (Authentication Terminal)",
                   ID_ST: "id-ST (Signature Terminal)"}  # fmt: skip


def _describe_key(key: CVPublicKey) -> dict[str, Any]:
    out: dict[str, Any] = {"algorithm": ta_algorithm_name(key.oid), "oid": key.oid}
    if key.is_ec:
        out["domain_parameters"] = key.has_domain_parameters
        out["curve"] = key.curve().name if key.has_domain_parameters else "inherited from CVCA"
        out["point"] = key.get(0x86) or b""
    else:
        out["modulus_bits"] = int.from_bytes(key.get(0x81) or b"", "big").bit_length()
        out["exponent"] = int.from_bytes(key.get(0x82) or b"", "big")
    return out


def describe_cvc(data: bytes) -> dict[str, Any]:
    """A CV certificate or request as a dict of readable values; PKIError if it is neither."""
    try:
        cert: CVCertificate | None = CVCertificate.decode(data)
    except DecodeError:
        cert = None
    if cert is not None:
        chat, body = cert.chat, cert.body
        rights = [name for name, ok in (("read DG3", chat.read_dg3), ("read DG4", chat.read_dg4))
                  if ok]  # fmt: skip
        return {
            "kind": "certificate", "profile_identifier": body.profile_identifier,
            "car": cert.car, "chr": cert.chr, "self_signed": cert.car == cert.chr,
            "role": _ROLE_NAMES[chat.role],
            "terminal_type": _TERMINAL_TYPES.get(chat.oid, chat.oid),
            "authorization": chat.authorization, "rights": rights,
            "public_key": _describe_key(cert.public_key),
            "effective_date": body.effective_date.isoformat(),
            "expiration_date": body.expiration_date.isoformat(),
            "extensions": body.extensions, "signature_bytes": len(cert.signature),
        }  # fmt: skip
    try:
        request = CVRequest.decode(data)
        inner_ok = request.verify_inner()
        key = _describe_key(request.public_key)
    except DecodeError as exc:
        raise PKIError(f"neither a CV certificate nor a request: {exc}") from None
    return {
        "kind": "request", "profile_identifier": request.profile_identifier,
        "car": request.car, "chr": request.chr, "public_key": key,
        "inner_signature_valid": inner_ok, "authenticated": request.outer_car is not None,
        "outer_car": request.outer_car, "extensions": request.extensions,
    }  # fmt: skip


def describe_text(info: dict[str, Any]) -> str:
    """:func:`describe_cvc`'s dict as aligned text lines."""
    key = info["public_key"]
    lines = [f"CV {info['kind']} {info['chr']}"]

    def row(name: str, value: object) -> None:
        lines.append(f"  {name:<16}{value}")

    row("CAR", info["car"] if info["car"] is not None else "-")
    row("CHR", info["chr"])
    if info["kind"] == "certificate":
        row("role", info["role"] + (", self-signed" if info["self_signed"] else ""))
        row("terminal type", info["terminal_type"])
        auth = info["authorization"].hex().upper()
        if info["terminal_type"].startswith("id-IS"):
            auth += f" ({', '.join(info['rights']) or 'no rights'})"
        row("authorization", auth)
    row("public key", key["algorithm"])
    if "curve" in key:
        row("curve", key["curve"])
    else:
        row("modulus", f"{key['modulus_bits']} bits, e = {key['exponent']}")
    if info["kind"] == "certificate":
        row("effective", info["effective_date"])
        row("expires", info["expiration_date"])
        row("signature", f"{info['signature_bytes']} bytes")
    else:
        row("self-signature", "valid" if info["inner_signature_valid"] else "INVALID")
        row("outer CAR", info["outer_car"] or "- (not authenticated)")
    if info["extensions"] is not None:
        row("extensions", info["extensions"].hex().upper())
    row("profile", info["profile_identifier"])
    return "\n".join(lines)
