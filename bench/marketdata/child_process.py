"""The benchmark's helper processes (subscribers, a book probe, a multicast receiver):
each runs in a process of its own, started with ``spawn`` so it inherits no event loop,
and talks to the run over a pipe, on which it says ``"ready"`` once it is set up."""

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any


def start_child(target: Callable[..., None], *args: Any) -> tuple[Connection, BaseProcess]:
    """Starts ``target(pipe, *args)`` in a new process; returns once it said it is ready."""
    spawn = multiprocessing.get_context("spawn")
    pipe, child = spawn.Pipe()
    process = spawn.Process(target=target, args=(child, *args))
    process.start()
    assert pipe.recv() == "ready"
    return pipe, process
