"""The real bot against a tracker that breaks mid-conversation, while another chat carries on.

Each test connects a fresh chat to a loopback tracker of its own (healthy for /connect), then
breaks it: a reset in the middle of the body, no answer at all (the bot runs with
KEITARO_TIMEOUT=3), 20 MB, invalid JSON, wrong types, a redirect. The user gets one line
naming the cause within the timeout, and a lookup from another chat, on the healthy fake
tracker, is answered while the broken one is still pending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

from tests.e2e.conftest import TRACKER_TIMEOUT
from tests.e2e.harness import API_KEY, BotProcess, ask
from tests.fakes.bot_api import FakeBotAPI, SentMessage, private_chat, user
from tests.fakes.tracker import FakeTracker, make_campaign, make_postback

pytestmark = pytest.mark.asyncio(loop_scope="module")

Fault = Callable[[web.Request], Awaitable[web.StreamResponse]]
CAMPAIGN = make_campaign(1, "Main campaign", postbacks=[make_postback(42, 1)])
MB = 1024 * 1024


class BreakableTracker:
    """A loopback tracker that answers like Keitaro until ``fault`` is set."""

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.fault is not None:
            return await self.fault(request)
        if request.path.rstrip("/").endswith("/campaigns"):
            return web.json_response([CAMPAIGN])
        return web.json_response(CAMPAIGN)


async def reset_mid_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 10_000
    await response.prepare(request)
    await response.write(b'{"id": 1, "name": "Main campaign", "postbacks": [')
    await asyncio.sleep(0.05)
    assert request.transport is not None
    request.transport.abort()
    return response


async def never_answers(request: web.Request) -> web.StreamResponse:
    await asyncio.Event().wait()  # cancelled when the bot hangs up
    raise AssertionError("unreachable")


async def twenty_megabytes(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()  # no Content-Length: the bot finds out while reading
    await response.prepare(request)
    piece = b"[" + b"1," * (32 * 1024 - 1)
    for _ in range(20 * MB // len(piece)):
        await response.write(piece)
    await response.write_eof()
    return response


def answer(body: str, status: int = 200, **headers: str) -> Fault:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(
            status=status, text=body, headers={"Content-Type": "application/json", **headers}
        )

    return handle


def alice(uid: int) -> tuple[dict, dict]:
    person = user(uid, "Alice", "alice", "en")
    return private_chat(person), person


@pytest_asyncio.fixture(loop_scope="module")
async def breakable() -> AsyncIterator[BreakableTracker]:
    fake = BreakableTracker()
    await fake.start()
    yield fake
    await fake.close()


async def break_then_ask(
    tg: FakeBotAPI,
    tracker: FakeTracker,
    breakable: BreakableTracker,
    uid: int,
    fault: Fault,
) -> tuple[SentMessage, float]:
    """Connect a chat to ``breakable``, break it, look up; another chat must be served meanwhile.

    Returns the broken chat's one reply and how long it took.
    """
    chat, person = alice(uid)
    [connected] = await ask(tg, chat, person, f"/connect {breakable.url} {API_KEY}")
    assert "Connected" in connected.text, connected.text
    other_chat, other = alice(uid + 100_000)
    [other_connected] = await ask(tg, other_chat, other, f"/connect {tracker.url} {API_KEY}")
    assert "Connected" in other_connected.text, other_connected.text

    breakable.fault = fault
    started = time.monotonic()
    tg.send_message(chat, person, "/postback 42")
    await asyncio.sleep(0.2)
    [served] = await ask(tg, other_chat, other, "/postback 42", timeout=2.0)
    assert "Postback #42" in served.text and "Main campaign" in served.text, served.text

    timeout = float(TRACKER_TIMEOUT)
    [reply] = await tg.wait_for_messages(chat["id"], timeout=timeout + 2)
    elapsed = time.monotonic() - started
    assert elapsed < timeout + 1.5, elapsed
    assert "\n" not in reply.text, reply.text  # one line
    assert API_KEY not in reply.raw_text
    return reply, elapsed


async def test_reset_mid_body_is_named(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, breakable: BreakableTracker, uid: int
):
    reply, _ = await break_then_ask(tg, tracker, breakable, uid, reset_mid_body)
    assert reply.text == (
        "Could not reach the tracker: the connection broke while reading the answer."
    )


async def test_a_tracker_that_never_answers_is_reported_after_the_timeout(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, breakable: BreakableTracker, uid: int
):
    reply, elapsed = await break_then_ask(tg, tracker, breakable, uid, never_answers)
    assert reply.text.startswith(f"The tracker did not answer within {TRACKER_TIMEOUT} s."), reply
    assert elapsed >= float(TRACKER_TIMEOUT) - 0.3  # it did wait for the tracker


async def test_a_20_mb_answer_is_refused(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, breakable: BreakableTracker, uid: int
):
    reply, _ = await break_then_ask(tg, tracker, breakable, uid, twenty_megabytes)
    assert reply.text == "The tracker's response is too large to read."


async def test_invalid_json_is_named(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, breakable: BreakableTracker, uid: int
):
    fault = answer('{"id": 1, "name": "Main campaign", "postbacks": [')
    reply, _ = await break_then_ask(tg, tracker, breakable, uid, fault)
    assert reply.text == (
        "The tracker sent a response I cannot read: HTTP 200: the answer is not valid JSON"
    )


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ('["Main campaign"]', "expected a campaign, got a list"),
        ('{"id": 1, "postbacks": "42"}', "unexpected campaign from the tracker: postbacks"),
        ('{"id": null, "postbacks": []}', "unexpected campaign from the tracker: id"),
    ],
    ids=["list instead of campaign", "postbacks as a string", "null id"],
)
async def test_wrong_types_are_named(
    bot: BotProcess,
    tg: FakeBotAPI,
    tracker: FakeTracker,
    breakable: BreakableTracker,
    uid: int,
    body: str,
    cause: str,
):
    reply, _ = await break_then_ask(tg, tracker, breakable, uid, answer(body))
    assert reply.text.startswith("The tracker sent a response I cannot read: "), reply.text
    assert cause in reply.text, reply.text


async def test_a_redirect_is_refused_and_its_target_gets_nothing(
    bot: BotProcess, tg: FakeBotAPI, tracker: FakeTracker, breakable: BreakableTracker, uid: int
):
    target = FakeTracker(API_KEY, [CAMPAIGN])
    await target.start()
    try:
        fault = answer("", status=302, Location=f"{target.url}/admin_api/v1/campaigns/1")
        reply, _ = await break_then_ask(tg, tracker, breakable, uid, fault)
    finally:
        await target.close()
    assert reply.text.startswith("The tracker redirected (HTTP 302) to 127.0.0.1."), reply.text
    assert target.requests == []
