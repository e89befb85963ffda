"""Translations: every user-facing text, in English and Russian, with identical keys.

Templates are Telegram HTML with ``{placeholders}``. Values are escaped when they are filled in,
unless they are :class:`Markup` (HTML the formatting module already built). The language is
passed explicitly with every call. Which language an update is answered in lives in
:data:`current_language`, a ContextVar: PTB handles each update in a task of its own, so
concurrent updates never mix languages.
"""

from __future__ import annotations

import string
from contextvars import ContextVar
from typing import Any, Literal

from bot.formatting import Markup, escape
from bot.i18n import en, ru

Lang = Literal["en", "ru"]
LANGUAGES: tuple[Lang, ...] = ("en", "ru")
CATALOGUES: dict[str, dict[str, Any]] = {"en": en.TEXTS, "ru": ru.TEXTS}

# The language of the update being handled: set before any handler runs (the chat's /language
# choice, else the user's Telegram language) by bot.handlers.language; None outside an update.
current_language: ContextVar[Lang | None] = ContextVar("current_language", default=None)


def language_for(language_code: str | None) -> Lang:
    """Russian for a Russian Telegram client, English for everyone else (and for no code)."""
    if language_code and language_code.lower().split("-")[0] == "ru":
        return "ru"
    return "en"


def _template(lang: str, key: str) -> Any:
    catalogue = CATALOGUES.get(lang, en.TEXTS)
    return catalogue[key] if key in catalogue else en.TEXTS[key]


def t(lang: str, key: str, /, **values: object) -> Markup:
    """The text ``key`` in ``lang`` as HTML, with ``values`` escaped into its placeholders."""
    template = _template(lang, key)
    if not isinstance(template, str):
        raise TypeError(f"{key} is a plural entry: use plural()")
    safe = {
        name: value if isinstance(value, Markup) else escape(str(value))
        for name, value in values.items()
    }
    return Markup(template.format_map(safe))


def plural(lang: str, key: str, count: int) -> Markup:
    """``count`` with the right noun form: "1 campaign", "21 кампания", "5 кампаний"."""
    forms: dict[str, str] = _template(lang, key)
    return Markup(forms[_plural_form(lang, count)].format(n=count))


def _plural_form(lang: str, count: int) -> str:
    n = abs(count)
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def placeholders(template: str) -> set[str]:
    """Placeholder names in a template (used to check that the catalogues agree)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
