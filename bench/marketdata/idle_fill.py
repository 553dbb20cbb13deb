"""A control for the order-entry cost: busy loops in the idle scheduling class, one per
CPU, that take only the CPU nothing else wants and do no I/O at all. Released for one
side of each cost round, they show what merely keeping this machine's CPUs busy costs
order entry (a thread woken on a busy CPU may start later than on an idle one), apart
from any work of the subscribers' fan-out: what the fan-out costs beyond this control
is its own work."""

import os
import signal
import subprocess
import sys

_LOOP = (
    "import os\n"
    "os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
    "print('idle', flush=True)\n"
    "while True:\n"
    "    pass\n"
)


class IdleFill:
    """The busy loops, paused until :meth:`resume`; :meth:`stop` ends them."""

    def __init__(self) -> None:
        self.loops: list[subprocess.Popen[bytes]] = []
        for _ in range(os.cpu_count() or 1):
            loop = subprocess.Popen([sys.executable, "-c", _LOOP], stdout=subprocess.PIPE)
            self.loops.append(loop)
            # In the idle class before it is first paused, so it never runs above it.
            assert loop.stdout is not None
            if loop.stdout.readline() != b"idle\n":
                raise RuntimeError("an idle-fill loop did not start")
        self.pause()

    def _signal(self, sig: int) -> None:
        for loop in self.loops:
            os.kill(loop.pid, sig)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def stop(self) -> None:
        for loop in self.loops:
            loop.kill()
            loop.wait(10)
