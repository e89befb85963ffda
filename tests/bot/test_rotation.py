"""Key rotation: CredentialStore.rotate() on both backends, and `python -m bot`'s key commands."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.__main__ import main
from bot.crypto import CredentialCipher, WrongEncryptionKey, generate_key
from bot.storage import CredentialStore, SQLiteCredentialStore
from tests.bot import test_storage
from tests.bot.test_storage import StoreFactory, credentials

make_store = test_storage.make_store  # the fixture: every store test runs on both backends

ROWS = 250  # more than two rotation batches of 100
ROTATIONS = 4


@pytest.fixture
def old() -> bytes:
    return generate_key()


@pytest.fixture
def new() -> bytes:
    return generate_key()


async def fill(make_store: StoreFactory, key: bytes, chat_ids: range | list[int]) -> None:
    store = make_store(CredentialCipher([key]))
    await store.open()
    for chat_id in chat_ids:
        await store.put(credentials(chat_id=chat_id, api_key=SecretStr(f"key-{chat_id}")))
    await store.close()


async def test_after_rotation_the_new_key_alone_reads_every_row(
    make_store: StoreFactory, old: bytes, new: bytes
) -> None:
    await fill(make_store, old, range(-ROWS // 2, ROWS - ROWS // 2))
    both = make_store(CredentialCipher([new, old]))
    await both.open()

    report = await both.rotate()
    again = await both.rotate()

    assert (report.rotated, report.already_current, report.ok) == (ROWS, 0, True)
    assert (again.rotated, again.already_current, again.ok) == (0, ROWS, True)
    new_only = make_store(CredentialCipher([new]))
    old_only = make_store(CredentialCipher([old]))
    await new_only.open()
    await old_only.open()
    for chat_id in range(-ROWS // 2, ROWS - ROWS // 2):
        got = await new_only.get(chat_id)
        assert got == credentials(chat_id=chat_id, api_key=SecretStr(f"key-{chat_id}"))
    with pytest.raises(WrongEncryptionKey):
        await old_only.check_decryptable()  # proves the rows were rewritten, not just readable
    assert await new_only.count() == ROWS


async def test_rows_written_during_rotation_are_not_lost(
    make_store: StoreFactory, old: bytes
) -> None:
    """A running bot keeps connecting and disconnecting chats while the key is rotated.

    Round after round, as an operator would: the bot restarts with "new,old", then the rows
    are rotated to the new key. Few rows and many writers, so that writes keep landing between
    the moment the rotation reads a batch and the moment it writes it back: without the
    compare-and-swap, stale keys are written over fresh ones and this test fails.
    """
    rows, writers = 60, 6
    quiet = range(1, rows, 2)  # rows no writer touches: every round must rewrite them
    await fill(make_store, old, range(rows))
    keys = [old]
    bot = make_store(CredentialCipher(keys))  # its own connection, like another process
    await bot.open()
    in_flight: Counter[CredentialStore] = Counter()
    expected: dict[int, str | None] = {chat_id: f"key-{chat_id}" for chat_id in range(rows)}
    rotated: list[int] = []
    done = asyncio.Event()

    async def run_bot(writer: int) -> None:
        # Each writer owns its chats, so every chat's writes happen in a known order.
        rng = random.Random(writer)
        own = [c for c in range(0, rows + 20, 2) if c // 2 % writers == writer]
        for version in itertools.count():
            if done.is_set():
                return
            chat_id = rng.choice(own)
            store = bot
            in_flight[store] += 1
            try:
                if rng.random() < 0.2:
                    await store.delete(chat_id)
                    expected[chat_id] = None
                else:
                    api_key = f"key-{chat_id}-v{version}"
                    await store.put(credentials(chat_id=chat_id, api_key=SecretStr(api_key)))
                    expected[chat_id] = api_key
            finally:
                in_flight[store] -= 1
            await asyncio.sleep(0.001)  # a busy bot, not a benchmark: SQLite locks are unfair

    async def rotate() -> None:
        nonlocal bot
        for _ in range(ROTATIONS):
            keys.insert(0, generate_key())
            restarted = make_store(CredentialCipher(keys))  # (a) the bot restarts: new,old
            await restarted.open()
            previous, bot = bot, restarted
            while in_flight[previous]:  # noqa: ASYNC110 -- the old process exits once they land
                await asyncio.sleep(0.001)
            rotator = make_store(CredentialCipher(keys))
            await rotator.open()
            report = await rotator.rotate(batch_size=5)  # (b) rotate-key
            assert report.ok
            rotated.append(report.rotated)
        done.set()

    await asyncio.gather(rotate(), *(run_bot(writer) for writer in range(writers)))

    assert all(count >= len(quiet) for count in rotated), rotated
    newest_only = make_store(CredentialCipher(keys[:1]))  # (c) the old keys are dropped
    await newest_only.open()
    for chat_id, api_key in expected.items():
        got = await newest_only.get(chat_id)
        if api_key is None:
            assert got is None, chat_id
        else:
            assert got is not None, chat_id
            assert got.api_key.get_secret_value() == api_key, chat_id
    assert await newest_only.count() == sum(key is not None for key in expected.values())


async def test_rows_no_key_decrypts_are_left_untouched_and_reported(
    make_store: StoreFactory, old: bytes, new: bytes
) -> None:
    lost = generate_key()  # a key the operator no longer has
    await fill(make_store, old, range(10))
    await fill(make_store, lost, [-5, 3, 700])  # 3 overwrites an old-key row

    both = make_store(CredentialCipher([new, old]))
    await both.open()
    report = await both.rotate()

    assert report.undecryptable == (-5, 3, 700)
    assert (report.rotated, report.complete, report.ok) == (9, True, False)
    with_lost_key = make_store(CredentialCipher([lost]))
    await with_lost_key.open()
    for chat_id in (-5, 3, 700):  # still the very tokens the lost key wrote
        got = await with_lost_key.get(chat_id)
        assert got is not None and got.api_key.get_secret_value() == f"key-{chat_id}"
    assert await both.count() == 12


async def test_rotating_a_closed_store_is_a_clear_error(
    make_store: StoreFactory, new: bytes
) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await make_store(CredentialCipher([new])).rotate()


# The commands, run in-process as `python -m bot <command>` would run them.


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env, and relative paths land here
    for name in ("CREDENTIALS_ENCRYPTION_KEY", "ENCRYPTION_KEY_FILE", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "data" / "bot.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


async def put_rows(path: Path, key: bytes, chat_ids: range | list[int]) -> None:
    store = SQLiteCredentialStore(path, CredentialCipher([key]))
    await store.open()
    for chat_id in chat_ids:
        await store.put(credentials(chat_id=chat_id, api_key=SecretStr(f"key-{chat_id}")))
    await store.close()


async def readable_with(path: Path, key: bytes, chat_ids: range | list[int]) -> bool:
    store = SQLiteCredentialStore(path, CredentialCipher([key]))
    await store.open()
    try:
        for chat_id in chat_ids:
            got = await store.get(chat_id)
            assert got is not None and got.api_key.get_secret_value() == f"key-{chat_id}"
    except WrongEncryptionKey:
        return False
    finally:
        await store.close()
    return True


def run(args: list[str]) -> int:
    # main() runs its own event loop, as it does from the command line.
    return main(args)


async def command(args: list[str]) -> int:
    return await asyncio.to_thread(run, args)


async def test_rotate_key_with_configured_keys(
    database: Path, old: bytes, new: bytes, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    await put_rows(database, old, range(3))
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", f"{new.decode()},{old.decode()}")

    assert await command(["rotate-key"]) == 0

    out, err = capfd.readouterr()
    assert "Re-encrypted 3 stored credential(s) with the first of 2 key(s)" in out
    assert "decrypts with the first key alone" in out
    assert await readable_with(database, new, range(3))
    for key in (old, new):
        assert key.decode() not in out + err


async def test_rotate_key_names_the_chats_it_could_not_decrypt_and_exits_1(
    database: Path, old: bytes, new: bytes, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    lost = generate_key()
    await put_rows(database, old, range(3))
    await put_rows(database, lost, [-1001234567890123])
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", f"{new.decode()},{old.decode()}")

    assert await command(["rotate-key"]) == 1

    out, err = capfd.readouterr()
    assert "Re-encrypted 3 stored credential(s)" in out
    assert "1 credential(s) do not decrypt with any configured key" in err
    assert "-1001234567890123" in err
    assert "decrypts with the first key alone" not in out
    assert await readable_with(database, lost, [-1001234567890123])


async def test_add_key_then_rotate_key_with_the_key_file(database: Path, old: bytes, capfd) -> None:
    key_file = Path(f"{database}.key")
    await put_rows(database, old, range(120))
    key_file.write_bytes(old + b"\n")
    key_file.chmod(0o600)

    assert await command(["add-key"]) == 0
    new, kept = key_file.read_bytes().split()
    assert await command(["rotate-key"]) == 0

    out, err = capfd.readouterr()
    assert kept == old and Fernet(new)  # the new key first, the old one kept after it
    assert "now holds 2 keys" in out and "Re-encrypted 120 stored credential(s)" in out
    assert await readable_with(database, new, range(120))
    for key in (old, new):
        assert key.decode() not in out + err


async def test_rotate_key_without_any_key_refuses_and_writes_no_key_file(
    database: Path, old: bytes, capfd
) -> None:
    await put_rows(database, old, range(3))

    assert await command(["rotate-key"]) == 2
    assert await command(["add-key"]) == 2

    _, err = capfd.readouterr()
    assert "no encryption key" in err and "Nothing was changed" in err
    assert "no key file at" in err
    assert not Path(f"{database}.key").exists()
    assert await readable_with(database, old, range(3))


async def test_add_key_refuses_when_the_keys_come_from_the_environment(
    database: Path, old: bytes, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", old.decode())

    assert await command(["add-key"]) == 2

    assert "generate-key" in capfd.readouterr().err
    assert not Path(f"{database}.key").exists()


def test_generate_key_prints_a_new_key(capfd) -> None:
    assert run(["generate-key"]) == 0
    first = capfd.readouterr().out.strip()
    assert run(["generate-key"]) == 0
    second = capfd.readouterr().out.strip()

    assert first != second
    CredentialCipher([first, second])  # both are valid Fernet keys


def test_without_a_command_it_runs_the_bot(database: Path, capfd) -> None:
    assert run([]) == 2  # the bot itself starts by reading its settings: no token here

    assert "TELEGRAM_BOT_TOKEN" in capfd.readouterr().err
