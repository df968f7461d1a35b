"""The one atomic write: all or nothing, the mode of any new file, nothing left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pytest_xgen import files


def test_writes_the_whole_text_with_the_mode_of_a_new_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.json"
    files.write_text(target, "{\u2028}")
    assert target.read_text(encoding="utf-8") == "{\u2028}"
    assert stat.S_IMODE(target.stat().st_mode) == files.FILE_MODE
    assert os.listdir(target.parent) == ["report.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    target.write_text("old")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.replace_atomically(target, fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.gguf"]


def test_a_directory_is_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a directory"):
        files.write_text(tmp_path, "x")
