"""``ringex-gateway``: run the gateway, or hash a password for its config.

Settings come from the defaults, then ``--config FILE`` (TOML), then the flags.
"""

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from pathlib import Path

import msgspec
import uvloop

from ringex_gateway.config import SETTING_HELP, GatewayConfig, Settings, load
from ringex_gateway.credentials import hash_password
from ringex_gateway.server import Gateway

_DESCRIPTION = """\
The ringex gateway: client sessions (binary protocol, protocol/SPEC.md) in front of the
engine daemon. Users and accounts come from the config file:

  [gateway]                     # any setting below, by its name with underscores
  listen = "127.0.0.1:7701"
  [[accounts]]                  # optional per-account options
  account = 1
  cancel_on_disconnect = true   # mass-cancel when its last trading session ends
  rate_per_s = 100              # overrides gateway.rate_per_s / burst for it
  [[users]]
  username = "alice"            # 1-16 printable ASCII characters
  password_hash = "scrypt$..."  # from `ringex-gateway hash-password`
  account = 1
  role = "trader"               # trader | read-only | admin

SIGTERM or SIGINT shuts down gracefully: every session gets a Goodbye (Shutdown).
"""


def _metavar(name: str, default: object) -> str:
    if isinstance(default, int):
        return "N"
    if isinstance(default, list):
        return "HOST:PORT,…"
    return "DIR" if name.endswith("_dir") else "HOST:PORT"


def _address_list(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ringex-gateway",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--print-config", action="store_true", help="print the resulting settings and exit"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    defaults = Settings()
    for field in msgspec.structs.fields(Settings):
        default = getattr(defaults, field.name)
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            type=_address_list if isinstance(default, list) else type(default),
            default=None,
            metavar=_metavar(field.name, default),
            help=f"{SETTING_HELP[field.name]} [default: {default!r}]",
        )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    hasher = commands.add_parser(
        "hash-password",
        help="print a salted scrypt hash for a [[users]] password_hash",
        description="Prints a salted scrypt hash of a password (asked for, or read "
        "from standard input when it is not a terminal).",
    )
    hasher.add_argument("--password", help="the password (visible to other users of ps)")
    return parser


def _configure(args: argparse.Namespace) -> GatewayConfig:
    config = load(args.config)
    overrides = {
        f.name: getattr(args, f.name)
        for f in msgspec.structs.fields(Settings)
        if getattr(args, f.name) is not None
    }
    config = msgspec.structs.replace(
        config, gateway=msgspec.structs.replace(config.gateway, **overrides)
    )
    config.validate()
    return config


async def _serve(config: GatewayConfig) -> None:
    gateway = Gateway(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(gateway.stop()))
    await gateway.run()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ringex-gateway`` command."""
    args = _parser().parse_args(argv)
    if args.command == "hash-password":
        password = args.password
        if password is None:
            password = (
                getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
            ).rstrip("\n")
        print(hash_password(password))
        return 0
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = _configure(args)
    except (ValueError, OSError, msgspec.ValidationError, msgspec.DecodeError) as e:
        print(f"ringex-gateway: bad configuration: {e}", file=sys.stderr)
        return 2
    if args.print_config:
        print(msgspec.json.format(msgspec.json.encode(config), indent=2).decode())
        return 0
    uvloop.run(_serve(config))
    return 0
