"""KeitaroClient.lookup_postback against a big loopback tracker, and the naive way, compared.

Run from the repository root::

    .venv/bin/python -m benchmarks.lookup_client

The fake tracker serves in this same process (its JSON encoding of the campaign list is part
of every list request's time, as a real tracker's would be). All traffic is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import aiohttp

from benchmarks._common import Stopwatch, Table, big_tracker, postback_ids, unknown_ids
from keitaro_api import KeitaroClient, PostbackNotFound, Tracker
from tests.fakes.tracker import API_PREFIX, FakeTracker

BURST = 100


def requests_text(fake: FakeTracker, since: int, lookups: int) -> str:
    """What the tracker received since request number ``since``, in total and per lookup."""
    kinds = Counter(
        "list" if r.path.rstrip("/") == API_PREFIX + "/campaigns" else "one"
        for r in fake.requests[since:]
    )
    total = kinds["list"] + kinds["one"]
    parts = [f"{kinds['list']} list", f"{kinds['one']} campaign"]
    return f"{total} ({' + '.join(parts)}; {total / lookups:.2f}/lookup)"


async def timed(work: Awaitable[object]) -> float:
    """Seconds that awaiting ``work`` (a coroutine not yet started) took."""
    started = time.monotonic()
    await work
    return time.monotonic() - started


async def expect_missing(client: KeitaroClient, tracker: Tracker, postback_id: int) -> None:
    try:
        await client.lookup_postback(tracker, postback_id)
    except PostbackNotFound:
        return
    raise AssertionError(f"postback {postback_id} should not exist")


async def naive_lookup(session: aiohttp.ClientSession, fake: FakeTracker, postback_id: int) -> None:
    """What other clients do: fetch every campaign, then scan (one reused session: generous)."""
    async with session.get(
        f"{fake.url}{API_PREFIX}/campaigns", headers={"Api-Key": fake.api_key}
    ) as response:
        campaigns = await response.json()
    for campaign in campaigns:
        for postback in campaign["postbacks"]:
            if postback["id"] == postback_id:
                return
    raise AssertionError(f"postback {postback_id} not found")


async def burst(
    lookup: Callable[[int], Awaitable[object]], ids: list[int]
) -> tuple[float, list[float]]:
    """All lookups at once; returns the time until the last answered and each one's latency."""
    clock = Stopwatch()
    latencies = await asyncio.gather(*(timed(lookup(i)) for i in ids))
    return clock.elapsed(), list(latencies)


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(42)
    campaigns = big_tracker(args.campaigns)
    known = postback_ids(args.campaigns)
    # The fake's own work for one list answer (copy + JSON), included in every list request.
    clock = Stopwatch()
    list_bytes = len(json.dumps(copy.deepcopy(campaigns)))
    serve_ms = clock.elapsed() * 1000
    one_bytes = len(json.dumps(campaigns[0]))
    table = Table(
        f"lookup_postback on a tracker of {args.campaigns} campaigns x 3 postbacks "
        f"(list {list_bytes / 1e6:.1f} MB, ~{serve_ms:.0f} ms of it is the fake encoding it; "
        f"one campaign {one_bytes / 1e3:.1f} kB)"
    )
    bursts = Table(f"bursts of {BURST} concurrent lookups of different ids: until all answered")

    async with FakeTracker(campaigns=campaigns) as fake:
        tracker = Tracker.from_user_input(fake.url, fake.api_key)

        def new_client(miss_refresh_interval: float = 5.0) -> KeitaroClient:
            return KeitaroClient(
                allow_private_hosts=True, miss_refresh_interval=miss_refresh_interval
            )

        # Cold: a fresh client (empty index, no pooled connection) per lookup.
        since, samples = len(fake.requests), []
        for _ in range(args.cold):
            async with new_client() as cold:
                samples.append(await timed(cold.lookup_postback(tracker, 42)))
        table.add("cold: first lookup, empty index", samples, requests_text(fake, since, args.cold))

        async with new_client() as client:
            await client.lookup_postback(tracker, 42)  # builds the index

            since = len(fake.requests)
            ids = [rng.choice(known) for _ in range(args.hits)]
            samples = [await timed(client.lookup_postback(tracker, i)) for i in ids]
            table.add("warm: index hit", samples, requests_text(fake, since, args.hits))

            await client.list_campaigns(tracker)  # the index is now moments old
            since = len(fake.requests)
            samples = [
                await timed(expect_missing(client, tracker, i))
                for i in unknown_ids(args.campaigns, args.misses)
            ]
            table.add(
                "unknown id, within miss_refresh_interval",
                samples,
                requests_text(fake, since, args.misses),
            )

            since, samples, walls_warm = len(fake.requests), [], []
            for _ in range(args.rounds):
                wall, latencies = await burst(
                    functools.partial(client.lookup_postback, tracker), rng.sample(known, BURST)
                )
                samples.extend(latencies)
                walls_warm.append(wall)
            table.add(
                f"warm: burst of {BURST}, each lookup",
                samples,
                requests_text(fake, since, BURST * args.rounds),
            )

        # A miss after the interval has passed refreshes the index: one list each time.
        async with new_client(miss_refresh_interval=0.0) as client:
            await client.lookup_postback(tracker, 42)
            since = len(fake.requests)
            samples = [
                await timed(expect_missing(client, tracker, i))
                for i in unknown_ids(args.campaigns, args.naive)
            ]
            table.add(
                "unknown id, interval passed (refresh)",
                samples,
                requests_text(fake, since, args.naive),
            )

        # Cold burst: 100 users of one tracker right after the bot starts; single flight.
        since, samples, walls_cold = len(fake.requests), [], []
        for _ in range(args.rounds):
            async with new_client() as client:
                wall, latencies = await burst(
                    functools.partial(client.lookup_postback, tracker),
                    rng.sample(known, BURST),
                )
            samples.extend(latencies)
            walls_cold.append(wall)
        table.add(
            f"cold: burst of {BURST}, each lookup",
            samples,
            requests_text(fake, since, BURST * args.rounds),
        )

        async with aiohttp.ClientSession() as session:
            since = len(fake.requests)
            samples = [
                await timed(naive_lookup(session, fake, i))
                for i in (rng.choice(known) for _ in range(args.naive))
            ]
            table.add(
                "naive: GET /campaigns every lookup",
                samples,
                requests_text(fake, since, args.naive),
            )
            since = len(fake.requests)
            wall_naive, latencies = await burst(
                functools.partial(naive_lookup, session, fake), rng.sample(known, BURST)
            )
            table.add(
                f"naive: burst of {BURST}, each lookup",
                latencies,
                requests_text(fake, since, BURST),
            )

    bursts.add("warm index (per round)", walls_warm)
    bursts.add("cold index, single flight (per round)", walls_cold)
    bursts.add("naive (one round)", [wall_naive])
    print(table.render())
    print()
    print(bursts.render())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--campaigns", type=int, default=3000)
    parser.add_argument("--cold", type=int, default=10, help="cold lookups (fresh clients)")
    parser.add_argument("--hits", type=int, default=500, help="sequential index hits")
    parser.add_argument("--misses", type=int, default=200, help="unknown ids within the interval")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each burst")
    parser.add_argument("--naive", type=int, default=10, help="naive and refreshing lookups")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
