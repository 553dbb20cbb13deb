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
from ringex_gateway.engine_history import forget_engine_history
from ringex_gateway.multicast_sessions import SessionNameUsedError
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
    commands.add_parser(
        "forget-engine-history",
        help="after an engine lost acknowledged history: move this gateway's streams "
        "and seen sequence aside (the gateway must be stopped)",
        description="Moves the stream journal and the highest engine sequence seen out "
        "of journal_dir into journal_dir/forgotten-<time>, keeping the record of "
        "acknowledged client order ids, so the next start links to an engine that went "
        "back in time (after ringex-engine --accept-journal-loss) and begins a new stream "
        "epoch. Resends of ids acknowledged before are still refused as duplicates.",
    )
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


async def _serve(config: GatewayConfig) -> int:
    try:
        gateway = Gateway(config)
    except SessionNameUsedError as e:
        # A setting only the operator can change: exit 2, as for any bad configuration.
        print(f"ringex-gateway: bad configuration: {e}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, gateway.request_stop)
    await gateway.run()
    return 1 if gateway.failed is not None else 0


def _forget_engine_history(config: GatewayConfig) -> int:
    if not config.gateway.journal_dir:
        print("ringex-gateway: journal_dir is not set: nothing to forget", file=sys.stderr)
        return 2
    try:
        aside = forget_engine_history(Path(config.gateway.journal_dir))
    except OSError as e:
        print(f"ringex-gateway: {e}", file=sys.stderr)
        return 1
    print(f"engine history moved to {aside}; acknowledged client order ids kept")
    return 0


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
    if args.command == "forget-engine-history":
        return _forget_engine_history(config)
    if args.print_config:
        print(msgspec.json.format(msgspec.json.encode(config), indent=2).decode())
        return 0
    return uvloop.run(_serve(config))
