"""The start marker: whether the starts before this one died before they got ready.

A start writes ``starting.marker`` (its time and how many starts in a row it makes that did not
get ready) and removes it once ready. Safe mode (queues paused, printers not contacted) is for a
start that dies or hangs again and again, so that whatever kills it cannot do so in a loop. One
start cut short is not that: a power cut at boot, or a box unplugged while it starts, must come
back by itself (found by a power-cut trial: one kill during start-up left the box paused until a
person resumed it). So the second start in a row that does not get ready makes the next one safe.
"""

from __future__ import annotations

from pathlib import Path

from .clock import now_text

SAFE_AFTER = 2  # starts in a row that did not get ready, before the next one comes up in safe mode


class StartMarker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def begin(self) -> int:
        """Record this start; returns how many starts in a row before it did not get ready."""
        died = self.unfinished()
        self.path.write_text(f"{now_text()} {died + 1}\n")
        return died

    def unfinished(self) -> int:
        """Starts in a row that did not get ready (a marker of one line with a time only, as older
        versions wrote it, counts as one)."""
        try:
            words = self.path.read_text().split()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError):
            return 1
        return int(words[1]) if len(words) > 1 and words[1].isdigit() else 1

    def clear(self) -> None:
        """This start got ready, or failed for a reason it has explained (not a crash): no safe mode for that."""
        self.path.unlink(missing_ok=True)
