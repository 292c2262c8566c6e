"""Strict, eager loading of asn1crypto values: every failure becomes a DecodeError.

asn1crypto parses lazily, so a malformed inner value would only fail when first touched —
possibly far from the decoder, as a bare ValueError. :func:`load_strict` parses every level
up front (``ANY`` values only as far as their TLV header) and wraps whatever asn1crypto raises.
"""

from __future__ import annotations

from typing import TypeVar

from asn1crypto import core

from idcard import tlv
from idcard.errors import DecodeError, IdkartaError

__all__ = ["algorithm_identifier_der", "force_parse", "load_strict", "split_algorithm_identifier"]

_A = TypeVar("_A", bound=core.Asn1Value)


def force_parse(value: core.Asn1Value) -> None:
    """Walk every child of ``value`` so that asn1crypto parses it now."""
    if isinstance(value, core.Any | core.Void):
        return  # ANY stays undecoded: its owner reads its bytes (never Any.dump/.native)
    if isinstance(value, core.Choice):
        force_parse(value.chosen)
    elif isinstance(value, core.Sequence | core.Set):
        for name in value:
            force_parse(value[name])
        declared = len(type(value)._fields or ())
        if value.children is not None and len(value.children) > declared:
            # asn1crypto keeps unknown trailing elements; none of our structures is extensible.
            raise DecodeError(f"{type(value).__name__} has {len(value.children)} elements")
    elif isinstance(value, core.SequenceOf | core.SetOf):
        for child in value:
            force_parse(child)
    else:
        _ = value.native  # octet strings stay bytes: their contents are parsed by their owner


def load_strict(spec: type[_A], der: bytes, *, offset: int | None = None, what: str = "") -> _A:
    """Load ``der`` as ``spec`` (no trailing bytes) and parse it fully; DecodeError on failure."""
    try:
        value: _A = spec.load(bytes(der), strict=True)
        force_parse(value)
        return value
    except DecodeError as exc:
        if exc.offset is None and offset is not None:
            raise DecodeError(exc.reason, offset=offset) from exc
        raise
    except IdkartaError:
        raise
    except Exception as exc:
        name = what or spec.__name__
        raise DecodeError(f"{name}: {type(exc).__name__}: {exc}", offset=offset) from exc


def split_algorithm_identifier(der: bytes) -> tuple[str, bytes | None]:
    """Dotted OID and parameters DER (None when absent) of a DER AlgorithmIdentifier.

    Read with the TLV codec, so parameters of any shape come back byte for byte (asn1crypto
    would re-parse an ANY generically, which fails for some valid encodings).
    """
    outer = tlv.decode_one(der, allow_padding=False)
    if outer.tag != 0x30:
        raise DecodeError("AlgorithmIdentifier must be a SEQUENCE", offset=0)
    oid, end = tlv.read_tlv(outer.value, 0, base_offset=outer.value_offset)
    if oid.tag != 0x06:
        raise DecodeError("AlgorithmIdentifier must start with an OID", offset=oid.offset)
    dotted = load_strict(core.ObjectIdentifier, oid.encode(), offset=oid.offset).dotted
    rest = outer.value[end:]
    if not rest:
        return dotted, None
    params, params_end = tlv.read_tlv(rest, 0, base_offset=outer.value_offset + end)
    if params_end != len(rest):
        raise DecodeError("bytes after AlgorithmIdentifier parameters", offset=params.offset)
    return dotted, bytes(rest)


def algorithm_identifier_der(algorithm: str, parameters: bytes | None) -> bytes:
    """DER AlgorithmIdentifier from a dotted OID and the parameters' DER (or None)."""
    oid = bytes(core.ObjectIdentifier(algorithm).dump())
    return tlv.encode(0x30, oid + (parameters or b""))
