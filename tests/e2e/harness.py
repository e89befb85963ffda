"""Run the real bot (`python -m bot`) against the local fake Bot API and fake tracker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.fakes.bot_api import FakeBotAPI, SentMessage

ROOT = Path(__file__).resolve().parents[2]
# A key distinctive enough that finding it anywhere is a real leak, not a coincidence.
API_KEY = "e2eKEY-7f3a9c1d5b8e2f4a6c0d9e8b"


class BotProcess:
    """`python -m bot` as a child process, exactly as a user starts it, logging to a file."""

    def __init__(self, tg: FakeBotAPI, workdir: Path, env: Mapping[str, str]) -> None:
        self.tg = tg
        self.workdir = workdir
        self.log_path = workdir / "bot.log"
        self.database = workdir / "bot.sqlite3"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_PROXY")},
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.base_url,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "LOG_LEVEL": "DEBUG",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self._process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.env, stdout=log, stderr=log
        )
        log.close()
        # The menu is set in post_init, after the store and client are up: the bot is ready.
        waiter = asyncio.ensure_future(self.tg.wait_for_call("setMyCommands", timeout))
        exited = asyncio.ensure_future(self._process.wait())
        done, _ = await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            waiter.cancel()
            raise RuntimeError(f"the bot exited at start-up:\n{self.log()}")
        exited.cancel()
        waiter.result()
        await self.tg.wait_for_call("getUpdates", timeout)

    async def stop(self) -> int:
        process = self._process
        if process is None:
            return 0
        if process.returncode is not None:
            return process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


async def ask(
    tg: FakeBotAPI,
    chat: dict,
    sender: dict | None,
    text: str,
    *,
    count: int = 1,
    timeout: float = 10.0,  # noqa: ASYNC109
    **kwargs: object,
) -> list[SentMessage]:
    """Send ``text`` as ``sender`` and wait for the bot's ``count`` replies in that chat."""
    tg.send_message(chat, sender, text, **kwargs)  # type: ignore[arg-type]
    return await tg.wait_for_messages(chat["id"], count=count, timeout=timeout)


async def no_reply(tg: FakeBotAPI, chat_id: int, wait: float = 1.5) -> bool:
    with contextlib.suppress(TimeoutError):
        await tg.wait_for_messages(chat_id, timeout=wait)
        return False
    return True
