"""lookup_postback and its index, counted in requests the tracker actually received."""

from __future__ import annotations

import asyncio

import pytest

from keitaro_api import AuthError, KeitaroClient, PostbackNotFound, Tracker
from tests.fakes.tracker import UNAUTHORIZED, FakeTracker, make_campaign, make_postback

from .conftest import MACRO_URL

LIST = "/campaigns"


def paths(fake: FakeTracker) -> list[str]:
    return [r.path.removeprefix("/admin_api/v1") for r in fake.requests]


async def test_first_lookup_is_one_list_request(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    found = await client.lookup_postback(tracker, 42)
    assert (found.postback.id, found.postback.url, found.postback.statuses) == (
        42,
        MACRO_URL,
        ["lead", "sale"],
    )
    assert (found.campaign.id, found.campaign.name) == (1, "Main campaign")
    assert found.from_index is False
    assert found.request.url.endswith("/admin_api/v1/campaigns")
    assert paths(fake) == [LIST]


async def test_second_lookup_is_one_small_campaign_request(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    await client.lookup_postback(tracker, 43)
    fake.requests.clear()
    found = await client.lookup_postback(tracker, 43)
    assert found.from_index is True
    assert (found.postback.id, found.campaign.id) == (43, 2)
    assert found.request.url.endswith("/admin_api/v1/campaigns/2")
    assert paths(fake) == ["/campaigns/2"]


async def test_check_key_primes_the_index(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    assert await client.check_key(tracker) == 3
    found = await client.lookup_postback(tracker, 44)
    assert found.from_index is True
    assert paths(fake) == [LIST, "/campaigns/2"]


async def test_fresh_data_comes_from_the_campaign_request(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    await client.lookup_postback(tracker, 42)
    fake.campaigns[1]["postbacks"][0]["url"] = "https://new.example/pb?c={external_id}"
    found = await client.lookup_postback(tracker, 42)
    assert found.postback.url == "https://new.example/pb?c={external_id}"


async def test_a_miss_refreshes_the_index(fake: FakeTracker, tracker: Tracker) -> None:
    async with KeitaroClient(allow_private_hosts=True, miss_refresh_interval=0) as client:
        await client.check_key(tracker)
        fake.add_campaign(make_campaign(7, "New", postbacks=[make_postback(77, 7)]))
        found = await client.lookup_postback(tracker, 77)
    assert (found.campaign.id, found.from_index) == (7, False)
    assert paths(fake) == [LIST, LIST]


async def test_repeated_misses_do_not_hammer_the_tracker(
    fake: FakeTracker, tracker: Tracker
) -> None:
    async with KeitaroClient(allow_private_hosts=True, miss_refresh_interval=0.3) as client:
        for _ in range(5):
            with pytest.raises(PostbackNotFound) as caught:
                await client.lookup_postback(tracker, 999)
        assert paths(fake) == [LIST]  # one refresh, then answered from the index
        error = caught.value
        assert (error.postback_id, error.tracker, error.status) == (999, fake.url, None)
        assert str(error) == f"postback #999 not found on {fake.url}"
        assert error.request is not None and error.request.url.endswith("/campaigns")

        await asyncio.sleep(0.35)  # once the interval has passed, a miss refreshes again
        fake.add_campaign(make_campaign(9, "Later", postbacks=[make_postback(999, 9)]))
        found = await client.lookup_postback(tracker, 999)
    assert found.campaign.id == 9
    assert paths(fake) == [LIST, LIST]


async def test_moved_postback_is_found_after_a_refresh(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    await client.lookup_postback(tracker, 42)
    fake.move_postback(42, 3)
    fake.requests.clear()
    # Within the miss interval too: the index itself was proven wrong, so it refreshes.
    found = await client.lookup_postback(tracker, 42)
    assert (found.campaign.id, found.campaign.name, found.from_index) == (3, "Empty", False)
    assert paths(fake) == ["/campaigns/1", LIST]
    fake.requests.clear()
    assert (await client.lookup_postback(tracker, 42)).from_index is True
    assert paths(fake) == ["/campaigns/3"]


async def test_deleted_campaign_is_handled(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    await client.lookup_postback(tracker, 42)
    fake.remove_campaign(1)
    fake.requests.clear()
    with pytest.raises(PostbackNotFound):
        await client.lookup_postback(tracker, 42)
    assert paths(fake) == ["/campaigns/1", LIST]  # the 404 was not the answer: it re-checked
    fake.requests.clear()
    with pytest.raises(PostbackNotFound):
        await client.lookup_postback(tracker, 42)
    assert paths(fake) == []  # forgotten, and the list is fresh


async def test_concurrent_misses_share_one_list_request(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.delay = 0.2  # keep the refresh in flight while the others queue
    ids = [42, 43, 44, 999] * 7 + [42, 43]
    results = await asyncio.gather(
        *(client.lookup_postback(tracker, i) for i in ids), return_exceptions=True
    )
    assert paths(fake) == [LIST]
    for postback_id, result in zip(ids, results, strict=True):
        if postback_id == 999:
            assert isinstance(result, PostbackNotFound)
        else:
            assert not isinstance(result, BaseException)
            assert result.postback.id == postback_id


async def test_concurrent_lookups_share_a_failed_refresh(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.delay = 0.2
    fake.fail_with(UNAUTHORIZED)
    results = await asyncio.gather(
        *(client.lookup_postback(tracker, 42) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, AuthError) for r in results)
    assert len(fake.requests) == 1


async def test_stale_index_is_refreshed(fake: FakeTracker, tracker: Tracker) -> None:
    async with KeitaroClient(allow_private_hosts=True, index_ttl=0.0) as client:
        await client.lookup_postback(tracker, 42)
        found = await client.lookup_postback(tracker, 42)
    assert found.from_index is False
    assert paths(fake) == [LIST, LIST]


async def test_the_index_is_per_key(fake: FakeTracker, client: KeitaroClient) -> None:
    tracker = Tracker.from_user_input(fake.url, fake.api_key)
    await client.lookup_postback(tracker, 42)
    other_key = Tracker.from_user_input(fake.url, "some-other-key-0123456789")
    with pytest.raises(AuthError):
        await client.lookup_postback(other_key, 42)  # not answered from the first key's index
    assert paths(fake) == [LIST, LIST]


async def test_not_found_means_the_tracker_was_asked(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    # Right after /connect primed the index, an unknown id still asks the tracker: a postback
    # created a second ago is found, and a revoked key says so instead of "not found".
    await client.check_key(tracker)
    fake.add_campaign(make_campaign(9, "New", postbacks=[make_postback(99, 9)]))
    assert (await client.lookup_postback(tracker, 99)).campaign.name == "New"
    fake.fail_with(UNAUTHORIZED, times=1)
    with pytest.raises(AuthError):
        await client.lookup_postback(tracker, 777)


async def test_asking_again_for_a_confirmed_miss_costs_nothing_for_a_while(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    with pytest.raises(PostbackNotFound):
        await client.lookup_postback(tracker, 777)
    fake.requests.clear()
    for _ in range(5):
        with pytest.raises(PostbackNotFound):
            await client.lookup_postback(tracker, 777)
    assert paths(fake) == []
    with pytest.raises(PostbackNotFound):
        await client.lookup_postback(tracker, 778)  # another id: the tracker is asked
    assert paths(fake) == [LIST]
