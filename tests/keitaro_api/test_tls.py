"""TLS: verified by default; a self-signed tracker is trusted only when both sides say so."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest

from keitaro_api import CertificateError, KeitaroClient, Tracker, TransportError
from tests.fakes.tls import self_signed_server_context
from tests.fakes.tracker import FakeTracker

from .conftest import API_KEY, sample_campaigns


@pytest.fixture(scope="module")
def server_context() -> ssl.SSLContext:
    return self_signed_server_context()


@pytest.fixture
async def https_fake(server_context: ssl.SSLContext) -> AsyncIterator[FakeTracker]:
    fake = FakeTracker(API_KEY, sample_campaigns())
    await fake.start(ssl_context=server_context)
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def trusting_client() -> AsyncIterator[KeitaroClient]:
    async with KeitaroClient(
        allow_private_hosts=True, allow_unverified_tls=True, timeout=5.0
    ) as keitaro:
        yield keitaro


async def test_a_self_signed_certificate_fails_verification_by_default(
    https_fake: FakeTracker, trusting_client: KeitaroClient
) -> None:
    assert https_fake.url.startswith("https://127.0.0.1:")
    tracker = Tracker.from_user_input(https_fake.url, API_KEY)
    assert tracker.verify_tls is True

    with pytest.raises(CertificateError) as caught:
        await trusting_client.check_key(tracker)

    assert isinstance(caught.value, TransportError)
    assert str(caught.value) == "TLS certificate verification failed: self-signed certificate"
    assert API_KEY not in repr(caught.value)
    assert caught.value.request is not None
    assert https_fake.requests == []  # the key never went over the untrusted connection


async def test_verify_tls_false_trusts_the_certificate(
    https_fake: FakeTracker, trusting_client: KeitaroClient
) -> None:
    tracker = Tracker.from_user_input(https_fake.url, API_KEY, verify_tls=False)

    assert await trusting_client.check_key(tracker) == 3
    found = await trusting_client.lookup_postback(tracker, 43)

    assert (found.postback.id, found.campaign.id) == (43, 2)
    assert [r.headers["Api-Key"] for r in https_fake.requests] == [API_KEY, API_KEY]


async def test_a_client_that_does_not_allow_it_verifies_anyway(https_fake: FakeTracker) -> None:
    tracker = Tracker.from_user_input(https_fake.url, API_KEY, verify_tls=False)
    async with KeitaroClient(allow_private_hosts=True, timeout=5.0) as strict:
        with pytest.raises(CertificateError, match="certificate"):
            await strict.check_key(tracker)
    assert https_fake.requests == []


async def test_an_unverified_connection_or_index_never_serves_a_verified_tracker(
    https_fake: FakeTracker, trusting_client: KeitaroClient
) -> None:
    unverified = Tracker.from_user_input(https_fake.url, API_KEY, verify_tls=False)
    verified = Tracker.from_user_input(https_fake.url, API_KEY)
    await trusting_client.check_key(unverified)  # a pooled keep-alive connection and an index
    assert (await trusting_client.lookup_postback(unverified, 42)).from_index is True

    with pytest.raises(CertificateError) as caught:
        await trusting_client.lookup_postback(verified, 42)
    # Not GET /campaigns/1 from the unverified tracker's index: an index of its own, refreshed.
    assert caught.value.request is not None
    assert caught.value.request.url.endswith("/admin_api/v1/campaigns")
    with pytest.raises(CertificateError):
        await trusting_client.check_key(verified)

    assert len(https_fake.requests) == 2  # only the unverified tracker's own requests


def test_tracker_repr_says_unverified_and_never_shows_the_key() -> None:
    tracker = Tracker.from_user_input("https://10.0.0.1", API_KEY, verify_tls=False)

    assert (
        repr(tracker) == "Tracker(root='https://10.0.0.1', api_key='test…cdef', verify_tls=False)"
    )
    assert "verify_tls" not in repr(Tracker.from_user_input("https://10.0.0.1", API_KEY))
    assert tracker != Tracker.from_user_input("https://10.0.0.1", API_KEY)
