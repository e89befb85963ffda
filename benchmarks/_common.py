"""Shared helpers of the benchmark scripts: the big tracker's data and the result table."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.tracker import make_campaign, make_postback

# Postback ids are campaign_id * 10 + k (k < POSTBACKS_PER_CAMPAIGN), so 42 is campaign 4's.
POSTBACKS_PER_CAMPAIGN = 3


def big_tracker(campaigns: int, per_campaign: int = POSTBACKS_PER_CAMPAIGN) -> list[dict[str, Any]]:
    """``campaigns`` campaigns shaped as live trackers send them, each with its postbacks."""
    return [
        make_campaign(
            c,
            f"Campaign {c}",
            postbacks=[make_postback(c * 10 + k, c) for k in range(per_campaign)],
        )
        for c in range(1, campaigns + 1)
    ]


def postback_ids(campaigns: int, per_campaign: int = POSTBACKS_PER_CAMPAIGN) -> list[int]:
    return [c * 10 + k for c in range(1, campaigns + 1) for k in range(per_campaign)]


def unknown_ids(campaigns: int, count: int) -> list[int]:
    """Ids no campaign holds (above the highest one)."""
    return [(campaigns + 1) * 10 + i for i in range(count)]


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted samples (p95 of 20 samples is the 19th)."""
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


@dataclass
class Row:
    case: str
    samples: list[float]  # seconds
    requests: str = ""


class Table:
    """Rows of latencies in milliseconds: n, min, median, p95, max, and a free "requests" text."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[Row] = []

    def add(self, case: str, samples: list[float], requests: str = "") -> None:
        self.rows.append(Row(case, samples, requests))

    def render(self) -> str:
        header = ("case", "n", "min ms", "median ms", "p95 ms", "max ms", "tracker requests")
        lines: list[tuple[str, ...]] = [header]
        for row in self.rows:
            ordered = sorted(row.samples)
            lines.append(
                (
                    row.case,
                    str(len(ordered)),
                    *(
                        _ms(value)
                        for value in (
                            ordered[0],
                            nearest_rank(ordered, 0.5),
                            nearest_rank(ordered, 0.95),
                            ordered[-1],
                        )
                    ),
                    row.requests,
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        out = [self.title]
        for number, line in enumerate(lines):
            cells = [
                cell.ljust(width) if i in (0, 6) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ]
            out.append("  ".join(cells).rstrip())
            if number == 0:
                out.append("  ".join("-" * width for width in widths))
        return "\n".join(out)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


class Stopwatch:
    """Wall time since creation, in seconds (monotonic)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started
