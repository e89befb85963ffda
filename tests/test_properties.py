"""Hostile input, by property: the parser, the URL normaliser, the formatter and the error mapping.

Every message checked here is what the bot would send; it must parse with the fake Bot API's
strict Telegram HTML parser and fit Telegram's 4096 UTF-16 units after entity decoding.

Run with ``pytest tests/test_properties.py --hypothesis-show-statistics`` to see how many
examples each property ran.

What "a field appears literally" means here (the formatter's contract): every character of a
campaign name, URL, method or status is shown as it is, except characters Telegram cannot carry
or would not show. Those are made visible instead of being dropped (see :func:`shown`):

- NUL and lone surrogates cannot be sent at all (Telegram refuses NUL; a lone surrogate has no
  UTF-8 form). NUL becomes U+2400 "␀", a lone surrogate U+FFFD "�".
- The other C0 controls except tab, line feed and carriage return, and DEL, would be invisible
  or stripped; they become their Unicode control pictures (U+2401..U+241F, U+2421).

That is acceptable: a person reading or copying the URL sees that something odd is there, and a
raw control character in a URL would not survive a copy and paste anyway.
"""

from __future__ import annotations

import itertools
import json
import re
import string
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from telegram import Chat, Message, MessageEntity
from yarl import URL

from bot import formatting, views
from bot.formatting import MESSAGE_LIMIT, escape, split_html, visible_length
from bot.handlers.common import argument_text, parse_id
from keitaro_api import (
    Campaign,
    InvalidTrackerURL,
    KeitaroError,
    NotAnApiResponse,
    Postback,
    PostbackLookup,
    RequestRecord,
    api_base,
    display_url,
    normalize_tracker_url,
    parse_response,
)
from keitaro_api import errors as keitaro_errors
from tests.fakes.bot_api import parse_html

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEWER = settings(PROPERTY, max_examples=200)  # the slow ones: 10 kB inputs, full replies

# --- Strategies ----------------------------------------------------------------------------------

# Every code point str can hold, lone surrogates and control characters included.
any_char = st.characters(codec=None, categories=None)
_ODD_CHARS = ["\x00", "\x01", "\x08", "\t", "\n", "\r", "\x0b", "\x1f", "\x7f", "\x85", "\u2028"]
_ODD_CHARS += ["\ud800", "\udfff", "\ufeff", "\u200b", "\u202e", "😀", "𝟘", "４", "٤", "²"]
_MARKUP = ["<", ">", "&", '"', "'", "&amp;", "&lt;", "<b>", "</b>", "<pre>", "</pre>", "&#0;"]
hostile_pieces = st.sampled_from(_ODD_CHARS + _MARKUP)
hostile_text = st.lists(st.one_of(any_char, hostile_pieces)).map("".join)
markup_text = st.lists(
    st.sampled_from(["<b>", "</b>", "<pre>", "&amp;", "&", "<", ">", "a", " ", "\n", "é", "😀"])
).map("".join)
# 10 kB: more than two messages' worth, with and without line breaks and spaces.
long_text = st.builds(
    lambda unit, repeat, tail: unit * repeat + tail,
    st.lists(st.one_of(any_char, hostile_pieces), min_size=1, max_size=8).map("".join),
    st.integers(1000, 10_000),
    hostile_text,
).map(lambda text: text[:10_240])
field_text = st.one_of(hostile_text, markup_text, long_text)


