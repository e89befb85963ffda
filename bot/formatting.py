"""Escaping and splitting: the only place that turns text into Telegram HTML messages.

Telegram counts a message's length after parsing entities, in UTF-16 code units, and refuses
more than 4096. :func:`split_html` cuts our HTML into messages under that limit, at line
boundaries where it can, and inside a line only between characters, closing open tags at the
cut and reopening them in the next message, so nothing is lost and no part is invalid HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

MESSAGE_LIMIT = 4096

# Lone surrogates cannot be encoded as UTF-8 and NUL is refused by Telegram; other control
# characters are shown as their Unicode "control picture" so nothing is silently dropped.
_UNSENDABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Markup(str):
    """A string that is already safe Telegram HTML."""

    __slots__ = ()


def _visible(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if code == 0x7F:
        return "\u2421"
    return chr(0x2400 + code)


def escape(value: str) -> Markup:
    """Escape a dynamic value for Telegram HTML text (and make it sendable)."""
    value = _UNSENDABLE.sub(lambda m: _visible(m.group()), value)
    return Markup(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True)
class _Token:
    html: str  # what goes into the message
    visible: int  # how many UTF-16 units Telegram counts for it
    tag: str | None = None  # tag name for tags
    closing: bool = False


_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>|&#?[a-zA-Z0-9]+;|[\s\S]")


def _tokens(html: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(html):
        text = match.group()
        if match.group(2):
            tokens.append(_Token(text, 0, match.group(2).lower(), bool(match.group(1))))
        elif text.startswith("&") and len(text) > 1:
            tokens.append(_Token(text, 1))
        else:
            tokens.append(_Token(text, utf16_len(text)))
    return tokens


def plain_text(html: str) -> str:
    """What Telegram shows for our HTML, tags removed and entities decoded: for texts that
    cannot carry markup, such as the answer to a button press."""
    return unescape(re.sub(r"<[^>]*>", "", html))


def visible_length(html: str) -> int:
    """Length of a message as Telegram counts it (tags removed, entities decoded)."""
    return sum(token.visible for token in _tokens(html))


def split_html(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut well-formed Telegram HTML into messages of at most ``limit`` visible units.

    Cuts at the last line break that fits; a line longer than a whole message is cut between
    characters. Tags open at a cut are closed there and reopened in the next message.
    """
    tokens = _tokens(html)
    if sum(token.visible for token in tokens) <= limit:
        return [html]
    messages: list[str] = []
    chunk: list[_Token] = []
    used = 0  # a running total: summing the chunk for every token made long texts quadratic
    for token in tokens:
        if token.tag is None:
            while chunk and used + token.visible > limit:
                head, chunk = _cut(chunk)
                messages.append(head)
                used = _used(chunk)
        chunk.append(token)
        used += token.visible
    messages.append(_render(chunk))
    return [message.strip("\n") for message in messages if _has_text(message)]


def _used(chunk: list[_Token]) -> int:
    return sum(token.visible for token in chunk)


def _open_tags(chunk: list[_Token]) -> list[_Token]:
    stack: list[_Token] = []
    for token in chunk:
        if token.tag is None:
            continue
        if not token.closing:
            stack.append(token)
        elif stack and stack[-1].tag == token.tag:
            stack.pop()
    return stack


def _render(chunk: list[_Token]) -> str:
    return "".join(token.html for token in chunk)


def _cut(chunk: list[_Token]) -> tuple[str, list[_Token]]:
    """Close the current message at its last line break (or inside the line, if it has none)."""
    breaks = [i for i, token in enumerate(chunk) if token.html == "\n"]
    if breaks:
        head, tail = chunk[: breaks[-1]], chunk[breaks[-1] + 1 :]
    else:
        at = _inline_cut(chunk)
        head, tail = chunk[:at], chunk[at:]
    stack = _open_tags(head)
    closed = _render(head) + "".join(f"</{token.tag}>" for token in reversed(stack))
    return closed, [*stack, *tail]


def _inline_cut(chunk: list[_Token]) -> int:
    """Where to cut a line: Telegram trims whitespace at both ends of every message, so cut
    between two characters that are not whitespace, the last such place (else at the end)."""
    for at in range(len(chunk) - 1, 0, -1):
        before, after = chunk[at - 1], chunk[at]
        if _is_solid(before) and _is_solid(after):
            return at
    return len(chunk)


def _is_solid(token: _Token) -> bool:
    return token.tag is None and not token.html.isspace()


def _has_text(message: str) -> bool:
    return any(token.visible and not token.html.isspace() for token in _tokens(message))
