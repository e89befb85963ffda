"""The real bot process against the local fake Bot API and fake trackers: what a user waits for.

Run from the repository root::

    .venv/bin/python -m benchmarks.bot_roundtrip

``python -m bot`` runs as a child process, exactly as deployed; the fake Bot API and the fake
trackers serve in this process, on 127.0.0.1. A reply's time is when its sendMessage reached
the fake Bot API, counted from when the user's message was put in the update queue.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from benchmarks._common import Stopwatch, Table, big_tracker, postback_ids
from tests.e2e.harness import API_KEY, BotProcess
from tests.fakes.bot_api import FakeBotAPI, private_chat, user
from tests.fakes.tracker import FakeTracker, make_campaign, make_postback

TRACKER_TIMEOUT = 5
CHATS = 50
FIRST_CHAT = 10_001
LIMITER_REFILL = 1.1  # seconds for PTB's rate limiter (30 messages/s) to be full again


class Driver:
    """Sends users' messages and reads when the bot's replies reached the fake Bot API."""

    def __init__(self, tg: FakeBotAPI) -> None:
        self.tg = tg

    def send(self, chat_id: int, text: str) -> float:
        person = user(chat_id, f"User {chat_id}", f"user{chat_id}", "en")
        sent_at = time.monotonic()
        self.tg.send_message(private_chat(person), person, text)
        return sent_at

    async def reply(self, chat_id: int, sent_at: float, timeout: float = 30) -> tuple[float, str]:  # noqa: ASYNC109
        """Seconds from ``sent_at`` to the bot's next reply in the chat, and its text."""
        [message] = await self.tg.wait_for_messages(chat_id, timeout=timeout)
        arrived = next(
            call.time
            for call in reversed(self.tg.calls)
            if call.method == "sendMessage"
            and int(call.params.get("chat_id", 0)) == chat_id
            and call.time >= sent_at
        )
        return arrived - sent_at, message.text

    async def ask(self, chat_id: int, text: str, expect: str) -> float:
        latency, answer = await self.reply(chat_id, self.send(chat_id, text))
        if expect not in answer:
            raise AssertionError(f"chat {chat_id}: {text!r} got {answer!r}, expected {expect!r}")
        return latency


async def start_bot(tg: FakeBotAPI, workdir: Path, env: dict[str, str]) -> tuple[BotProcess, float]:
    """Start ``python -m bot``; returns it and the seconds until its first getUpdates."""
    bot = BotProcess(tg, workdir, env)
    started = time.monotonic()
    await bot.start(timeout=30)
    first_poll = min(c.time for c in tg.calls if c.method == "getUpdates" and c.time >= started)
    return bot, first_poll - started


async def run(args: argparse.Namespace) -> None:
    clock = Stopwatch()
    rng = random.Random(42)
    env = {
        "KEITARO_ALLOW_PRIVATE_HOSTS": "true",
        "KEITARO_TIMEOUT": str(TRACKER_TIMEOUT),
        "LOG_LEVEL": "WARNING",
    }
    chats = list(range(FIRST_CHAT, FIRST_CHAT + CHATS))
    known = postback_ids(args.campaigns)
    table = Table(
        f"python -m bot against the fake Bot API and a tracker of {args.campaigns} campaigns "
        f"x 3 postbacks (KEITARO_TIMEOUT={TRACKER_TIMEOUT})"
    )
    hung_campaign = make_campaign(1, "Hanging", postbacks=[make_postback(42, 1)])

    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        async with (
            FakeBotAPI() as tg,
            FakeTracker(api_key=API_KEY, campaigns=big_tracker(args.campaigns)) as tracker,
            FakeTracker(api_key=API_KEY, campaigns=[hung_campaign]) as hanging,
        ):
            driver = Driver(tg)
            startups = []
            for _ in range(args.starts - 1):
                bot, seconds = await start_bot(tg, Path(tmp), env)
                startups.append(seconds)
                await bot.stop()
            bot, seconds = await start_bot(tg, Path(tmp), env)
            startups.append(seconds)
            table.add("start-up: process start to first getUpdates", startups)
            try:
                await scenarios(args, table, driver, tracker, hanging, chats, known, rng)
            finally:
                code = await bot.stop()
            log = bot.log()
            if code != 0 or "Traceback" in log:
                raise SystemExit(f"the bot exited with {code}; its log:\n{log}")
    print(table.render())
    print(f"(whole run: {clock.elapsed():.1f} s)")


