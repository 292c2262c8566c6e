"""Fetching what ``idkarta verify --online`` asks the network for: a CSCA's CRL from the DS
certificate's CRL distribution point (RFC 5280 §4.2.1.13; ICAO 9303-12 §7.1.4) and an OCSP
answer about the e-signature certificate (RFC 6960 §A.1, HTTP POST).

:class:`Fetcher` fetches ``http``/``https`` URLs only, with a timeout and a size limit, and
remembers each GET (its bytes or its failure) for its life, so a batch of thousands of dumps of
one DS fetches the CRL once per worker and a dead URL costs one timeout, not one per dump. A URL
that cannot be fetched raises :class:`FetchError`; the checks turn it into NOT CHECKED with the
reason, never into a pass.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from idcard.errors import VerificationError

__all__ = ["DEFAULT_TIMEOUT", "MAX_BYTES", "FetchError", "Fetcher"]

DEFAULT_TIMEOUT = 10.0
"""Seconds per request."""
MAX_BYTES = 16 * 1024 * 1024
"""A CRL or OCSP answer larger than this is refused (16 MiB)."""


class FetchError(VerificationError):
    """A URL could not be fetched: not http(s), unreachable, timed out, an HTTP error status,
    or an answer over :data:`MAX_BYTES`. ``url`` is the URL."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class Fetcher:
    """HTTP GET (remembered per URL) and POST with a timeout (see the module doc)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._got: dict[str, bytes | FetchError] = {}

    def get(self, url: str) -> bytes:
        """The body at ``url``, fetched once (a failure is remembered too)."""
        found = self._got.get(url)
        if found is None:
            try:
                found = self._request(url, None, None)
            except FetchError as exc:
                found = exc
            self._got[url] = found
        if isinstance(found, FetchError):
            raise found
        return found

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        """The answer to ``body`` POSTed to ``url`` (never remembered: an OCSP request carries
        a fresh nonce)."""
        return self._request(url, body, content_type)

    def _request(self, url: str, body: bytes | None, content_type: str | None) -> bytes:
        if not url.lower().startswith(("http://", "https://")):
            raise FetchError(url, "only http and https URLs are fetched")
        try:
            request = urllib.request.Request(url, data=body,  # noqa: S310 - http(s) checked above
                                             method="GET" if body is None else "POST")
            if content_type is not None:
                request.add_header("Content-Type", content_type)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) checked above
                data = bytes(response.read(MAX_BYTES + 1))
        except urllib.error.HTTPError as exc:
            raise FetchError(url, f"HTTP {exc.code} {exc.reason}") from None
        except (OSError, ValueError) as exc:  # URLError (its reason), a timeout, a bad URL
            why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(why, TimeoutError):
                raise FetchError(url, f"no answer within {self.timeout:g} s") from None
            raise FetchError(url, f"unreachable ({why})") from None
        if len(data) > MAX_BYTES:
            raise FetchError(url, f"the answer is larger than {MAX_BYTES} bytes")
        return data
