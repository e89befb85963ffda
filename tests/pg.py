"""A real PostgreSQL server for tests: each user gets a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

POSTGRES_TEST_URL = os.environ.get("POSTGRES_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")


def with_search_path(dsn: str, schema: str) -> str:
    # asyncpg passes unknown DSN query parameters to the server as settings.
    parts = urlsplit(dsn)
    query = [*parse_qsl(parts.query), ("search_path", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def connect_to_test_server() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_TEST_URL, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    # Outside the except block, so the report is this one message, not two tracebacks.
    host = urlsplit(POSTGRES_TEST_URL).hostname
    pytest.fail(
        f"PostgreSQL test server at {host} is not reachable ({error}). "
        "Start it, or point POSTGRES_TEST_URL at one.",
        pytrace=False,
    )


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A new schema on the test server, dropped afterwards; yields a DSN that uses it."""
    admin = await connect_to_test_server()
    schema = f"k_{secrets.token_hex(6)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(POSTGRES_TEST_URL, schema)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
