"""The long-lived parts every handler uses, created in post_init and closed in post_shutdown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from telegram.ext import CallbackContext

from bot.config import Settings
from bot.storage import CredentialStore
from keitaro_api import KeitaroClient

_KEY = "services"


@dataclass
class Services:
    settings: Settings
    store: CredentialStore
    client: KeitaroClient


def install(bot_data: dict[object, object], services: Services) -> None:
    bot_data[_KEY] = services


def services(context: CallbackContext) -> Services:  # type: ignore[type-arg]
    return services_in(context.bot_data)


def services_in(bot_data: Mapping[object, object]) -> Services:
    found = bot_data.get(_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("services are not installed: post_init did not run")
    return found
