"""SetupLinks: single-use, per-admin, expiring links for private group setup, on a fake clock."""

from __future__ import annotations

import re

import pytest

from bot.setup_links import Group, LinkRefused, Setup, SetupLinks

TEAM = Group(-1001, "Team", None)
ADA, MAX = 1, 2


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(clock: Clock) -> SetupLinks:
    return SetupLinks(ttl=600, clock=clock)


def test_tokens_are_unguessable_and_fit_a_deep_link(links: SetupLinks):
    tokens = {links.issue(TEAM, ADA) for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token) for token in tokens)


def test_a_link_starts_a_setup_for_its_group_once(links: SetupLinks):
    token = links.issue(TEAM, ADA)
    setup = links.redeem(token, ADA)
    assert isinstance(setup, Setup) and setup.group == TEAM
    assert links.setup_of(ADA) is setup
    assert links.redeem(token, ADA) is LinkRefused.USED
    assert links.redeem("not-a-token", ADA) is LinkRefused.UNKNOWN


def test_only_its_admin_can_use_a_link_and_others_do_not_use_it_up(links: SetupLinks):
    token = links.issue(TEAM, ADA)
    assert links.redeem(token, MAX) is LinkRefused.NOT_YOURS
    assert links.setup_of(MAX) is None
    assert isinstance(links.redeem(token, ADA), Setup)


def test_a_link_expires_after_the_ttl(links: SetupLinks, clock: Clock):
    early, late = links.issue(TEAM, ADA), links.issue(TEAM, ADA)
    clock.now += 599
    assert isinstance(links.redeem(early, ADA), Setup)
    clock.now += 1
    assert links.redeem(late, ADA) is LinkRefused.EXPIRED


def test_stale_links_and_setups_are_forgotten(links: SetupLinks, clock: Clock):
    token = links.issue(TEAM, ADA)
    links.redeem(links.issue(TEAM, MAX), MAX)
    clock.now += 1200
    assert links.redeem(token, ADA) is LinkRefused.UNKNOWN
    assert links.setup_of(MAX) is None


def test_a_setup_times_out_and_can_be_finished(links: SetupLinks, clock: Clock):
    setup = links.redeem(links.issue(TEAM, ADA), ADA)
    assert isinstance(setup, Setup)
    assert not links.timed_out(setup)
    clock.now += 600
    assert links.timed_out(setup)
    assert links.finish(ADA) is setup
    assert links.finish(ADA) is None
