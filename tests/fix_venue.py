"""A FIX venue for system tests: a real engine and a real gateway with the FIX acceptor
on, each of the test's own, and the FIX fields of a limit order."""

from pathlib import Path

from tests.fix_initiator import Initiator
from tests.system_processes import PASSWORD, Engine, Gateway, free_port, wait_engine_up

NOW = "20261203-22:00:00.000"


def fix_toml(port: int, store: Path) -> str:
    return f"""
[fix]
listen = "127.0.0.1:{port}"
comp_id = "RINGEX"
peer_comp_ids = ["CLIENT1", "CLIENT2", "CLIENT3"]
store_dir = "{store}"

[[fix.symbols]]
symbol = "XAU"
instrument = 1
price_decimals = 2

[[fix.symbols]]
symbol = "XAG"
instrument = 2
"""


class FixGateway:
    """An engine and a gateway with the FIX acceptor on, all of the test's own."""

    def __init__(self, engine_bin: Path, workdir: Path, **settings: int | str) -> None:
        self.gateway_settings = settings
        (workdir / "e").mkdir()
        (workdir / "g").mkdir()
        self.workdir = workdir
        self.fix_port = free_port()
        self.engine = Engine(engine_bin, workdir / "e")
        self.gateway = Gateway(
            workdir / "g",
            0,
            password_cost=1 << 10,  # named, so the settings cannot be taken for it
            extra_toml=fix_toml(self.fix_port, workdir / "g" / "fix"),
            **({"journal_dir": str(workdir / "g" / "journal")} | settings),
        )

    def start(self) -> None:
        self.engine.start()
        self.gateway.engine_port = self.engine.port
        self.start_gateway()

    def start_gateway(self) -> None:
        self.gateway.start()
        wait_engine_up(self.gateway)

    def stop(self) -> None:
        self.gateway.stop()
        self.engine.stop()

    def initiator(self, sender: str, username: str) -> Initiator:
        return Initiator(self.workdir / "qf" / sender, self.fix_port, sender, username, PASSWORD)


def new_order(cl_ord_id: str, side: str, qty: int, price: str) -> list[tuple[int, str]]:
    return [
        (11, cl_ord_id),
        (55, "XAU"),
        (54, side),
        (60, NOW),
        (38, str(qty)),
        (40, "2"),
        (44, price),
    ]
