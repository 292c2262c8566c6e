"""Trust anchors for passive authentication: CSCA certificates, master lists, CRLs.

CSCA certificates come from a file or a directory (PEM, possibly several per file, or DER) and
from CSCA master lists (ICAO 9303-12 §9) whose signature verifies. Link certificates (9303-12
§7.1.1: a new CSCA key certified by the previous one) become trusted when signed by an already
trusted CSCA key. CRLs (9303-12 §7.1.4) are used when their signature verifies with a trusted CSCA.
Chains are cached per DS certificate, so verifying many documents of one DS costs one chain build;
so is everything about revocation but the comparison of each CRL's nextUpdate with the
verification time, so the caches stay one entry per DS whatever the verification times.
Names are compared by their DER bytes, and by RFC 5280 §7.1 matching only when the bytes differ.
A CSCA that only a master list vouches for anchors DS certificates of its own country (subject C).
With a :class:`~idcard.verify.online.Fetcher` (``verify --online``) the CRL is also fetched from
the DS certificate's CRL distribution points; one that cannot be fetched leaves revocation NOT
CHECKED with the reason, never passed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar, cast

from asn1crypto import crl, x509

from idcard.errors import DecodeError, VerificationError
from idcard.verify import _signature
from idcard.verify.masterlist import MasterList, verify_master_list
from idcard.verify.online import Fetcher, FetchError
from idcard.verify.report import CheckResult, Status

__all__ = ["Chain", "TrustStore", "load_certificates", "load_crls"]

T = TypeVar("T")

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def _der_blocks(data: bytes, kinds: tuple[bytes, ...]) -> list[bytes]:
    if b"-----BEGIN" not in data:
        return [data]
    blocks = []
    for m in _PEM.finditer(data):
        if m.group(1) in kinds:
            try:
                blocks.append(base64.b64decode(b"".join(m.group(2).split()), validate=True))
            except ValueError:
                raise DecodeError("a PEM block is not valid base64") from None
    return blocks


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if path.is_file():
        return [path]
    raise VerificationError(f"{path}: no such file or directory")


def _load_certificate(der: bytes, where: str) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(der)
        _ = cert.subject, cert.public_key.dump(), cert["signature_value"].native
        return cert
    except (ValueError, TypeError, KeyError) as exc:
        raise VerificationError(f"{where}: not an X.509 certificate ({exc})") from None


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """Every certificate in a file or in the files of a directory (PEM or DER).

    A file that is neither raises :class:`VerificationError`; so does finding no certificate.
    """
    certs: list[x509.Certificate] = []
    for f in _files(Path(path)):
        try:
            data = f.read_bytes()
            blocks = _der_blocks(data, (b"CERTIFICATE", b"TRUSTED CERTIFICATE"))
        except (OSError, DecodeError) as exc:
            raise VerificationError(f"{f}: cannot read ({exc})") from None
        certs.extend(_load_certificate(b, str(f)) for b in blocks)
    if not certs:
        raise VerificationError(f"{path}: no certificate found")
    return certs


def load_crls(paths: Iterable[str | Path]) -> list[crl.CertificateList]:
    """Every CRL in the given files (PEM ``X509 CRL`` or DER); unreadable ones raise."""
    out: list[crl.CertificateList] = []
    for p in paths:
        for f in _files(Path(p)):
            try:
                blocks = _der_blocks(f.read_bytes(), (b"X509 CRL",))
                if not blocks:
                    raise DecodeError("no X509 CRL block")
                for der in blocks:
                    c = crl.CertificateList.load(der)
                    _ = c.issuer, c["tbs_cert_list"]["revoked_certificates"].native
                    out.append(c)
            except (OSError, ValueError, TypeError, KeyError, DecodeError) as exc:
                raise VerificationError(f"{f}: not a CRL ({exc})") from None
    return out


def _country_of(cert: x509.Certificate) -> str | None:
    country = cert.subject.native.get("country_name")
    return country.upper() if isinstance(country, str) else None


def _same_name(a: x509.Name, b: x509.Name) -> bool:
    """RFC 5280 §7.1 name matching: the same DER bytes, else asn1crypto's comparison."""
    return bool(a.dump() == b.dump() or a == b)


def _aki_matches(child_aki: bytes | None, parent: x509.Certificate) -> bool:
    ski = parent.key_identifier
    return child_aki is None or ski is None or child_aki == ski


