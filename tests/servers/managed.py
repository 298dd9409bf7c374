"""What every test server here shares: ``start()``, ``stop()`` (safe to call more than once) and
``with Server(...) as server:`` around them."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class ManagedServer:
    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
