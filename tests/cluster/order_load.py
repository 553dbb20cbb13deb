"""A steady, seeded order load from real clients, and the oracle of what each client was
told: for every order, its answers, so the checks can compare them with the engine's
journal after every fault."""

import random
import time
from dataclasses import dataclass, field

from ringex_client import (
    Accepted,
    Client,
    Executed,
    Message,
    Rejected,
    RejectReason,
    Side,
)
from tests.system_processes import PASSWORD

#: Traders of the load: their accounts have no per-account rate limit (carol's cancels
#: her orders if her session ends, which in a run with no client reconnect it never does).
LOAD_TRADERS = ["alice", "bob", "erin", "carol"]
PRICE = 100_000
INSTRUMENT = 1


@dataclass
class OrderAnswers:
    """What one client was told about one of its orders."""

    sent_s: float
    accepted: int = 0
    #: Sequenced rejects: the engine's own answer.
    engine_rejects: int = 0
    #: Unsequenced EngineUnavailable answers: the gateway's, at the bound or link down.
    unavailable: int = 0
    other_rejects: int = 0
    #: EngineUnavailable answers after the engine's own: a contradiction.
    unavailable_after_answer: int = 0
    #: The engine's answers after an EngineUnavailable: the other contradiction (the
    #: order was in doubt and the gateway answered it anyway).
    answer_after_unavailable: int = 0
    answered_s: float | None = None

    @property
    def sequenced_answers(self) -> int:
        return self.accepted + self.engine_rejects


@dataclass
class Trader:
    """One logged-in client of the load and everything it was told."""

    client: Client = field(init=False)
    account: int = 0
    orders: dict[int, OrderAnswers] = field(default_factory=dict)
    seqs: list[int] = field(default_factory=list)
    fills: list[Executed] = field(default_factory=list)

    def note(self, m: Message) -> None:
        seq = getattr(m, "seq", 0)
        if seq:
            self.seqs.append(seq)
        if isinstance(m, Executed):
            self.fills.append(m)
        coid = getattr(m, "client_order_id", None)
        answers = self.orders.get(coid) if isinstance(coid, int) else None
        if answers is None or not isinstance(m, Accepted | Rejected):
            return
        if answers.answered_s is None:
            answers.answered_s = time.monotonic()
        if isinstance(m, Accepted):
            answers.accepted += 1
            answers.answer_after_unavailable += answers.unavailable
        elif m.seq:
            answers.engine_rejects += 1
            answers.answer_after_unavailable += answers.unavailable
        elif m.reason == RejectReason.ENGINE_UNAVAILABLE:
            answers.unavailable += 1
            answers.unavailable_after_answer += answers.sequenced_answers
        else:
            answers.other_rejects += 1


class OrderLoad:
    """Clients that keep sending crossing limit orders around one price, seeded."""

    def __init__(self, gateway_ports: list[int], seed: int, rate_per_s: float = 150.0) -> None:
        """Each trader logs in to one of the gateways, in turn."""
        self.rng = random.Random(seed)
        self.interval_s = 1 / rate_per_s
        self.traders: list[Trader] = []
        for i, name in enumerate(LOAD_TRADERS):
            gateway_port = gateway_ports[i % len(gateway_ports)]
            trader = Trader()
            trader.client = Client(
                "127.0.0.1", gateway_port, name, PASSWORD, reconnect=False, on_message=trader.note
            )
            trader.account = trader.client.connect().account
            self.traders.append(trader)

    def run_for(self, seconds: float) -> None:
        """Sends orders at the steady rate for ``seconds``, reading every answer."""
        end = time.monotonic() + seconds
        next_send = time.monotonic()
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_send:
                self._send_one()
                next_send += self.interval_s
                next_send = max(next_send, now - 1)
            self.poll()

    def _send_one(self) -> None:
        trader = self.rng.choice(self.traders)
        side = self.rng.choice([Side.BUY, Side.SELL])
        price = PRICE + self.rng.randint(-3, 3)
        qty = self.rng.randint(1, 5)
        coid = trader.client.submit(INSTRUMENT, side, qty, price)
        trader.orders[coid] = OrderAnswers(sent_s=time.monotonic())

    def poll(self) -> None:
        for t in self.traders:
            t.client.poll(0.002)

    def unanswered(self) -> list[tuple[int, int]]:
        return [
            (t.account, coid)
            for t in self.traders
            for coid, a in t.orders.items()
            if a.answered_s is None
        ]

    def settle(self, timeout_s: float) -> None:
        """Reads until every order is answered and the streams are quiet for a moment."""
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            before = sum(len(t.seqs) for t in self.traders)
            self.poll()
            if sum(len(t.seqs) for t in self.traders) != before or self.unanswered():
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 0.3:
                return
        raise AssertionError(f"orders never answered: {self.unanswered()[:10]}")

    def close(self) -> None:
        for t in self.traders:
            t.client.close()
