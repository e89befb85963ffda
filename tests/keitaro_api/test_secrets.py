"""The API key and the campaigns' Click API tokens never show: reprs, errors, records, dumps."""

from __future__ import annotations

import logging

import pytest

from keitaro_api import (
    Campaign,
    KeitaroClient,
    KeitaroError,
    PostbackLookup,
    RequestRecord,
    Tracker,
)
from tests.fakes import tracker as shapes
from tests.fakes.tracker import FakeTracker

from .conftest import API_KEY

TOKEN = "secret-click-token"


def assert_no_secret(*things: object) -> None:
    for thing in things:
        for text in (str(thing), repr(thing)):
            assert API_KEY not in text
            assert TOKEN not in text


def test_tracker_shows_only_a_masked_key() -> None:
    tracker = Tracker.from_user_input(" https://t.example.com/admin/ ", f"  {API_KEY}\n")
    assert tracker.root == "https://t.example.com"
    assert tracker.base_url == "https://t.example.com/admin_api/v1"
    assert tracker.api_key.get_secret_value() == API_KEY
    assert repr(tracker) == "Tracker(root='https://t.example.com', api_key='test…cdef')"
    assert_no_secret(tracker)


def test_tracker_accepts_a_plain_string_key_but_still_hides_it() -> None:
    tracker = Tracker(root="https://t.example.com/", api_key=API_KEY)  # type: ignore[arg-type]
    assert tracker.root == "https://t.example.com"
    assert_no_secret(tracker)


@pytest.mark.parametrize("key", ["", "   ", "\n"])
def test_empty_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="empty API key"):
        Tracker.from_user_input("t.example.com", key)


def test_key_with_spaces_inside_is_refused() -> None:
    with pytest.raises(ValueError):
        Tracker.from_user_input("t.example.com", "abc def")


def test_request_record_masks_credential_headers() -> None:
    record = RequestRecord(
        method="GET",
        url="https://t.example.com/admin_api/v1/campaigns",
        headers={"Api-Key": API_KEY, "Authorization": f"Bearer {API_KEY}", "Accept": "x"},
    )
    assert record.headers == {
        "Api-Key": "test…cdef",
        "Authorization": "Bearer test…cdef",
        "Accept": "x",
    }
    assert_no_secret(record, record.model_dump(), record.model_dump_json())


async def test_nothing_the_client_returns_or_raises_holds_a_secret(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    records: list[object] = []
    async with KeitaroClient(
        allow_private_hosts=True, on_request=lambda *args: records.append(args)
    ) as logged:
        found = await logged.lookup_postback(tracker, 42)
        campaign, record = await logged.get_campaign(tracker, 2)
        campaigns, _ = await logged.list_campaigns(tracker)
        errors: list[KeitaroError] = []
        for fault in shapes.ERROR_SHAPES.values():
            fake.reset_faults()
            fake.fail_with(fault)
            with pytest.raises(KeitaroError) as caught:
                await logged.get_campaign(tracker, 1)
            errors.append(caught.value)
    assert isinstance(found, PostbackLookup)
    assert_no_secret(
        logged,
        tracker,
        found,
        found.model_dump(),
        found.model_dump_json(),
        campaign,
        campaign.model_dump(),
        campaign.model_dump_json(),
        record,
        campaigns,
        records,
        *errors,
        *(error.request for error in errors),
        caplog.text,
    )


async def test_a_key_echoed_by_the_tracker_is_masked_in_the_error(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(400, {"error": f"Invalid key {API_KEY} for this user"})
    with pytest.raises(KeitaroError) as caught:
        await client.list_campaigns(tracker)
    assert caught.value.message == "Invalid key test…cdef for this user"
    assert_no_secret(caught.value, caught.value.args)


def test_campaign_token_is_kept_but_never_shown() -> None:
    campaign = Campaign.model_validate(
        {"id": 1, "name": "A", "token": TOKEN, "postbacks": None, "custom": {"x": 1}}
    )
    assert campaign.token is not None and campaign.token.get_secret_value() == TOKEN
    assert campaign.postbacks == []
    assert campaign.model_extra == {"custom": {"x": 1}}  # unknown fields are not lost
    assert_no_secret(campaign, campaign.model_dump(), campaign.model_dump_json())
