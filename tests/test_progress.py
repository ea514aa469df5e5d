"""The long commands' progress bar (yizhan/progress.py): drawn on a terminal, silent elsewhere."""
from __future__ import annotations

import io
import re

from rich.console import Console

from yizhan.progress import progress_bar


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120, color_system=None), out


def test_on_a_terminal_the_bar_shows_its_label_and_how_far_it_got():
    console, out = _console(True)
    with progress_bar("geocoding (amap)", console=console) as progress:
        progress(1, 4, "geocoding (amap)")
        progress(3, 4)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor moves of the redraws
    last = [line for line in text.splitlines() if "geocoding (amap)" in line][-1]
    assert "3/4" in last and "75%" in last


def test_a_new_label_replaces_the_shown_one():
    console, out = _console(True)
    with progress_bar("analysing", total=2, console=console) as progress:
        progress(2, 2, "370883 邹城市")
    assert "370883 邹城市" in out.getvalue() and "2/2" in out.getvalue()


def test_nothing_is_drawn_when_standard_error_is_not_a_terminal():
    console, out = _console(False)
    with progress_bar("writing", total=10, console=console) as progress:
        for done in range(11):
            progress(done, 10)
    assert out.getvalue() == ""
