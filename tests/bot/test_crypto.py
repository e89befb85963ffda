from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.crypto import (
    CredentialCipher,
    InvalidEncryptionKey,
    WrongEncryptionKey,
    add_key_to_file,
    default_key_file,
    generate_key,
    key_file_is_private,
    load_cipher,
    write_new_key_file,
)
from bot.storage import ChatCredentials

API_KEY = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Umask 0: a key file is private only if it was created private, not thanks to umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_file_is_private_and_loads_back(tmp_path: Path, permissive_umask: None) -> None:
    key_file = tmp_path / "not" / "yet" / "there" / "bot.sqlite3.key"
    key = generate_key()

    write_new_key_file(key_file, key)
    cipher = load_cipher(None, key_file)

    assert mode(key_file) == 0o600
    assert key_file_is_private(key_file)
    assert cipher is not None
    assert Fernet(key).decrypt(cipher.encrypt(API_KEY)).decode() == API_KEY


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"
    key_file.write_bytes(b"the key in use\n")

    with pytest.raises(FileExistsError):
        write_new_key_file(key_file, generate_key())

    assert key_file.read_bytes() == b"the key in use\n"


def test_without_configured_keys_or_key_file_there_is_no_cipher_and_no_file(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "bot.key"

    assert load_cipher(None, key_file) is None
    assert load_cipher("  ", key_file) is None  # blank counts as not configured
    assert not key_file.exists()


def test_configured_keys_are_used_and_no_key_file_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    key_file = tmp_path / "bot.key"

    cipher = load_cipher(key.decode(), key_file)

    assert cipher is not None
    assert not key_file.exists()
    assert Fernet(key).decrypt(cipher.encrypt(API_KEY)).decode() == API_KEY


def test_an_existing_key_file_is_loaded_even_when_others_can_read_it(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    key_file = tmp_path / "bot.key"
    key_file.write_bytes(key + b"\n")
    key_file.chmod(0o644)

    cipher = load_cipher(None, key_file)

    assert cipher is not None
    assert not key_file_is_private(key_file)
    assert key_file.read_bytes() == key + b"\n"
    assert cipher.decrypt(Fernet(key).encrypt(API_KEY.encode())) == API_KEY


def test_a_key_file_without_a_valid_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.key"
    key_file.write_text("not-a-fernet-key-but-maybe-a-secret\n")

    with pytest.raises(InvalidEncryptionKey) as raised:
        load_cipher(None, key_file)

    assert str(key_file) in str(raised.value)
    assert "not-a-fernet-key" not in str(raised.value)


def test_comma_separated_keys_decrypt_tokens_of_the_old_key_and_rotate_them(
    tmp_path: Path,
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_token = CredentialCipher([old]).encrypt(API_KEY)

    both = load_cipher(f"{new}, {old}", tmp_path / "k")
    new_only = load_cipher(new, tmp_path / "k")
    assert both is not None and new_only is not None
    rotated = both.rotate(old_token)

    assert both.decrypt(old_token) == API_KEY
    assert new_only.decrypt(rotated) == API_KEY
    assert new_only.decrypt(both.encrypt(API_KEY)) == API_KEY  # the first key encrypts
    assert both.is_current(rotated) and not both.is_current(old_token)
    with pytest.raises(WrongEncryptionKey):
        new_only.decrypt(old_token)


def test_add_key_puts_the_new_key_first_and_keeps_the_old_ones(
    tmp_path: Path, permissive_umask: None
) -> None:
    key_file = tmp_path / "bot.key"
    old = generate_key()
    write_new_key_file(key_file, old)
    old_token = CredentialCipher([old]).encrypt(API_KEY)
    new = generate_key()

    assert add_key_to_file(key_file, new) == 2

    assert key_file.read_bytes() == new + b"\n" + old + b"\n"
    assert mode(key_file) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["bot.key"]  # no temporary file left
    both = load_cipher(None, key_file)
    assert both is not None
    assert both.decrypt(old_token) == API_KEY
    assert Fernet(new).decrypt(both.encrypt(API_KEY)).decode() == API_KEY


def test_a_key_file_may_list_keys_comma_separated_too(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    key_file = tmp_path / "bot.key"
    key_file.write_bytes(new + b", " + old)

    cipher = load_cipher(None, key_file)

    assert cipher is not None and cipher.key_count == 2
    assert cipher.decrypt(CredentialCipher([old]).encrypt(API_KEY)) == API_KEY


def test_add_key_refuses_a_missing_or_broken_key_file_and_changes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.key"
    broken = tmp_path / "broken.key"
    broken.write_bytes(b"not-a-key-but-maybe-a-secret\n")

    with pytest.raises(FileNotFoundError):
        add_key_to_file(missing, generate_key())
    with pytest.raises(InvalidEncryptionKey) as raised:
        add_key_to_file(broken, generate_key())

    assert not missing.exists()
    assert broken.read_bytes() == b"not-a-key-but-maybe-a-secret\n"
    assert "not-a-key" not in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.key"]


@pytest.mark.parametrize(
    "configured",
    [
        "this-is-not-a-key",
        "c2hvcnQ=",  # valid base64, wrong length
        f"{Fernet.generate_key().decode()},this-is-not-a-key",
    ],
)
def test_an_invalid_configured_key_is_refused_without_echoing_it(
    configured: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidEncryptionKey) as raised:
        load_cipher(configured, tmp_path / "k")

    for key in configured.split(","):
        assert key not in str(raised.value)
        assert key not in repr(raised.value)
    assert raised.value.__cause__ is None


def test_a_wrong_key_is_a_clear_error_not_garbage() -> None:
    token = CredentialCipher([Fernet.generate_key()]).encrypt(API_KEY)
    other = CredentialCipher([Fernet.generate_key()])

    with pytest.raises(WrongEncryptionKey, match="cannot be decrypted with the configured"):
        other.decrypt(token)
    with pytest.raises(WrongEncryptionKey):
        other.rotate(token)


def test_reprs_show_no_secret() -> None:
    keys = [Fernet.generate_key(), Fernet.generate_key()]
    cipher = CredentialCipher(keys)
    creds = ChatCredentials(
        chat_id=-1001234567890123,
        tracker_url="https://tracker.example.com",
        api_key=SecretStr(API_KEY),
        connected_by_id=42,
        connected_by_name="Alice",
        connected_at=datetime.now(UTC),
    )

    for key in keys:
        assert key.decode() not in repr(cipher)
        assert key.decode() not in str(cipher)
    assert API_KEY not in repr(creds)
    assert API_KEY not in str(creds)
    assert "keys=2" in repr(cipher)


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("sqlite:///data/keitaro-bot.sqlite3", Path("data/keitaro-bot.sqlite3.key")),
        ("sqlite:////var/lib/bot/db.sqlite3", Path("/var/lib/bot/db.sqlite3.key")),
        ("postgresql://bot:pw@db:5432/bot", Path.cwd() / "keitaro-bot.key"),
        ("postgres://db/bot", Path.cwd() / "keitaro-bot.key"),
    ],
)
def test_default_key_file(database_url: str, expected: Path) -> None:
    assert default_key_file(database_url) == expected
