"""Secure messaging throughput: wrap + unwrap of READ BINARY exchanges, AES-128.

Compares :class:`idcard.sm.SecureChannel` (terminal wrap of the command, chip unwrap, chip wrap
of a 223-byte response, terminal unwrap) with the bare cryptography work of the same exchange
done as efficiently as ``cryptography``'s ordinary API allows (the BASELINE: one reused ECB
encryptor for the IVs = E(K, SSC), one prepared CMAC context copied per MAC, an AES-CBC context
per message with its IV), and prints the ratio (target >= 0.7). For information it also times
the very primitive calls the channel makes (one CBC encryptor and one CBC decryptor chained
across the session, no context per message): that ratio is the channel's own Python overhead.
Run: ``.venv/bin/python -m benchmarks.bench_sm``.
"""

from __future__ import annotations

import os
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from benchmarks._common import best_interleaved
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.sm import SecureChannel, pad

N = 1000
SIZE = 223
TARGET = 0.7


def bench_sm(payload: bytes, enc: bytes, mac: bytes) -> float:
    terminal = SecureChannel.from_keys("AES-128", enc, mac)
    chip = SecureChannel.from_keys("AES-128", enc, mac)
    response = ResponseAPDU(payload)
    commands = [CommandAPDU(0x00, 0xB0, i >> 8 & 0x7F, i & 0xFF, ne=SIZE) for i in range(N)]
    start = time.perf_counter()
    for command in commands:
        chip.unwrap_command(terminal.wrap(command))
        plain = terminal.unwrap(chip.wrap_response(response))
        assert plain.data == payload
    return time.perf_counter() - start


def _inputs(payload: bytes) -> tuple[bytes, bytes, bytes]:
    return pad(b"\x0c\xb0\x00\x00", 16) + b"\x97\x01\xdf", pad(payload, 16), b"\x87\x81\xe1\x01"


def bench_raw(payload: bytes, enc: bytes, mac: bytes) -> float:
    """BASELINE, the same primitive work: 4 MACs, 2 IVs, encrypt + decrypt of the padded
    payload; contexts reused wherever ``cryptography`` lets them be."""
    aes = algorithms.AES(enc)
    ecb = Cipher(aes, modes.ECB()).encryptor()  # noqa: S305 - IV = E(K, SSC)
    cmac = CMAC(algorithms.AES(mac))
    header, padded, do87 = _inputs(payload)
    start = time.perf_counter()
    for i in range(N):
        ssc = i.to_bytes(16, "big")
        for _ in range(2):  # command MAC by terminal and chip
            c = cmac.copy()
            c.update(pad(ssc + header, 16))
            c.finalize()
        enc_ctx = Cipher(aes, modes.CBC(ecb.update(ssc))).encryptor()
        crypt = enc_ctx.update(padded) + enc_ctx.finalize()
        for _ in range(2):  # response MAC by chip and terminal
            c = cmac.copy()
            c.update(pad(ssc + do87 + crypt + b"\x99\x02\x90\x00", 16))
            c.finalize()
        dec = Cipher(aes, modes.CBC(ecb.update(ssc))).decryptor()
        dec.update(crypt)
        dec.finalize()
    return time.perf_counter() - start


def bench_same_calls(payload: bytes, enc: bytes, mac: bytes) -> float:
    """For information: the primitive calls the channel itself makes (no fresh contexts)."""
    aes = algorithms.AES(enc)
    ecb = Cipher(aes, modes.ECB()).encryptor()  # noqa: S305 - IV = E(K, SSC)
    cbc = Cipher(aes, modes.CBC(bytes(16))).encryptor()
    cbc_dec = Cipher(aes, modes.CBC(bytes(16))).decryptor()
    chain = 0
    cmac = CMAC(algorithms.AES(mac))
    header, padded, do87 = _inputs(payload)
    start = time.perf_counter()
    for i in range(N):
        ssc = i.to_bytes(16, "big")
        for _ in range(2):
            c = cmac.copy()
            c.update(pad(ssc + header, 16))
            c.finalize()
        out = cbc.update((i ^ chain).to_bytes(16, "big") + padded)
        chain = int.from_bytes(out[-16:], "big")
        crypt = out[16:]
        for _ in range(2):
            c = cmac.copy()
            c.update(pad(ssc + do87 + crypt + b"\x99\x02\x90\x00", 16))
            c.finalize()
        cbc_dec.update(ecb.update(ssc) + crypt)
    return time.perf_counter() - start


def main() -> int:
    payload, enc, mac = os.urandom(SIZE), os.urandom(16), os.urandom(16)
    sm, raw, same = best_interleaved(  # best of 15: the machine is shared
        15,
        lambda: bench_sm(payload, enc, mac),
        lambda: bench_raw(payload, enc, mac),
        lambda: bench_same_calls(payload, enc, mac),
    )
    print(f"SecureChannel: {N} READ BINARY exchanges of {SIZE} bytes (AES-128) in {sm:.4f} s "
          f"({N / sm:.0f}/s)")  # fmt: skip
    print(f"BASELINE raw cryptography AES-CBC + CMAC, same work: {raw:.4f} s ({N / raw:.0f}/s)")
    print(f"(information) raw, the channel's own primitive calls: {same:.4f} s; "
          f"ratio {same / sm:.2f}")  # fmt: skip
    ratio = raw / sm
    print(f"ratio (BASELINE time / SecureChannel time): {ratio:.2f} (target >= {TARGET}): "
          f"{'met' if ratio >= TARGET else 'MISSED'}")  # fmt: skip
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
