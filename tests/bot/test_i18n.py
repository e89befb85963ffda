"""The two catalogues say the same things with the same placeholders."""

from __future__ import annotations

import pytest

from bot.i18n import CATALOGUES, language_for, placeholders, plural, t


def test_catalogues_have_the_same_keys() -> None:
    assert set(CATALOGUES["en"]) == set(CATALOGUES["ru"])


@pytest.mark.parametrize("key", sorted(CATALOGUES["en"]))
def test_catalogues_have_the_same_placeholders(key: str) -> None:
    en, ru = CATALOGUES["en"][key], CATALOGUES["ru"][key]
    if isinstance(en, str):
        assert isinstance(ru, str)
        assert placeholders(en) == placeholders(ru)
    else:
        assert isinstance(en, dict) and isinstance(ru, dict)
        assert all(placeholders(form) == {"n"} for form in [*en.values(), *ru.values()])


@pytest.mark.parametrize(
    ("code", "lang"), [("ru", "ru"), ("ru-RU", "ru"), ("en", "en"), ("uk", "en"), (None, "en")]
)
def test_language_follows_the_telegram_client(code: str | None, lang: str) -> None:
    assert language_for(code) == lang


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 кампания"),
        (2, "2 кампании"),
        (5, "5 кампаний"),
        (11, "11 кампаний"),
        (21, "21 кампания"),
        (22, "22 кампании"),
        (112, "112 кампаний"),
        (0, "0 кампаний"),
    ],
)
def test_russian_plurals(n: int, text: str) -> None:
    assert plural("ru", "campaigns", n) == text


def test_english_plurals() -> None:
    assert plural("en", "campaigns", 1) == "1 campaign"
    assert plural("en", "campaigns", 2) == "2 campaigns"


def test_values_are_escaped_into_templates() -> None:
    text = t("en", "postback.not_found", id=42, tracker="<script>&")
    assert text == "Postback 42 not found on &lt;script&gt;&amp;."
