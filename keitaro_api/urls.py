"""Normalising what users type as a tracker address into one root URL.

Users paste a tracker in many shapes (``tracker.example.com``, ``https://t.example.com/admin/``,
``<https://t.example.com/admin_api/v1/>``, ``https://трекер.рф``). Everything in this package
works from the one normalised *root*: scheme, ASCII host, non-default port and an optional path
prefix, without a trailing slash. The Admin API lives under :func:`api_base` of that root.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, quote, urlsplit

from yarl import URL

try:  # IDNA 2008 with UTS #46 mapping, as browsers do; yarl already depends on it.
    import idna as _idna
except ImportError:  # pragma: no cover - the stdlib codec (IDNA 2003) is close enough
    _idna = None  # type: ignore[assignment]

__all__ = [
    "API_PATH",
    "MAX_URL_LENGTH",
    "InvalidTrackerURL",
    "api_base",
    "display_url",
    "normalize_tracker_url",
]

API_PATH = "/admin_api/v1"
MAX_URL_LENGTH = 2048

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Path segments from which on a pasted address points into the admin UI or the API, not the root.
_ADMIN_SEGMENTS = frozenset({"admin", "admin_api"})
# "javascript:..." or "ftp://..." has a scheme; "tracker.example.com:8080" is a host and a port.
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(?!\d+(?:[/?#]|$))")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9_\-]{1,63}(?<!-)$")
# Characters that may stay unquoted in a path; everything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class InvalidTrackerURL(ValueError):
    """The text is not a usable tracker address; ``str(e)`` is a short reason for the user."""


def normalize_tracker_url(text: str) -> str:
    """Return the tracker root URL for what a user typed, or raise :class:`InvalidTrackerURL`.

    >>> normalize_tracker_url("  <Tracker.Example.com/admin_api/v1/>  ")
    'https://tracker.example.com'
    """
    text = text.strip()
    # Pasted addresses come wrapped: <...> from Telegram, quotes from chats and documents.
    for opening, closing in ("<>", '""', "''", "«»", "“”", "‘’"):
        if len(text) >= 2 and text[0] == opening and text[-1] == closing:
            text = text[1:-1].strip()
    if not text:
        raise InvalidTrackerURL("empty address")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidTrackerURL("the address is too long")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        raise InvalidTrackerURL("control characters in the address")
    if any(unicodedata.category(char) == "Cs" for char in text):  # a lone UTF-16 surrogate
        raise InvalidTrackerURL("invalid characters in the address")
    if any(char.isspace() for char in text):
        raise InvalidTrackerURL("not a web address: it contains spaces")

    scheme_match = _SCHEME_RE.match(text)
    if scheme_match is None:
        text = "https://" + text.removeprefix("//")
    elif scheme_match.group(1).lower() not in _DEFAULT_PORTS:
        raise InvalidTrackerURL("only http and https are supported")
    elif not text[scheme_match.end() :].startswith("//"):
        raise InvalidTrackerURL("not a web address")

    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. a malformed [IPv6] host
        raise InvalidTrackerURL("not a web address: invalid IPv6 address") from None
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        raise InvalidTrackerURL("user:password in the address is not supported")
    host = _normalize_host(parts.netloc, parts.hostname)
    port = _parse_port(parts)

    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    return f"{scheme}://{netloc}{_root_path(parts.path)}"


def api_base(root: str) -> str:
    """The Admin API v1 base URL of a tracker root: ``https://t.example.com/admin_api/v1``."""
    return root.rstrip("/") + API_PATH


def display_url(root: str) -> str:
    """The root URL for people: an IDN (punycode) host is shown back in Unicode."""
    parts = urlsplit(root)
    host = parts.hostname or ""
    if "xn--" not in host:
        return root
    try:
        unicode_host = _idna.decode(host) if _idna is not None else host.encode().decode("idna")
    except (UnicodeError, ValueError):
        return root
    netloc = unicode_host if parts.port is None else f"{unicode_host}:{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def _normalize_host(netloc: str, hostname: str | None) -> str:
    if not hostname:
        raise InvalidTrackerURL("missing host")
    if netloc.startswith("["):
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise InvalidTrackerURL("invalid IPv6 address") from None
        if address.scope_id is not None:  # "%eth0" names an interface of this machine
            raise InvalidTrackerURL("IPv6 zone ids are not supported")
        return f"[{address.compressed}]"

    host = hostname.rstrip(".").lower() if hostname.count(".") else hostname.lower()
    if not host:
        raise InvalidTrackerURL("missing host")
    if not host.isascii():
        host = _to_punycode(host)
    labels = host.split(".")
    if not all(_LABEL_RE.match(label) for label in labels) or len(host) > 253:
        raise InvalidTrackerURL("not a web address: invalid host name")
    if "xn--" in host and not _decodes_as_idn(host):
        raise InvalidTrackerURL("not a web address: invalid host name (bad punycode)")
    # A numeric last label is an IP address or garbage: "127.1" or "2130706433" would otherwise
    # be resolved by the system to an address nobody typed.
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise InvalidTrackerURL("invalid IP address") from None
    return host


def _decodes_as_idn(host: str) -> bool:
    """Whether an "xn--" host decodes, as the client's URL library (yarl) will require."""
    try:
        URL.build(scheme="https", host=host).host  # noqa: B018 - decoding is the check
    except ValueError:  # UnicodeError: "xn--zz" is no valid punycode
        return False
    return True


def _to_punycode(host: str) -> str:
    try:
        if _idna is not None:
            return _idna.encode(host, uts46=True).decode("ascii")
        return host.encode("idna").decode("ascii")  # pragma: no cover
    except (UnicodeError, ValueError):
        raise InvalidTrackerURL("not a web address: invalid host name") from None


def _parse_port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError as exc:
        reason = "port out of range" if "out of range" in str(exc) else "invalid port"
        raise InvalidTrackerURL(reason) from None
    if port == 0:
        raise InvalidTrackerURL("port out of range")
    return port


def _root_path(path: str) -> str:
    """Keep a path prefix the tracker is installed under; cut the admin UI or API suffix."""
    segments = [segment for segment in path.split("/") if segment]
    for position, segment in enumerate(segments):
        if segment.lower() in _ADMIN_SEGMENTS:
            segments = segments[:position]
            break
    if not segments:
        return ""
    return quote("/" + "/".join(segments), safe=_PATH_SAFE)
