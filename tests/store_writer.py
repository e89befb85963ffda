"""Write credentials into a store until killed; print each chat id once its put() returned.

    python -m tests.store_writer DATABASE_URL FIRST_CHAT_ID

The key comes from CREDENTIALS_ENCRYPTION_KEY. Chat ``n`` gets the API key ``key-<n>``, and
``WRITERS`` coroutines write at once, so that transactions are in flight whenever the test
SIGKILLs this process. A printed id is a promise: that credential was committed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.crypto import CredentialCipher
from bot.storage import ChatCredentials, open_store

WRITERS = 4


def api_key(chat_id: int) -> str:
    return f"key-{chat_id}"


async def write_forever(database_url: str, first_chat_id: int) -> None:
    cipher = CredentialCipher(os.environ["CREDENTIALS_ENCRYPTION_KEY"].split(","))
    store = open_store(database_url, cipher)
    await store.open()
    chat_ids = itertools.count(first_chat_id)

    async def writer() -> None:
        for chat_id in chat_ids:
            await store.put(
                ChatCredentials(
                    chat_id=chat_id,
                    tracker_url="https://tracker.example.com",
                    api_key=SecretStr(api_key(chat_id)),
                    connected_by_id=chat_id,
                    connected_by_name="writer",
                    connected_at=datetime.now(UTC),
                )
            )
            sys.stdout.write(f"{chat_id}\n")
            sys.stdout.flush()

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


if __name__ == "__main__":
    asyncio.run(write_forever(sys.argv[1], int(sys.argv[2])))
