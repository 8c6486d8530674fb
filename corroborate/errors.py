"""The exception tree users catch.

::

    CorroborateError
    ├── FetchError
    │   ├── TransientFetchError      (worth retrying: timeouts, connect errors, 429, 5xx)
    │   │   └── RobotsUnavailableError (the host's robots.txt is unreachable: host skipped this run)
    │   └── PermanentFetchError      (don't retry: 4xx, refused address, robots, too big, wrong type)
    │       └── AddressRefusedError  (the host is, or resolves to, an address we never contact)
    ├── ExtractionError              (page is not an article / no usable text)
    ├── ConfigError                  (bad settings, bad outlets file, bad user input)
    ├── StoreError                   (SQLite problems, schema too new, locked store)
    ├── IndexStateError              (FAISS index does not match the store or manifest)
    └── ModelError                   (a model package is missing or its files are unusable)

Every message is one line that says what went wrong and, where it helps, what to do.
"""

from __future__ import annotations


class CorroborateError(Exception):
    """Base class: catch this to handle every error corroborate raises on purpose."""


class FetchError(CorroborateError):
    """A URL could not be fetched."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class TransientFetchError(FetchError):
    """A fetch failed in a way that may succeed later (retry with backoff)."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class RobotsUnavailableError(TransientFetchError):
    """The host's robots.txt answered 5xx/429 or could not be reached: RFC 9309 says assume complete
    disallow, so nothing more is fetched from that host by this fetcher (this run); the next run asks again."""


class PermanentFetchError(FetchError):
    """A fetch failed for good (retrying will not help)."""


class AddressRefusedError(PermanentFetchError):
    """The host is, or resolves to, a private, loopback, link-local or metadata address."""


class ExtractionError(CorroborateError):
    """A page had no extractable article (index page, paywall, binary...)."""


class ConfigError(CorroborateError):
    """Settings, outlets file or user input is invalid."""


class StoreError(CorroborateError):
    """The SQLite store cannot be used as asked."""


class IndexStateError(CorroborateError):
    """The vector index does not match the store or its manifest."""


class ModelError(CorroborateError):
    """A model could not be loaded."""