async def scenarios(
    args: argparse.Namespace,
    table: Table,
    driver: Driver,
    tracker: FakeTracker,
    hanging: FakeTracker,
    chats: list[int],
    known: list[int],
    rng: random.Random,
) -> None:
    def requests_since(since: int, lookups: int) -> str:
        count = len(tracker.requests) - since
        return f"{count} ({count / lookups:.2f} per reply)"

    # /connect: one campaign-list request each (it checks the key and primes the index).
    connect = f"/connect {tracker.url} {API_KEY}"
    alone, together = chats[: args.connects], chats[args.connects :]
    since = len(tracker.requests)
    samples = [await driver.ask(chat, connect, "Connected") for chat in alone]
    table.add("/connect (checks key: GET /campaigns)", samples, requests_since(since, len(alone)))
    await asyncio.sleep(LIMITER_REFILL)
    since, samples = len(tracker.requests), []
    for wave in range(0, len(together), args.wave):
        samples += await asyncio.gather(
            *(driver.ask(chat, connect, "Connected") for chat in together[wave : wave + args.wave])
        )
        await asyncio.sleep(LIMITER_REFILL)
    if together:
        table.add(
            f"/connect, {args.wave} chats at once: each",
            samples,
            requests_since(since, len(together)),
        )

    me = chats[0]
    since = len(tracker.requests)
    samples = [await driver.ask(me, "/postback 42", "Postback #42") for _ in range(args.lookups)]
    table.add(
        f"/postback 42 x{args.lookups}, back to back", samples, requests_since(since, args.lookups)
    )
    await asyncio.sleep(LIMITER_REFILL)

    since, samples = len(tracker.requests), []
    for _ in range(args.lookups):
        samples.append(await driver.ask(me, "/postback 42", "Postback #42"))
        await asyncio.sleep(args.gap)
    table.add(
        f"/postback 42 x{args.lookups}, {args.gap * 1000:.0f} ms apart",
        samples,
        requests_since(since, args.lookups),
    )
    await asyncio.sleep(LIMITER_REFILL)

    since, walls, samples = len(tracker.requests), [], []
    for _ in range(args.bursts):
        ids = rng.sample(known, len(chats))
        clock = Stopwatch()
        sent = [driver.send(chat, f"/postback {i}") for chat, i in zip(chats, ids, strict=True)]
        answers = await asyncio.gather(
            *(driver.reply(chat, at) for chat, at in zip(chats, sent, strict=True))
        )
        walls.append(clock.elapsed())
        for (latency, text), i in zip(answers, ids, strict=True):
            if f"Postback #{i}" not in text:
                raise AssertionError(f"burst lookup of {i} got {text!r}")
            samples.append(latency)
        await asyncio.sleep(LIMITER_REFILL)
    burst = f"burst of {len(chats)} chats at once"
    table.add(f"{burst}: each reply", samples, requests_since(since, len(samples)))
    table.add(f"{burst}: until all answered", walls)

    # One chat's tracker hangs: its lookups wait out KEITARO_TIMEOUT, others must not wait.
    stuck = chats[-1] + 1
    await driver.ask(stuck, f"/connect {hanging.url} {API_KEY}", "Connected")
    await asyncio.sleep(LIMITER_REFILL)
    hanging.delay = 60
    sent = [driver.send(stuck, "/postback 42") for _ in range(args.hung)]
    stuck_replies = asyncio.gather(*(driver.reply(stuck, at) for at in sent))
    since, samples = len(tracker.requests), []
    others = iter(chats * 100)
    await asyncio.sleep(0.2)  # the hung lookups are in flight
    while time.monotonic() - sent[0] < TRACKER_TIMEOUT - 0.5:
        samples.append(await driver.ask(next(others), "/postback 42", "Postback #42"))
        await asyncio.sleep(args.gap)
    answers = await stuck_replies
    hanging.delay = 0
    hung = f"{args.hung} lookup(s) of one chat on a hung tracker"
    table.add(
        f"other chats, {args.gap * 1000:.0f} ms apart, during {hung}",
        samples,
        requests_since(since, len(samples)),
    )
    for _, text in answers:
        if f"did not answer within {TRACKER_TIMEOUT} s" not in text:
            raise AssertionError(f"the hung lookup got {text!r}")
    table.add("the hung chat: timeout replies", [latency for latency, _ in answers])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--campaigns", type=int, default=3000)
    parser.add_argument("--starts", type=int, default=3, help="bot start-ups to time")
    parser.add_argument("--lookups", type=int, default=200, help="sequential lookups")
    parser.add_argument("--gap", type=float, default=0.035, help="seconds between paced lookups")
    parser.add_argument("--bursts", type=int, default=3, help="rounds of the 50-chat burst")
    parser.add_argument("--connects", type=int, default=10, help="sequential /connects")
    parser.add_argument("--wave", type=int, default=10, help="concurrent /connects, the rest")
    parser.add_argument("--hung", type=int, default=10, help="lookups waiting on the hung tracker")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
