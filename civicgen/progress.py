"""What a long command is doing, on stderr, only when stderr is a terminal.

A person waiting at a terminal sees which file is being read once a run takes longer than
a moment; pipes, logs and CI see nothing, so their output stays the report alone. File
names come from the repository (a pull request's), so they are shown through ``visible``:
an escape sequence in a name cannot reach the terminal.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .textcheck import visible

DELAY = 1.0  # seconds of silence before the first line: quick runs show nothing
CLEAR = "\r\x1b[K"


class Progress:
    """One line on a terminal, rewritten in place, cleared when the command ends."""

    def __init__(self) -> None:
        self.stream: TextIO | None = None
        self.started = 0.0
        self.shown = False

    def show(self, text: str) -> None:
        """Say what is being done now (nothing unless a terminal is attached)."""
        if self.stream is None or time.monotonic() - self.started < DELAY:
            return
        width = shutil.get_terminal_size().columns - 1
        self.stream.write(CLEAR + visible(text)[:width])
        self.stream.flush()
        self.shown = True

    @contextmanager
    def on(self, stream: TextIO) -> Iterator[None]:
        """Show progress on stream while the block runs, if it is a terminal."""
        interactive = getattr(stream, "isatty", lambda: False)()
        self.stream, self.started, self.shown = (
            (stream if interactive else None),
            time.monotonic(),
            False,
        )
        try:
            yield
        finally:
            if self.stream is not None and self.shown:
                self.stream.write(CLEAR)
                self.stream.flush()
            self.stream = None


progress = Progress()  # the process's one line (commands attach it in cli.handle_errors)