def telegram_text(html: str) -> str:
    """What a user sees for one message, checked the way Telegram checks it."""
    text, _ = parse_html(html)  # raises HtmlParseError for anything Telegram would refuse
    text = text.strip()  # Telegram trims every message
    assert text, f"Telegram refuses an empty message: {html!r}"
    assert len(text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT
    assert visible_length(html) <= MESSAGE_LIMIT
    return text


def assert_nothing_lost(texts: list[str], whole: str) -> None:
    """The parts Telegram shows, together, are the whole text, but for what a cut must lose.

    A cut at a line break consumes it, and Telegram trims whitespace at both ends of every
    message, so whitespace touching that line break goes too (it shows as nothing anyway).
    Inside a line split_html cuts between two non-whitespace characters; only where a whole
    message's worth of text has no such place (a long whitespace run, "a a a ...") can
    whitespace at the cut be lost. Visible characters are never lost or reordered.
    """
    joined = "".join(texts)
    assert _squeeze(joined, strict=False) == _squeeze(whole, strict=False)
    if _has_cut_places(whole):
        assert _squeeze(joined, strict=True) == _squeeze(whole, strict=True)


def _has_cut_places(text: str, every: int = MESSAGE_LIMIT // 2) -> bool:
    places = [i for i in range(len(text) - 1) if not (text[i].isspace() or text[i + 1].isspace())]
    points = [0, *places, len(text)]
    return all(later - earlier < every for earlier, later in itertools.pairwise(points))


def shown(value: str) -> str:
    """A field as the user must see it: literal, but for the characters in the module docstring."""
    out = []
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif code == 0x7F:
            out.append("\u2421")
        elif code < 0x20 and char not in "\t\n\r":
            out.append(chr(0x2400 + code))
        else:
            out.append(char)
    return "".join(out)


# --- The argument parser --------------------------------------------------------------------------

_WHITESPACE = st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2003\u2028\u3000"))
id_like = st.one_of(
    hostile_text,
    st.builds(
        lambda before, number, after: before + number + after,
        st.text(_WHITESPACE, max_size=3),
        st.one_of(
            st.integers(-10, 2**40).map(str),
            st.text(st.sampled_from("0123456789"), min_size=1, max_size=12),
            st.text(st.sampled_from("0123456789+-_., ４٤²\u0660e"), min_size=1, max_size=12),
        ),
        st.text(_WHITESPACE, max_size=3),
    ),
)


def expected_id(raw: str) -> int | None:
    """The README's rule: ASCII digits only, 1..2147483647, whitespace around allowed."""
    candidate = raw.strip()
    if not candidate or any(char not in string.digits for char in candidate):
        return None
    significant = candidate.lstrip("0")
    if len(significant) > 10:  # more than 10 significant digits is beyond 2147483647
        return None
    value = int(significant or "0")
    return value if 1 <= value <= views.MAX_POSTBACK_ID else None


def command_message(command: str, rest: str) -> Message:
    """A real telegram.Message as PTB builds it from an update, with its bot_command entity."""
    entity = MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command))
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(1, Chat.PRIVATE),
        text=command + rest,
        entities=(entity,),
    )


@PROPERTY
@given(
    command=st.sampled_from(["/postback", "/postback@KeitaroBot", "/p"]),
    separator=st.text(_WHITESPACE, max_size=2),
    raw=id_like,
)
@example(command="/postback", separator=" ", raw="42")
@example(command="/postback", separator="", raw="")
@example(command="/postback", separator=" ", raw="2147483648")
@example(command="/postback", separator=" ", raw=" 0042 ")
@example(command="/postback", separator=" ", raw="４２")
def test_postback_id_is_ascii_digits_in_range(command: str, separator: str, raw: str) -> None:
    message = command_message(command, separator + raw)
    argument = argument_text(message)
    assert argument == separator + raw  # the command is cut off, nothing else is touched
    assert parse_id(argument, views.MAX_POSTBACK_ID) == expected_id(separator + raw)


@PROPERTY
@given(text=hostile_text)
def test_text_without_a_leading_command_has_no_argument(text: str) -> None:
    message = Message(1, datetime.now(UTC), Chat(1, Chat.PRIVATE), text="x" + text)
    assert argument_text(message) == ""


def test_an_id_with_leading_zeros_beyond_ten_digits_is_its_number() -> None:
    assert parse_id("00000000042", views.MAX_POSTBACK_ID) == 42
    assert parse_id("0" * 5000 + "7", views.MAX_POSTBACK_ID) == 7
    assert parse_id("9" * 5000, views.MAX_POSTBACK_ID) is None


# --- The URL normaliser ---------------------------------------------------------------------------

