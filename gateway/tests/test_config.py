"""The gateway's configuration, credentials and command line."""

from pathlib import Path

import msgspec
import pytest

from ringex_gateway.cli import main
from ringex_gateway.config import GatewayConfig, InstrumentConfig, UserConfig, load, parse_address
from ringex_gateway.credentials import hash_password, verify_password

pytestmark = pytest.mark.timeout(30)


def test_password_hashes_are_salted_and_verify() -> None:
    a, b = hash_password("pw", n=1 << 10), hash_password("pw", n=1 << 10)
    assert a != b
    assert verify_password("pw", a)
    assert verify_password("pw", b)
    assert not verify_password("PW", a)


def test_config_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        '[gateway]\nlisten = "127.0.0.1:0"\nrate_per_s = 10\n'
        "[[accounts]]\naccount = 3\ncancel_on_disconnect = true\n"
        f'[[users]]\nusername = "ann"\npassword_hash = "{hash_password("x", n=2)}"\n'
        'account = 3\nrole = "read-only"\n'
    )
    config = load(path)
    assert config.gateway.rate_per_s == 10
    assert config.account(3).cancel_on_disconnect
    assert not config.account(4).cancel_on_disconnect
    assert int(config.users[0].role_code) == 2


@pytest.mark.parametrize(
    "user",
    [
        UserConfig(username="x" * 17, password_hash=hash_password("x", n=2), account=1),
        UserConfig(username="é", password_hash=hash_password("x", n=2), account=1),
        UserConfig(username="ann", password_hash="plain", account=1),
    ],
)
def test_bad_users_are_refused(user: UserConfig) -> None:
    with pytest.raises(ValueError, match=r"username|hash"):
        GatewayConfig(users=[user]).validate()


def test_addresses() -> None:
    assert parse_address("127.0.0.1:7701") == ("127.0.0.1", 7701)
    assert parse_address("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError, match="host:port"):
        parse_address("7701")


def test_help_explains_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--listen", "--engine", "--metrics", "--rate-per-s", "--max-backlog"):
        assert flag in text


def test_hash_password_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-password", "--password", "pw"]) == 0
    assert verify_password("pw", capsys.readouterr().out.strip())


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("feed_l2_depths", "51,10"),
        ("feed_l2_depths", "1,2,3,4,5"),
        ("feed_l2_depths", "ten"),
        ("feed_slow", "drop"),
        ("feed_writer", "high"),
        ("feed_window_events", 0),
    ],
)
def test_bad_feed_settings_are_refused(setting: str, value: object) -> None:
    config = GatewayConfig()
    config.gateway = msgspec.structs.replace(config.gateway, **{setting: value})
    with pytest.raises(ValueError, match=setting):
        config.validate()


@pytest.mark.parametrize(
    "instruments",
    [
        [InstrumentConfig(instrument=1, symbol="")],
        [InstrumentConfig(instrument=1, symbol="X" * 17)],
        [InstrumentConfig(instrument=1, symbol="caf\u00e9")],
        [InstrumentConfig(instrument=1, symbol="ABC ")],
        [InstrumentConfig(instrument=1, symbol="A"), InstrumentConfig(instrument=1, symbol="B")],
    ],
)
def test_bad_symbols_are_refused(instruments: list[InstrumentConfig]) -> None:
    with pytest.raises(ValueError, match=r"symbol|instrument"):
        GatewayConfig(instruments=instruments).validate()
