"""Writing a file atomically, the one way every output is written: cassettes, reports,
saved runs and assembled model files.

The content goes into a temporary file beside the target, is flushed to disk, and replaces
the target in one rename, so a reader (or a run killed half way) sees the old file or the
new one, never part of one. The temporary file gets the mode any other new file would get
(``0666`` less the umask; ``mkstemp`` alone would make it ``0600``), and is removed if
anything fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: os.umask can only be read by setting it.
FILE_MODE = 0o666 & ~_umask()


def replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside ``target``, then put it in
    ``target``'s place. Raises ``IsADirectoryError`` when ``target`` is a directory."""
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, FILE_MODE)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(target: Path, text: str) -> None:
    """``text`` (UTF-8) into ``target``, atomically."""

    def fill(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    replace_atomically(target, fill)


def through_link(path: Path, root: Path) -> bool:
    """Whether writing ``path``, a file under ``root``, would go through a symbolic link:
    ``path`` is a link, or a folder between ``root`` and it links outside ``root``. (A file
    there committed as a link could point at any file the writer may write.) ``root``
    itself may be a link: whoever named it chose where it points."""
    return path.is_symlink() or not path.resolve().is_relative_to(root.resolve())


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies under it (for messages), else whole."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