_label = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9\-]{0,10}[a-z0-9])?", fullmatch=True),
    st.text(st.characters(categories=["L", "N", "M"]), min_size=1, max_size=8),
    st.sampled_from(["xn--e1aaowdh", "xn--p1ai", "xn--zz", "XN--", "ТРЕКЕР", "ß", "ǅ", "ﬁ"]),
    st.sampled_from(["0x7f", "127", "0", "1", "255", "256", "-a", "a-", "a_b", "_"]),
)
_host = st.one_of(
    st.lists(_label, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["[::1%25eth0]", "[fe80::1%eth0]", "[::ffff:1.2.3.4]", "[", "[]", "a。b", "."]),
)
_path = st.lists(
    st.one_of(
        st.sampled_from(["admin", "ADMIN", "admin_api", "v1", "campaigns", "..", ".", ""]),
        st.text(st.one_of(any_char, st.sampled_from("%?#;@:/")), max_size=6),
    ),
    max_size=4,
).map(lambda segments: "/" + "/".join(segments) if segments else "")
url_like = st.one_of(
    hostile_text,
    st.builds(
        lambda wrap, scheme, userinfo, host, port, path, dot: (
            wrap[0] + scheme + userinfo + host + dot + port + path + wrap[1]
        ),
        st.sampled_from([("", ""), (" ", "\n"), ("<", ">"), ("< ", " >")]),
        st.sampled_from(["", "https://", "http://", "HTTP://", "//", "ftp://", "javascript:"]),
        st.sampled_from(["", "", "", "user:pw@", "@"]),
        _host,
        st.one_of(
            st.just(""),
            st.integers(0, 70_000).map(lambda port: f":{port}"),
            st.sampled_from([":", ":080", ":+80", ":٨٠", ":443", ":80", ":0x50"]),
        ),
        _path,
        st.sampled_from(["", "", "."]),
    ),
)


@PROPERTY
@given(typed=url_like)
@example(typed="https://трекер.рф/admin/")
@example(typed="[fe80::1%ä]")
@example(typed="0.0.0.0/\ud800")
@example(typed="http://1.2.3.4:8080/sub/../admin_api/v1/")
def test_normalising_is_idempotent_and_the_root_is_usable(typed: str) -> None:
    try:
        root = normalize_tracker_url(typed)
    except InvalidTrackerURL as error:
        assert str(error)  # a reason the user can read
        return
    assert normalize_tracker_url(root) == root
    assert root.isascii() and root.isprintable()
    assert root.startswith(("https://", "http://")) and not root.endswith("/")
    # The client builds every request URL from the root; that must never fail or move the host.
    url = URL(api_base(root) + "/campaigns")
    assert url.scheme in ("http", "https") and url.host
    assert URL(root).host == url.host and URL(root).port == url.port
    # What users are shown normalises back to the same root (IDN hosts shown in Unicode).
    shown_url = display_url(root)
    assert normalize_tracker_url(shown_url) == root


@PROPERTY
@given(root=hostile_text)
def test_display_url_never_fails(root: str) -> None:
    assert isinstance(display_url(root), str)


# --- The formatter --------------------------------------------------------------------------------


@FEWER
@given(text=field_text)
@example(text="a" * 5000)
@example(text=("x" * 4095 + "\n") * 3)
@example(text="&" * 5000)
@example(text="😀" * 3000)
def test_split_escaped_text_keeps_everything_in_valid_messages(text: str) -> None:
    assume(shown(text).strip())  # the bot never sends an empty text
    html = escape(text)
    parts = split_html(html)
    texts = [telegram_text(part) for part in parts]
    whole, _ = parse_html(html)
    assert whole == shown(text)  # escaping shows the text, it does not interpret it
    assert_nothing_lost(texts, whole)


def test_splitting_is_linear_in_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # It runs on the event loop that serves every chat; it used to re-sum the whole current
    # message for every character (quadratic: ~4 s for 100 kB). Count the work, not the time.
    summed = 0
    real_used = formatting._used

    def counting_used(chunk: list) -> int:  # type: ignore[type-arg]
        nonlocal summed
        summed += len(chunk)
        return real_used(chunk)

    monkeypatch.setattr(formatting, "_used", counting_used)
    text = escape(("word " * 20 + "\n") * 1000)
    parts = split_html(text)
    assert len(parts) == 25
    assert summed <= 2 * len(text)


