"""One overall deadline for a sink's delivery, whatever the sink does: a server that accepts and never
answers, one that drips a byte a second, a client library's retries adding up."""

from __future__ import annotations

import threading
from collections.abc import Callable

from mandala_db.core.events import bus

# The sinks' own socket timeouts are this much longer than the deadline: only a backstop that ends a
# thread left behind, so that the deadline, not a race with a socket, decides when a sink has failed.
BACKSTOP_S = 1.0


def socket_timeout(deadline: float) -> float:
    return deadline + BACKSTOP_S


def bounded(
    name: str,
    timeout: float,
    work: Callable[[], None],
    *,
    action: str = "metrics_failed",
    failed: str = "{name}: the metrics could not be delivered: {reason}",
) -> bool:
    """Run `work` with an overall deadline: in a daemon thread waited for at most `timeout` seconds. A
    timeout or an error is one warning naming the sink; the thread left behind ends with the process."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported below, in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name=f"mandala-db sink {name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        reason = f"no answer within {timeout:g} s; given up (the command's result stands)"
        bus.warning(action, failed.format(name=name, reason=reason))
        return False
    if failure:
        bus.warning(action, bus.scrub(failed.format(name=name, reason=str(failure[0])[:500])))
        return False
    return True
