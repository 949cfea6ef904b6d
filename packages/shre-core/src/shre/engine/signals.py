"""SIGINT/SIGTERM handling: finish the current step, checkpoint, then stop."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Context manager that records SIGINT/SIGTERM instead of stopping at once.

    The first signal sets ``received`` to its name; the training loop checks
    it at the next optimiser step boundary. A second signal restores the
    previous handlers and raises ``KeyboardInterrupt`` immediately, for a
    user who does not want to wait. Handlers are installed only from the main
    thread (Python allows no other); elsewhere signals keep their handlers.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            self._restore()
            raise KeyboardInterrupt(f"second {name}: stopping without a checkpoint")
        self.received = name
        logger.warning("received %s; saving a checkpoint after the current step", name)

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._restore()