@FEWER
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["b", "pre", "code", "i", None]), field_text), max_size=4
    )
)
def test_split_html_with_tags_closes_and_reopens_them(lines: list[tuple[str | None, str]]) -> None:
    html = "\n".join(
        f"<{tag}>{escape(text)}</{tag}>" if tag else escape(text) for tag, text in lines
    )
    assume(parse_html(html)[0].strip())
    texts = [telegram_text(part) for part in split_html(html)]
    assert_nothing_lost(texts, parse_html(html)[0])


postback_data = st.fixed_dictionaries(
    {
        "id": st.integers(1, views.MAX_POSTBACK_ID),
        "campaign_id": st.one_of(st.none(), st.integers(-(2**63), 2**63)),
        "method": st.one_of(st.none(), st.sampled_from(["GET", "POST"]), field_text),
        "url": st.one_of(st.none(), field_text),
        "statuses": st.one_of(
            st.none(),
            st.lists(st.one_of(st.sampled_from(["lead", "sale", "rejected"]), hostile_text)),
            hostile_text,  # "lead,sale" as one string
        ),
    }
)
campaign_data = st.fixed_dictionaries(
    {
        "id": st.integers(-(2**63), 2**63),
        "name": st.one_of(st.none(), field_text),
        "state": st.one_of(st.none(), st.sampled_from(["active", "disabled"]), hostile_text),
        "token": st.one_of(st.none(), st.text(string.hexdigits, max_size=8).map("TOKEN-".__add__)),
    }
)


@FEWER
@given(
    lang=st.sampled_from(["en", "ru"]),
    postback=postback_data,
    campaign=campaign_data,
    tracker=st.one_of(st.just("https://tracker.example.com"), hostile_text, markup_text),
)
@example(
    lang="en",
    postback={"id": 42, "campaign_id": 1, "method": "GET", "url": "u" * 9000, "statuses": None},
    campaign={"id": 1, "name": "<b>&amp;</b>", "state": "active", "token": "TOKEN-1"},
    tracker="https://трекер.рф",
)
def test_postback_reply_shows_every_field_in_valid_messages(
    lang: str, postback: dict, campaign: dict, tracker: str
) -> None:
    model = Postback.model_validate(postback)
    holder = Campaign.model_validate({**campaign, "postbacks": [postback]})
    lookup = PostbackLookup(
        postback=model,
        campaign=holder,
        request=RequestRecord(method="GET", url="https://t.example/admin_api/v1/campaigns/1"),
        from_index=True,
    )
    parts = views.postback_reply(lang, lookup, tracker)
    texts = [telegram_text(part) for part in parts]
    assert "TOKEN-" not in "".join(parts)  # the campaign's Click API token is never shown

    # Read as a person would: the lines of text, and the URL copied from its monospace blocks.
    shown_text = "".join(texts)
    shown_url = "".join(pre_text(part) for part in parts)
    # Any field may be the one cut between messages, not only the URL and the name.
    fields = [holder.name, model.method or "", tracker, *model.statuses]
    strict = all(_has_cut_places(shown(value)) for value in (model.url, *fields))
    for value in fields:
        value = shown(value)
        assert _squeeze(value, strict) in _squeeze(shown_text, strict), value[:80]
    for number in (model.id, holder.id):
        assert str(number) in shown_text
    assert _squeeze(shown_url, strict) == _squeeze(shown(model.url), strict)


def pre_text(html: str) -> str:
    """The text inside <pre> blocks, which Telegram copies with one tap."""
    text, entities = parse_html(html)
    units = text.encode("utf-16-le")
    return "".join(
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in entities
        if e["type"] == "pre"
    )


def _squeeze(text: str, strict: bool) -> str:
    """What must survive the cuts (see assert_nothing_lost); if not strict, visible characters."""
    if strict:
        return re.sub(r"\s*\n\s*", "", text).strip()
    return re.sub(r"\s", "", text)


def _all_errors(message: str, status: int | None, extra: str) -> list[KeitaroError]:
    errors: list[KeitaroError] = []
    for name in keitaro_errors.__all__:
        cls = getattr(keitaro_errors, name)
        if not (isinstance(cls, type) and issubclass(cls, KeitaroError)):
            continue
        if cls is keitaro_errors.PostbackNotFound:
            errors.append(cls(abs(status or 0), extra))
        elif cls is keitaro_errors.TrackerTimeout:
            errors.append(cls(message, timeout=abs(status or 0) / 7))
        elif cls is keitaro_errors.RedirectRefused:
            errors.append(cls(message, status=status, location_host=extra or None))
        else:
            errors.append(cls(message, status=status))
    return errors


