"""Fixtures: a fake tracker on loopback HTTP and a client allowed to reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from keitaro_api import KeitaroClient, Tracker
from tests.fakes.tracker import FakeTracker, make_campaign, make_postback

API_KEY = "test-api-key-0123456789abcdef"
MACRO_URL = "https://aff.example/pb?click={external_id}&status={status}&sum={revenue}"


def sample_campaigns() -> list[dict]:
    return [
        make_campaign(1, "Main campaign", postbacks=[make_postback(42, 1, url=MACRO_URL)]),
        make_campaign(2, "Second", postbacks=[make_postback(43, 2), make_postback(44, 2)]),
        make_campaign(3, "Empty"),
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTracker]:
    async with FakeTracker(API_KEY, sample_campaigns()) as tracker:
        yield tracker


@pytest.fixture
def tracker(fake: FakeTracker) -> Tracker:
    return Tracker.from_user_input(fake.url, API_KEY)


@pytest.fixture
async def client() -> AsyncIterator[KeitaroClient]:
    # The fake listens on 127.0.0.1, which the client refuses by default.
    async with KeitaroClient(allow_private_hosts=True, timeout=5.0) as keitaro:
        yield keitaro