@dataclass(frozen=True, slots=True)
class Chain:
    """Outcome of building a DS certificate's chain: ``path`` from the DS up to the anchor."""

    status: Status
    reason: str
    path: tuple[x509.Certificate, ...] = ()
    path_der: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """The DER of each certificate on ``path`` (the key of the revocation cache)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_der", tuple(c.dump() for c in self.path))

    @property
    def csca(self) -> x509.Certificate | None:
        """The trust anchor at the top of the path (a self-signed CSCA)."""
        return self.path[-1] if self.status is Status.PASS else None


class TrustStore:
    """CSCA trust anchors, master lists and CRLs, with a per-DS chain cache.

    ``cscas`` are trusted as given when self-signed (the auditor's own anchors); other
    certificates among them, and all master-list certificates, are trusted once a trusted key
    is found to have signed them (link certificates). A CSCA that only a master list vouches
    for is trusted for its own country alone: for a DS whose subject country (C) is its own.
    """

    def __init__(
        self,
        cscas: Sequence[x509.Certificate] = (),
        *,
        master_lists: Sequence[MasterList] = (),
        crls: Sequence[crl.CertificateList] = (),
        fetcher: Fetcher | None = None,
    ) -> None:
        self.cscas = tuple(cscas)
        self.fetcher = fetcher
        """Fetches the CRLs of the DS certificates' distribution points (None: offline)."""
        self.crls = tuple(crls)
        self.master_lists = tuple(master_lists)
        results = [verify_master_list(ml, self.cscas) for ml in self.master_lists]
        self.master_list_results: tuple[CheckResult, ...] = tuple(results)
        pool = list(self.cscas)
        for ml, res in zip(self.master_lists, results, strict=True):
            if res.status is Status.PASS:
                pool.extend(ml.certificates)
        given = {bytes(c.dump()) for c in self.cscas}
        self._listed = {bytes(c.dump()) for c in pool} - given
        """Certificates trusted through a master list only: anchors for their own country."""
        self._parents = self._trust(pool)
        self._chains: dict[bytes, Chain] = {}
        self._memo: dict[object, object] = {}
        self._crl_ok: dict[tuple[bytes, bytes], bool] = {}
        self._revoked: dict[tuple[bytes, ...], CheckResult | tuple[tuple[datetime, str], ...]] = {}
        self._fetched_from: dict[tuple[bytes, ...], str] = {}

    @classmethod
    def from_paths(
        cls,
        csca: str | Path | None = None,
        *,
        master_lists: Iterable[str | Path] = (),
        crls: Iterable[str | Path] = (),
        fetcher: Fetcher | None = None,
    ) -> TrustStore:
        """Load a trust store from files; unreadable input raises :class:`VerificationError`.
        ``fetcher``: fetch CRLs from the DS certificates' distribution points too."""
        cscas = load_certificates(csca) if csca is not None else []
        mls = []
        for p in master_lists:
            try:
                mls.append(MasterList.decode(Path(p).read_bytes()))
            except (OSError, DecodeError) as exc:
                raise VerificationError(f"{p}: not a readable master list ({exc})") from None
        return cls(cscas, master_lists=mls, crls=load_crls(crls), fetcher=fetcher)

    @staticmethod
    def _trust(pool: list[x509.Certificate]) -> dict[bytes, x509.Certificate | None]:
        """Trusted certificates (by DER) mapped to the trusted certificate that signed them.

        Self-signed ones are anchors (parent None); the rest are added while a trusted key
        signed them (link certificates, 9303-12 §7.1.1), until nothing changes.
        """
        trusted: dict[bytes, x509.Certificate | None] = {}
        by_der = {bytes(c.dump()): c for c in pool}
        for der, c in by_der.items():
            if _same_name(c.subject, c.issuer) and _signature.signed_by(c, c):
                trusted[der] = None
        changed = True
        while changed:
            changed = False
            for der, c in by_der.items():
                if der in trusted:
                    continue
                for tder in list(trusted):
                    t = by_der[tder]
                    if (
                        _same_name(t.subject, c.issuer)
                        and _aki_matches(c.authority_key_identifier, t)
                        and _signature.signed_by(c, t)
                    ):
                        trusted[der] = t
                        changed = True
                        break
        return trusted

    @property
    def trusted(self) -> tuple[x509.Certificate, ...]:
        """Every trusted CSCA certificate (anchors and verified link certificates)."""
        pool = {bytes(c.dump()): c for c in self.cscas}
        for ml in self.master_lists:
            pool.update((bytes(c.dump()), c) for c in ml.certificates)
        return tuple(pool[d] for d in self._parents)

    def _path_from(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        path = [cert]
        parent = self._parents.get(bytes(cert.dump()))
        while parent is not None and len(path) < 16:
            path.append(parent)
            parent = self._parents.get(bytes(parent.dump()))
        return tuple(path)

    def chain(self, ds: x509.Certificate) -> Chain:
        """The DS certificate's path to a trusted CSCA (9303-11 §5.1 step 2), cached."""
        key = bytes(ds.dump())
        cached = self._chains.get(key)
        if cached is None:
            cached = self._build(ds)
            self._chains[key] = cached
        return cached

    def _build(self, ds: x509.Certificate) -> Chain:
        if not self._parents:
            return Chain(Status.NOT_CHECKED, "no trusted CSCA certificate was given")
        named = [
            c
            for c in self.trusted
            if _same_name(c.subject, ds.issuer) and _aki_matches(ds.authority_key_identifier, c)
        ]
        scoped = [c for c in named if self._for_country(c, ds)]
        if named and not scoped:
            c = named[0]
            return Chain(
                Status.FAIL,
                f"the CSCA {c.subject.human_friendly} comes from a master list and is trusted "
                f"only for country {_country_of(c)!r}, not for a DS of {_country_of(ds)!r}",
            )
        named = scoped
        for c in named:
            if _signature.signed_by(ds, c):
                path = (ds, *self._path_from(c))
                return Chain(
                    Status.PASS, f"issued by trusted CSCA {c.subject.human_friendly}", path
                )
        if named:
            return Chain(
                Status.FAIL,
                f"the DS signature does not verify with the trusted CSCA "
                f"{ds.issuer.human_friendly} (key identifier matched {len(named)} certificate(s))",
            )
        return Chain(
            Status.FAIL, f"no trusted CSCA is named {ds.issuer.human_friendly} (issuer of the DS)"
        )

    def _for_country(self, csca: x509.Certificate, ds: x509.Certificate) -> bool:
        """Whether ``csca`` may anchor ``ds``: always when the user gave it, else (a master
        list's CSCA) only when both name the same country."""
        if bytes(csca.dump()) not in self._listed:
            return True
        country = _country_of(csca)
        return country is not None and country == _country_of(ds)

    def memo(self, key: object, factory: Callable[[], T]) -> T:
        """``factory()`` computed once per ``key`` for this store (per-DS facts of a verifier)."""
        if key not in self._memo:
            self._memo[key] = factory()
        return cast(T, self._memo[key])

    def crl_verified(self, c: crl.CertificateList, issuer: x509.Certificate) -> bool:
        """True when ``c`` is signed by ``issuer`` (by name and key), cached by both DERs (not by
        object identity: a CRL object freed after one call may share its id with the next)."""
        key = (bytes(c.dump()), bytes(issuer.dump()))
        ok = self._crl_ok.get(key)
        if ok is None:
            try:
                ok = _same_name(c.issuer, issuer.subject) and _signature.verify(
                    issuer.public_key,
                    c["signature_algorithm"],
                    bytes(c["signature"].native),
                    bytes(c["tbs_cert_list"].dump()),
                )
            except _signature.UnsupportedKey:
                ok = False
            self._crl_ok[key] = ok
        return ok

    def cache_sizes(self) -> dict[str, int]:
        """Entries in each cache of this store (for tests and benchmarks: one per DS at most)."""
        return {
            "chains": len(self._chains),
            "memo": len(self._memo),
            "crl_verified": len(self._crl_ok),
            "revocation": len(self._revoked),
        }

    def revocation(self, chain: Chain, at: datetime) -> CheckResult:
        """CRL status of every certificate on ``chain`` (9303-12 §7.1.4; RFC 5280 §6.3).

        Revoked DS or CSCA: FAIL; a CRL from the DS's issuer that does not verify: FAIL; no CRL
        for the DS's issuer: NOT_CHECKED (with why a distribution point's CRL could not be
        fetched, online); otherwise PASS. Everything but the nextUpdate notes is computed once
        per chain (cached by the DERs of its path).
        """
        name = "revocation"
        if not self.crls and self.fetcher is None:
            return CheckResult(name, Status.NOT_CHECKED, "no CRL given")
        if chain.status is not Status.PASS:
            return CheckResult(name, Status.NOT_CHECKED, "no trusted chain to check CRLs against")
        found = self._revoked.get(chain.path_der)
        if found is None:
            fetched, problems, urls = self._fetched(chain.path[0])
            found = self._revocation_of(chain.path, (*self.crls, *fetched))
            if isinstance(found, CheckResult) and found.status is Status.NOT_CHECKED:
                why = "; ".join(problems) if problems else (
                    "the DS certificate names no http(s) CRL distribution point"
                    if self.fetcher is not None and not urls else "")  # fmt: skip
                if why:
                    found = CheckResult(name, Status.NOT_CHECKED, f"{found.reason} ({why})")
            elif fetched:
                self._fetched_from[chain.path_der] = f"CRL fetched from {', '.join(urls)}"
            self._revoked[chain.path_der] = found
        if isinstance(found, CheckResult):
            return found
        notes = sorted({note for next_update, note in found if next_update < at})
        source = self._fetched_from.get(chain.path_der)
        notes += [source] if source else []
        extra = f" ({'; '.join(notes)})" if notes else ""
        return CheckResult(name, Status.PASS, f"DS and CSCA not on the CSCA's CRL{extra}")

    def _fetched(
        self, ds: x509.Certificate
    ) -> tuple[list[crl.CertificateList], list[str], list[str]]:
        """Online: the CRLs of ``ds``'s http(s) distribution points, why others could not be
        had, and the URLs (all empty offline)."""
        if self.fetcher is None:
            return [], [], []
        urls = [str(dp.url) for dp in (ds.crl_distribution_points or [])
                if dp.url and str(dp.url).lower().startswith(("http://", "https://"))]  # fmt: skip
        out: list[crl.CertificateList] = []
        problems: list[str] = []
        for url in urls:
            try:
                data = self.fetcher.get(url)
            except FetchError as exc:
                problems.append(f"the CRL at {exc}")
                continue
            try:
                for der in _der_blocks(data, (b"X509 CRL",)):
                    c = crl.CertificateList.load(der)
                    _ = c.native, c.issuer.human_friendly  # parse it all now
                    out.append(c)
            except (ValueError, TypeError, KeyError, DecodeError) as exc:
                problems.append(f"the CRL at {url} does not parse ({' '.join(str(exc).split())})")
        return out, problems, urls

    def _revocation_of(
        self, path: tuple[x509.Certificate, ...], crls: Sequence[crl.CertificateList]
    ) -> CheckResult | tuple[tuple[datetime, str], ...]:
        """The result of :meth:`revocation` for a trusted ``path`` when it does not depend on
        the time; else the nextUpdate of every CRL used, with its note (the DS and CSCA are on
        none of them)."""
        name = "revocation"
        covered = False
        updates: list[tuple[datetime, str]] = []
        for i, cert in enumerate(path):
            issuer = path[i + 1] if i + 1 < len(path) else cert
            for c in crls:
                if not _same_name(c.issuer, cert.issuer):
                    continue
                if not self.crl_verified(c, issuer):
                    if i == 0:
                        return CheckResult(
                            name,
                            Status.FAIL,
                            f"the CRL of {c.issuer.human_friendly} does not verify with the CSCA",
                        )
                    continue
                if i == 0:
                    covered = True
                next_update = c["tbs_cert_list"]["next_update"].native
                if next_update is not None:
                    updates.append((next_update, f"CRL past its nextUpdate {next_update:%Y-%m-%d}"))
                for entry in c["tbs_cert_list"]["revoked_certificates"]:
                    if entry["user_certificate"].native == cert.serial_number:
                        role = "DS" if i == 0 else "CSCA"
                        when = entry["revocation_date"].native
                        return CheckResult(
                            name,
                            Status.FAIL,
                            f"{role} certificate {cert.subject.human_friendly} serial "
                            f"{cert.serial_number} revoked on {when:%Y-%m-%d}",
                        )
        if not covered:
            return CheckResult(name, Status.NOT_CHECKED, "no CRL from the DS certificate's issuer")
        return tuple(updates)
