"""Rules of the layout that import-linter cannot see: only the stores (switchboard/storage/)
write through the ORM. A service that needs a row stored calls a store function."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "switchboard"
STORAGE = PACKAGE / "storage"
# Session methods that write or end a transaction, whatever the receiver is called...
WRITES = {"commit", "flush", "add_all"}
# ...and those whose names are too common (a set's add) to forbid on anything but a session.
SESSION_WRITES = {"add", "delete", "merge"}


def orm_writes(source: str, filename: str) -> list[str]:
    """`file:line` of each ORM write in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, ast.unparse(node.func.value)
        if method in WRITES or (method in SESSION_WRITES and "session" in receiver.lower()):
            found.append(f"{filename}:{node.lineno}: {receiver}.{method}(...)")
    return found


def test_only_the_stores_write_through_the_orm() -> None:
    found = [
        write
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.is_relative_to(STORAGE)
        for write in orm_writes(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent))
        )
    ]
    assert found == [], "ORM writes outside switchboard/storage/ (call a store):\n" + "\n".join(
        found
    )


def test_the_rule_sees_each_kind_of_write() -> None:
    source = """
async def change(session, incident, seen):
    seen.add(1)
    session.add(incident)
    self._session.add_all([incident])
    await session.delete(incident)
    await session.flush()
    await session.commit()
"""
    assert orm_writes(source, "bot/x.py") == [
        "bot/x.py:4: session.add(...)",
        "bot/x.py:5: self._session.add_all(...)",
        "bot/x.py:6: session.delete(...)",
        "bot/x.py:7: session.flush(...)",
        "bot/x.py:8: session.commit(...)",
    ]
