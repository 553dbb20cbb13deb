"""Two demo traders cross on instrument 1 through the local exchange of `make run`."""

from ringex_client import Accepted, Client, Executed

with (
    Client("127.0.0.1", 7701, "alice", "alice-demo") as alice,
    Client("127.0.0.1", 7701, "bob", "bob-demo") as bob,
):
    ask = alice.sell(instrument=1, qty=10, price=100_000)
    # Resting first makes alice the maker: two sessions' orders have no order between them.
    alice.wait_for(lambda m: isinstance(m, Accepted) and m.client_order_id == ask, timeout=10)
    bob.buy(instrument=1, qty=10, price=100_000)
    for name, trader in (("alice", alice), ("bob", bob)):
        fill = trader.wait_for(lambda m: isinstance(m, Executed), timeout=10)
        print(name, fill)
        print("  positions:", trader.tracker.positions)
