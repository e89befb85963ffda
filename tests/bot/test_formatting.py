"""Escaping and splitting: what Telegram would refuse never leaves the bot."""

from __future__ import annotations

import pytest

from bot.formatting import MESSAGE_LIMIT, escape, split_html, utf16_len, visible_length


def test_escape_neutralises_markup_and_keeps_the_text() -> None:
    assert escape("<b>a & b</b>") == "&lt;b&gt;a &amp; b&lt;/b&gt;"
    assert visible_length(escape("<b>a & b</b>")) == len("<b>a & b</b>")


def test_escape_makes_unsendable_characters_visible() -> None:
    assert escape("a\x00b\ud800c") == "a\u2400b\ufffdc"
    escape("x\ud83dy").encode("utf-8")  # a lone surrogate no longer breaks encoding


def test_visible_length_counts_entities_once_and_utf16_units() -> None:
    assert visible_length("<b>&lt;&amp;</b>") == 2
    assert visible_length("😀") == 2 == utf16_len("😀")


def test_short_text_is_one_message_unchanged() -> None:
    assert split_html("<b>hi</b>\nthere") == ["<b>hi</b>\nthere"]


def test_long_text_splits_on_line_boundaries() -> None:
    lines = [f"<b>line {i}</b> " + "x" * 90 for i in range(100)]
    parts = split_html("\n".join(lines))
    assert len(parts) > 1
    assert all(visible_length(p) <= MESSAGE_LIMIT for p in parts)
    # Every line arrives whole, in order.
    assert "\n".join(parts).split("\n") == lines


@pytest.mark.parametrize("limit", [10, 37, 4096])
def test_an_overlong_line_is_cut_with_tags_closed_and_reopened(limit: int) -> None:
    url = "https://aff.example/pb?x={external_id}&amp;" + "y" * 9000
    parts = split_html(f"<b>Title</b>\nURL:\n<pre>{url}</pre>", limit)
    assert all(visible_length(p) <= limit for p in parts)
    for part in parts:
        assert part.count("<pre>") == part.count("</pre>")
        assert part.count("<b>") == part.count("</b>")
    rebuilt = "".join(p.removeprefix("<pre>").removesuffix("</pre>") for p in parts if "<pre>" in p)
    assert rebuilt == url


def test_entities_are_never_cut_in_half() -> None:
    parts = split_html("&amp;" * 50, 7)
    assert all(p.replace("&amp;", "") == "" for p in parts)
    assert sum(p.count("&amp;") for p in parts) == 50