@PROPERTY
@given(
    lang=st.sampled_from(["en", "ru", "de"]),
    message=field_text,
    status=st.one_of(st.none(), st.integers(-(10**6), 10**6)),
    extra=st.one_of(hostile_text, markup_text),
    timeout=st.floats(allow_nan=True, allow_infinity=True),
)
def test_every_error_is_one_valid_line(
    lang: str, message: str, status: int | None, extra: str, timeout: float
) -> None:
    errors = _all_errors(message, status, extra)
    assert len(errors) == 20
    for error in errors:
        assert "\n" not in error.message and 0 < len(error.message) <= 300
        html = views.error_text(lang, error, timeout)
        text = telegram_text(html)
        # location_host is arbitrary here; as the client sets it (from yarl), it is one line:
        # see test_every_answer_is_json_or_a_keitaro_error.
        if not isinstance(error, keitaro_errors.RedirectRefused):
            assert "\n" not in text


# --- The error mapping ----------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        hostile_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(["error", "message", "detail", "title", "id"]), hostile_text),
            children,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


def _nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    if kind == "error":
        return b'{"error": ' * depth + b'"x"' + b"}" * depth
    return b"[" * depth  # unterminated


bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")),
    st.builds(
        _nested,
        st.sampled_from([10, 500, 990, 5_000, 100_000]),
        st.sampled_from(["list", "error", "open"]),
    ),
    st.sampled_from(
        [
            b"<html><body>SECRET-PAGE</body></html>",
            b"\xef\xbb\xbf  <!DOCTYPE html>",
            b"NaN",
            b"1" * 5000,
            b'{"cloudflare_error": true, "title": 5}',
            b'{"cloudflare_error": true}',
            b"\xff\xfe\x00",
            b"",
            b"   ",
        ]
    ),
    st.builds(
        lambda unit, n: unit * n, st.binary(min_size=1, max_size=4), st.integers(2500, 250_000)
    ),
)
header_text = st.one_of(
    hostile_text,  # aiohttp decodes header bytes with surrogateescape: lone surrogates happen
    st.sampled_from(["text/html", "application/json", "TEXT/HTML; charset=utf-8", "text/plain"]),
    st.sampled_from(["cloudflare", "nginx", "120", "-5", "nan", "1e400", "Wed, 21 Oct 2015"]),
    st.sampled_from(
        ["http://[::1", "//[", "http://a:99999/", "http://\udcff/", "https://other.example/x"]
    ),
)
headers = st.dictionaries(
    st.sampled_from(["Content-Type", "Location", "Server", "Retry-After", "content-type"]),
    header_text,
    max_size=4,
)


@PROPERTY
@given(
    status=st.one_of(st.integers(100, 999), st.integers(-1, 10**6)), headers=headers, body=bodies
)
@example(status=302, headers={"Location": "http://[::1"}, body=b"")
@example(status=301, headers={"Location": "http://\udcff/"}, body=b"")
@example(status=200, headers={}, body=b"[" * 100_000 + b"]" * 100_000)
@example(status=400, headers={}, body=b'{"error": ' * 100_000 + b"1" + b"}" * 100_000)
def test_every_answer_is_json_or_a_keitaro_error(status: int, headers: dict, body: bytes) -> None:
    try:
        data = parse_response(status, CIMultiDict(headers), body)
    except KeitaroError as error:
        # One line naming the cause, never a web page's text, and a valid reply in both languages.
        assert error.message and "\n" not in error.message and len(error.message) <= 300
        assert b"SECRET-PAGE" not in body or "SECRET-PAGE" not in error.message
        if isinstance(error, NotAnApiResponse):
            assert str(status) in error.message
        for lang in ("en", "ru"):
            text = telegram_text(views.error_text(lang, error, 15))
            assert "\n" not in text
        return
    assert 200 <= status < 300
    if body.strip(b" \t\r\n\x0b\x0c\xef\xbb\xbf"):  # NaN is valid JSON to Python: compare dumps
        assert json.dumps(data) == json.dumps(json.loads(body.decode("utf-8-sig")))
