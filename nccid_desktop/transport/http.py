"""The one way the app talks HTTP: verified TLS, proxies, timeouts and polite retries.

Why one factory: hospital networks put corporate proxies and TLS-inspecting firewalls between
the workstation and the service. Certificates are therefore checked against the operating
system's store (``truststore``, so an NHS trust's own root CA just works) plus an optional extra
bundle, never switched off. Flaky links are retried with exponential backoff and jitter, and
every attempt gets a *fresh* body from a factory, because a streamed body consumed by a failed
attempt cannot be sent again (the classic bug of STOW clients that retry a spent stream).
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import requests
import truststore
from requests.adapters import HTTPAdapter

from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken

if TYPE_CHECKING:
    from nccid_desktop.config import Settings

log = logging.getLogger(__name__)

#: Status codes worth another attempt: throttling and server-side trouble.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Bytes handed to the socket per write; large blocks keep big uploads near line speed.
SEND_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class HttpSettings:
    """How to reach the service. ``proxy`` None means: environment, then the system's;
    ``direct`` means no proxy at all (the policy's ``proxy = "none"``)."""

    ca_bundle: str | None = None
    proxy: str | None = None
    direct: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 300.0

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def interactive(self) -> HttpSettings:
        """The same route and trust for a call someone is waiting on (sign-in, checker,
        summary): each limit capped by :data:`INTERACTIVE_LIMITS`, so an unreachable server
        is reported in seconds rather than after a bulk upload's patient retries."""
        capped = {f.name: min(getattr(self, f.name), getattr(INTERACTIVE_LIMITS, f.name))
                  for f in fields(self) if f.name not in ("ca_bundle", "proxy", "direct")}
        return replace(self, **capped)


#: The ceilings of an interactive call: two attempts, a short pause between them, short
#: timeouts (the read timeout still covers the service's deliberately slow password hashing).
INTERACTIVE_LIMITS = HttpSettings(connect_timeout=4.0, read_timeout=30.0, max_attempts=2,
                                  backoff_base=0.25, backoff_cap=1.0, retry_after_cap=2.0)


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The OS certificate store, plus ``ca_bundle`` when a site needs an extra root."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class VerifiedAdapter(HTTPAdapter):
    """An adapter whose connections (direct or through a proxy) use :func:`tls_context`."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        kwargs["blocksize"] = SEND_BLOCK_BYTES
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        kwargs["blocksize"] = SEND_BLOCK_BYTES
        return super().proxy_manager_for(proxy, **kwargs)


def http_settings_for(settings: Settings, **limits: Any) -> HttpSettings:
    """The route and trust the user's effective settings ask for (the one mapping from
    configuration to transport), with optional limits such as timeouts for a probe."""
    return HttpSettings(ca_bundle=settings.ca_bundle, proxy=settings.proxy,
                        direct=settings.direct, **limits)


def make_session(settings: HttpSettings) -> requests.Session:
    """A session that verifies TLS and routes through the configured, env or system proxy.

    With ``trust_env`` left on, requests reads ``HTTPS_PROXY``/``NO_PROXY`` and, on Windows and
    macOS, the system proxy settings; an explicit ``proxy`` setting wins over both.
    """
    session = requests.Session()
    adapter = VerifiedAdapter(tls_context(settings.ca_bundle))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = True
    session.trust_env = not settings.direct
    if settings.proxy:
        session.proxies = {"http": settings.proxy, "https": settings.proxy}
    session.headers["User-Agent"] = "nccid-desktop"
    return session


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, settings: HttpSettings, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(settings.backoff_cap, settings.backoff_base * (2 ** attempt))
    return (rng or random).uniform(0, ceiling)


def wait_or_cancel(seconds: float, cancel: CancelToken) -> None:
    """Sleep, waking early (and raising) if the user cancels."""
    deadline = time.monotonic() + seconds
    while True:
        cancel.raise_if_cancelled()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(0.1, remaining))


BodyFactory = Callable[[], Any]


def send_with_retry(
    session: requests.Session,
    method: str,
    url: str,
    settings: HttpSettings,
    *,
    body: BodyFactory | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    cancel: CancelToken = NEVER_CANCELLED,
    rng: random.Random | None = None,
) -> requests.Response:
    """Send, retrying connection failures, timeouts, 429 and 5xx; return the final response.

    ``body`` is a factory called once per attempt, so each retry streams from the start.
    A non-retryable status is returned to the caller to interpret; the last retryable one is
    returned too once attempts run out. Connection errors that outlive the attempts are raised.
    """
    attempt = 0
    while True:
        cancel.raise_if_cancelled()
        data = body() if body is not None else None
        try:
            response = session.request(
                method, url, data=data, json=json, headers=dict(headers or {}),
                timeout=settings.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            if isinstance(error, requests.exceptions.SSLError | requests.exceptions.ProxyError):
                raise
            attempt += 1
            if attempt >= settings.max_attempts:
                raise
            delay = backoff_delay(attempt, settings, rng)
            log.warning("%s %s failed (%s); retry %d in %.1fs", method, _path(url),
                        type(error).__name__, attempt, delay)
        else:
            if response.status_code not in RETRYABLE_STATUSES:
                return response
            attempt += 1
            if attempt >= settings.max_attempts:
                return response
            hinted = retry_after_seconds(response.headers.get("Retry-After"))
            delay = min(hinted, settings.retry_after_cap) if hinted is not None else backoff_delay(
                attempt, settings, rng)
            log.warning("%s %s answered %d; retry %d in %.1fs", method, _path(url),
                        response.status_code, attempt, delay)
            response.close()
        finally:
            close = getattr(data, "close", None)
            if callable(close):
                close()
        wait_or_cancel(delay, cancel)


def _path(url: str) -> str:
    """The path of a URL for the log (no query strings, which could carry anything)."""
    return requests.utils.urlparse(url).path
