"""Speed machinery in one place: the cyclic garbage collector's policy while a bank is built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a step builds many objects that stay alive.

    Parsing, validating and rendering a big bank allocate hundreds of thousands of small
    objects and free almost none; the collector would scan them again and again for nothing
    (a tenth of a 10,000-question Anki build). Reference counting still frees everything as
    usual, and the collector runs again afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
