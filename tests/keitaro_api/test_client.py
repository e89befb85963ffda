"""The request choke point: headers, limits, redirects, timeouts, transport errors, SSRF."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from keitaro_api import (
    DEFAULT_USER_AGENT,
    ForbiddenAddress,
    KeitaroClient,
    RedirectRefused,
    RequestRecord,
    ResponseTooLarge,
    Tracker,
    TrackerTimeout,
    TransportError,
)
from tests.fakes.tracker import FakeTracker

from .conftest import API_KEY, sample_campaigns


async def test_sends_key_accept_and_own_user_agent(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    assert await client.check_key(tracker) == 3
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/admin_api/v1/campaigns")
    assert request.headers["Api-Key"] == API_KEY
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert "python" not in DEFAULT_USER_AGENT.lower()
    assert "aiohttp" not in DEFAULT_USER_AGENT.lower()


async def test_our_user_agent_passes_cloudflare_browser_signature_check(
    client: KeitaroClient,
) -> None:
    async with FakeTracker(API_KEY, sample_campaigns(), block_default_user_agents=True) as fake:
        tracker = Tracker.from_user_input(fake.url, API_KEY)
        assert await client.check_key(tracker) == 3
        # The fake really blocks default agents: the same request with aiohttp's own is refused.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{fake.url}/admin_api/v1/campaigns", headers={"Api-Key": API_KEY}) as r,
        ):
            assert r.status == 403
            assert (await r.json())["cloudflare_error"] is True


async def test_get_campaign_returns_models_and_the_masked_record(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    campaign, record = await client.get_campaign(tracker, 2)
    assert (campaign.id, campaign.name, campaign.state) == (2, "Second", "active")
    assert [p.id for p in campaign.postbacks] == [43, 44]
    assert campaign.token is not None
    assert campaign.token.get_secret_value() == "secret-click-token"
    assert campaign.model_extra is not None and campaign.model_extra["cost_type"] == "CPC"
    assert record.method == "GET"
    assert record.url == f"{fake.url}/admin_api/v1/campaigns/2"
    assert record.headers["Api-Key"] == "test…cdef"


async def test_list_campaigns_returns_every_campaign(
    tracker: Tracker, client: KeitaroClient
) -> None:
    campaigns, record = await client.list_campaigns(tracker)
    assert [c.id for c in campaigns] == [1, 2, 3]
    assert record.url.endswith("/admin_api/v1/campaigns")


async def test_redirect_is_refused_and_not_followed(client: KeitaroClient) -> None:
    async with FakeTracker(API_KEY) as target, FakeTracker(API_KEY) as redirecting:
        redirecting.redirect_to(f"{target.url}/admin_api/v1/campaigns")
        tracker = Tracker.from_user_input(redirecting.url, API_KEY)
        with pytest.raises(RedirectRefused) as caught:
            await client.check_key(tracker)
    assert caught.value.status == 302
    assert caught.value.location_host == "127.0.0.1"
    assert target.requests == []  # the key never went to the redirect target


async def test_body_over_the_cap_is_refused(fake: FakeTracker, tracker: Tracker) -> None:
    fake.fail_with(200, [{"id": i, "name": "x" * 100} for i in range(100)])
    async with KeitaroClient(allow_private_hosts=True, max_body_bytes=4096) as client:
        with pytest.raises(ResponseTooLarge, match="4 KiB"):
            await client.list_campaigns(tracker)


async def test_body_cap_holds_without_content_length(fake: FakeTracker, tracker: Tracker) -> None:
    fake.fail_with(200, "[" + ",".join(["1"] * 200_000) + "]", chunked=True)
    async with KeitaroClient(allow_private_hosts=True, max_body_bytes=100_000) as client:
        with pytest.raises(ResponseTooLarge):
            await client.list_campaigns(tracker)
        # The same client still works afterwards.
        fake.reset_faults()
        assert await client.check_key(tracker) == 3


async def test_slow_tracker_times_out(fake: FakeTracker, tracker: Tracker) -> None:
    fake.delay = 1.5
    async with KeitaroClient(allow_private_hosts=True, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(TrackerTimeout) as caught:
            await client.check_key(tracker)
    assert time.monotonic() - started < 2.0
    assert caught.value.timeout == 0.5
    assert caught.value.message == "no answer within 0.5 s"
    assert len(fake.requests) == 1  # timeouts are not retried


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused(client: KeitaroClient) -> None:
    tracker = Tracker.from_user_input(f"http://127.0.0.1:{_closed_port()}", API_KEY)
    with pytest.raises(TransportError, match=r"^connection refused$") as caught:
        await client.check_key(tracker)
    assert caught.value.status is None
    assert caught.value.request is not None


async def test_unknown_host(client: KeitaroClient) -> None:
    tracker = Tracker.from_user_input("https://no-such-host.invalid", API_KEY)
    with pytest.raises(TransportError, match=r"^host not found$"):
        await client.check_key(tracker)


@pytest.fixture
async def flaky_server() -> AsyncIterator[tuple[str, list[int]]]:
    """Drops the first connection after reading the request (like a closed keep-alive)."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.readuntil(b"\r\n\r\n")
        if len(connections) > 1:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", connections


