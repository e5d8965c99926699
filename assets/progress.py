"""Progress of long steps (files, bytes, rate), so a large ingest never sits silent.

Pure bookkeeping: the Dagster assets pass each line to `context.log`, which the UI's run log and
`make run`'s console both show as it happens.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KB': sizes an operator reads at a glance (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


@dataclass
class Progress:
    """Counts items (and optionally bytes) of a known total; `line()` says where the step stands."""

    what: str
    total: int
    total_bytes: int | None = None
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    done_bytes: int = 0
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def advance(self, items: int = 1, size: int = 0) -> None:
        self.done += items
        self.done_bytes += size

    def line(self) -> str:
        """'12/340 files (3.5%) · 3.1 MB of 85.0 MB · 2.4 MB/s · 8.1 files/s · 0:41 left'."""
        elapsed = max(self.clock() - self.started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        parts = [f"{self.done}/{self.total} {self.what} ({share:.1%})"]
        if self.total_bytes is not None:
            parts.append(f"{human_bytes(self.done_bytes)} of {human_bytes(self.total_bytes)}")
            parts.append(f"{human_bytes(self.done_bytes / elapsed)}/s")
        parts.append(f"{self.done / elapsed:.1f} {self.what}/s")
        if 0 < self.done < self.total:
            left = elapsed * (self.total - self.done) / self.done
            parts.append(f"{int(left // 60)}:{int(left % 60):02d} left")
        return " · ".join(parts)
