"""`%load_ext kerastips`: lint the IPython session as each cell runs.

After every cell, the code the session has run so far (its input history, cells Python rejects
left out) is linted as one module, the way a notebook's cells are, and the findings that lie in
that cell are printed under it, with lines counted within the cell. Nothing is printed when the
cell has none. `%unload_ext kerastips` stops it. The extension never raises into the session: a
failure of its own is one line, and source it cannot parse is passed over in silence (Python has
already said what is wrong with it).
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from kerastips.config import ConfigError, load_settings
from kerastips.engine import REPORT_BUGS, SourceError, analysing, check, described
from kerastips.notebook import Cells
from kerastips.rules import ALL_RULES
from kerastips.rules.base import Rule

_HOOKS: dict = {}  # id(shell) -> its SessionLinter, so that unload finds what load registered


class SessionLinter:
    """The post_run_cell callback: the findings of the cell that just ran."""

    def __init__(self, shell: Any, rules: Sequence[Rule]) -> None:
        self.shell = shell
        self.rules = rules

    def __call__(self, result: Any) -> None:
        try:
            lines = self.findings(result)
        except Exception as exc:  # a bug in kerastips must not show up as the user's error
            lines = [f"kerastips: internal error ({described(exc)}); {REPORT_BUGS}"]
        if lines:
            print("\n".join(lines))

    def findings(self, result: Any) -> list[str]:
        """One line per finding in the cell of `result`, e.g. `kerastips: line 2:col 5: KT101 ...`."""
        info = getattr(result, "info", None)
        if info is None or getattr(result, "error_before_exec", None) is not None:
            return []  # the cell did not run
        history = getattr(self.shell, "history_manager", None)
        cells = list(history.input_hist_raw[1:]) if history is not None else []
        if not info.store_history or not cells:  # a cell run outside the history comes last
            cells.append(info.raw_cell or "")
        current = len(cells)
        module = Cells(list(enumerate(cells, 1)), valid_only=True)
        if not module.cells or module.cells[-1].number != current:
            return []
        try:
            with analysing():
                reports = check(module.source, "<session>", self.rules)[1]
        except SourceError:
            return []
        found = [module.place(report) for report in reports]
        return [f"kerastips: line {d.line}:col {d.column}: {d.code} {d.message}"
                for d in found if d.cell == current]


def load(shell: Any) -> None:
    if id(shell) in _HOOKS:
        return
    try:
        rules = load_settings().rules  # the working directory's [tool.kerastips] selection
    except ConfigError as exc:
        print(f"kerastips: {exc}; the default rules are used", file=sys.stderr)
        rules = tuple(rule() for rule in ALL_RULES if rule.default_enabled)
    hook = SessionLinter(shell, rules)
    shell.events.register("post_run_cell", hook)
    _HOOKS[id(shell)] = hook


def unload(shell: Any) -> None:
    hook = _HOOKS.pop(id(shell), None)
    if hook is not None:
        shell.events.unregister("post_run_cell", hook)