async def test_a_dropped_connection_is_retried_once_for_get(
    flaky_server: tuple[str, list[int]], client: KeitaroClient
) -> None:
    url, connections = flaky_server
    assert await client.check_key(Tracker.from_user_input(url, API_KEY)) == 0
    assert len(connections) == 2


async def test_a_connection_dropped_every_time_is_a_transport_error(
    client: KeitaroClient,
) -> None:
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        with pytest.raises(TransportError, match="connection reset"):
            await client.check_key(Tracker.from_user_input(url, API_KEY))
    assert len(connections) == 2  # one retry, not more


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}",
        "http://localhost:{port}",
        "http://[::1]:{port}",
        "http://[::ffff:127.0.0.1]:{port}",
        "http://10.1.2.3:{port}",
        "http://192.168.1.10:{port}",
        "http://172.16.0.1:{port}",
        "http://169.254.169.254:{port}",
        "http://0.0.0.0:{port}",
        "http://100.64.0.1:{port}",
        "http://[fe80::1]:{port}",
        "http://224.0.0.1:{port}",
    ],
)
async def test_private_addresses_are_refused_before_sending(fake: FakeTracker, url: str) -> None:
    port = fake.url.rsplit(":", 1)[1]
    tracker = Tracker.from_user_input(url.format(port=port), API_KEY)
    async with KeitaroClient(timeout=2.0) as client:
        with pytest.raises(ForbiddenAddress) as caught:
            await client.check_key(tracker)
    assert caught.value.request is not None
    assert fake.requests == []
    assert " a a" not in str(caught.value) and " a u" not in str(caught.value)  # "an unspecified"


@pytest.fixture
def dns_points_at_loopback(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make "tracker.example.com" resolve to 127.0.0.1 (like a DNS-rebinding attacker)."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "tracker.example.com":
            host = "127.0.0.1"
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return "tracker.example.com"


async def test_names_resolving_to_private_addresses_are_refused_at_request_time(
    fake: FakeTracker, dns_points_at_loopback: str
) -> None:
    port = fake.url.rsplit(":", 1)[1]
    tracker = Tracker.from_user_input(f"http://{dns_points_at_loopback}:{port}", API_KEY)
    async with KeitaroClient(timeout=2.0) as client:
        with pytest.raises(ForbiddenAddress, match=r"resolves to 127\.0\.0\.1, a loopback"):
            await client.check_key(tracker)
    assert fake.requests == []
    # The same name does reach the tracker when private hosts are allowed.
    async with KeitaroClient(timeout=2.0, allow_private_hosts=True) as client:
        assert await client.check_key(tracker) == 3


async def test_name_check_also_applies_to_a_session_passed_in(
    fake: FakeTracker, dns_points_at_loopback: str
) -> None:
    port = fake.url.rsplit(":", 1)[1]
    tracker = Tracker.from_user_input(f"http://{dns_points_at_loopback}:{port}", API_KEY)
    async with aiohttp.ClientSession() as session:
        client = KeitaroClient(session=session, timeout=2.0)
        with pytest.raises(ForbiddenAddress, match="resolves to"):
            await client.check_key(tracker)
        await client.close()
        assert not session.closed  # a session passed in is the caller's to close
    assert fake.requests == []


async def test_one_session_and_reused_connections_across_trackers(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    async with FakeTracker("another-key-for-the-second-one", sample_campaigns()) as second:
        other = Tracker.from_user_input(second.url, "another-key-for-the-second-one")
        for _ in range(3):
            await client.check_key(tracker)
            await client.check_key(other)
    # Each tracker saw its three requests over one kept-alive connection.
    assert len(fake.remote_ports) == 3 and len(set(fake.remote_ports)) == 1
    assert len(second.remote_ports) == 3 and len(set(second.remote_ports)) == 1


async def test_close_closes_only_its_own_session(tracker: Tracker) -> None:
    client = KeitaroClient(allow_private_hosts=True)
    await client.check_key(tracker)
    session = client._session
    assert session is not None and not session.closed
    await client.close()
    assert session.closed


async def test_on_request_sees_every_request_masked(fake: FakeTracker, tracker: Tracker) -> None:
    seen: list[tuple[RequestRecord, int | None, float]] = []
    async with KeitaroClient(allow_private_hosts=True, on_request=lambda *a: seen.append(a)) as c:
        await c.check_key(tracker)
        fake.fail_with(500, {"error": "boom"}, times=1)
        with pytest.raises(Exception, match="boom"):
            await c.get_campaign(tracker, 1)
    assert [(r.url.rsplit("/v1", 1)[1], status) for r, status, _ in seen] == [
        ("/campaigns", 200),
        ("/campaigns/1", 500),
    ]
    assert all(elapsed >= 0 for _, _, elapsed in seen)
    assert API_KEY not in repr(seen)


async def test_a_failing_on_request_callback_does_not_break_requests(
    tracker: Tracker,
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("log sink down")

    async with KeitaroClient(allow_private_hosts=True, on_request=explode) as client:
        assert await client.check_key(tracker) == 3
