"""A tracker that hangs holds only its own connections: other trackers stay fast."""

from __future__ import annotations

import asyncio
import time

from keitaro_api import KeitaroClient, Tracker, TrackerTimeout
from tests.fakes.tracker import FakeTracker, make_campaign, make_postback

KEY = "isolation-key-0123456789abcdef"


async def test_requests_piling_up_on_a_hanging_tracker_do_not_block_another_tracker():
    campaigns = [make_campaign(1, "One", postbacks=[make_postback(42, 1)])]
    async with (
        FakeTracker(api_key=KEY, campaigns=campaigns, delay=30) as hanging,
        FakeTracker(api_key=KEY, campaigns=campaigns) as healthy,
        KeitaroClient(allow_private_hosts=True, timeout=4) as client,
    ):
        stuck = Tracker.from_user_input(hanging.url, KEY)
        fine = Tracker.from_user_input(healthy.url, KEY)
        # More requests than a default aiohttp pool (100 connections) would ever let through.
        pile = [asyncio.ensure_future(client.get_campaign(stuck, 1)) for _ in range(150)]
        await asyncio.sleep(0.5)
        started = time.monotonic()
        campaign, _ = await client.get_campaign(fine, 1)
        assert campaign.name == "One"
        assert time.monotonic() - started < 1.0
        results = await asyncio.gather(*pile, return_exceptions=True)
        assert all(isinstance(r, TrackerTimeout) for r in results)
