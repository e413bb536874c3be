"""CQL's errors: where (`file:line:col`), what, and the expression with a caret under it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from switchboard.bot.scorecards.cql.ast import Pos

# kinds of error: the first three mean the text is wrong, the last that it is fine CQL that
# we cannot evaluate (a placeholder, a function of a tool we have no data for)
SYNTAX, NAME, TYPE, LIMIT, UNSUPPORTED = "syntax", "name", "type", "limit", "unsupported"


class CqlError(Exception):
    """A CQL expression that cannot be compiled or that failed while evaluated."""

    def __init__(self, kind: str, message: str, pos: Pos | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.pos = pos

    def located(self, expression: str, file: str = "", line: int = 0, column: int = 0) -> str:
        """`file:line:col: message`, then the expression's line and a caret under the spot.

        `line` is the file's line where the expression starts (0 for a bare expression) and
        `column` how many characters precede it on each of its lines there (its indentation),
        so that the numbers are the file's own."""
        pos = self.pos or Pos(1, 1)
        at = self.where(line, column)
        where = f"{file}:{at}" if file else at
        lines = expression.splitlines() or [""]
        text = lines[min(pos.line, len(lines)) - 1]
        caret = " " * (pos.column - 1) + "^"
        return f"{where}: {self.message}\n    {text}\n    {caret}"

    def where(self, line: int = 0, column: int = 0) -> str:
        """`line:col` in the file (see `located`), or in the expression itself."""
        pos = self.pos or Pos(1, 1)
        return f"{line + pos.line - 1 if line else pos.line}:{pos.column + column}"

    def __str__(self) -> str:
        if self.pos is None:
            return self.message
        return f"{self.pos.line}:{self.pos.column}: {self.message}"


def closest(name: str, known: Iterable[str]) -> str:
    """ " (did you mean `a` or `b`?)" for the known names closest to `name`, or ""."""
    names = sorted(set(known))
    lowered = {n.lower(): n for n in names}
    found = [lowered[m] for m in difflib.get_close_matches(name.lower(), lowered, n=3, cutoff=0.6)]
    if not found:
        return ""
    return " (did you mean " + " or ".join(f"`{n}`" for n in found) + "?)"
