"""Reading catalog files and folders into one `ParseResult`.

Each YAML document is routed to its importer by its content, never by its file name. What
needs every file at once is done here, after all of them are read: duplicate refs, people
known from several member lists, relations declared from the other side, and owners that
point at nothing.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from switchboard.bot.catalog import backstage, cortex, native, opslevel, reading
from switchboard.bot.catalog.common import add_unique
from switchboard.bot.catalog.model import Entity, ParseResult, Problem, original_name
from switchboard.bot.catalog.yamlsource import (
    Node,
    SourceFile,
    YMap,
    bounded,
    describe,
    excerpt,
    load_documents,
    read_text,
)

Importer = Callable[[Node], None]
Progress = Callable[[str, int, int], None]  # what, done so far, total
READ = "files read"


def _unseen(what: str, done: int, total: int) -> None:
    return None


NOT_A_CATALOG = "not a catalog file (Backstage, Cortex, OpsLevel or Switchboard), skipped"
_SKIPPED_DIRS = {"node_modules"}
_EXTENSIONS = (".yaml", ".yml")


# Below this many bytes in all, files are read in this process: a worker process costs more
# to start (a fresh interpreter) than it saves.
POOL_MIN_BYTES = 4_000_000
MAX_AUTO_WORKERS = 4


def auto_workers() -> int:
    """The processes a big catalog is read with by default: this machine's cores, at most 4."""
    return max(1, min(MAX_AUTO_WORKERS, len(os.sched_getaffinity(0))))


def parse_paths(
    paths: Sequence[str | Path],
    workers: int = 1,
    progress: Progress = _unseen,
    *,
    pool_min_bytes: int = POOL_MIN_BYTES,
) -> ParseResult:
    """Read catalog files, and folders recursively (*.yaml, *.yml; hidden entries and
    node_modules skipped), plus the files their Backstage Locations point at, each once.

    Nothing outside what was given is read: a folder's symbolic links that lead out of it are
    skipped, and a Location's targets must lie in the folder its import began from (the folder
    given, or the folder of the file given), both with a warning.

    With `workers` above 1 and at least `pool_min_bytes` to read, files are read in that many
    processes (the result is the same: files are put together in the order they were found).
    `progress` is told of the files read ("files read", done, known so far)."""
    result = ParseResult()
    queue: list[tuple[Path, Path]] = []  # (file, the folder its import began from)
    queued: set[Path] = set()
    for path in paths:
        found = expand_path(Path(path), result.errors, result.warnings)
        _enqueue(found, _root_of(Path(path)), queue, queued)
    pool = workers > 1 and _size(queue) >= pool_min_bytes
    with collection_paused(), _reader(workers if pool else 1) as read:
        sources: list[SourceFile] = []
        while len(sources) < len(queue):  # the queue grows: Location targets are appended
            wave = queue[len(sources) :]
            for (path, root), source in zip(wave, read(wave), strict=True):
                result.files.append(str(path))
                sources.append(source)
                _enqueue(source.targets, root, queue, queued)
                progress(READ, len(sources), len(queue))
        _combine(sources, result)
    result.errors.sort()
    result.warnings.sort()
    return result


Reader = Callable[[list[tuple[Path, Path]]], Iterator[SourceFile]]


@contextmanager
def _reader(workers: int) -> Iterator[Reader]:
    """What reads a wave of files, in order: this process, or `workers` processes."""
    if workers <= 1:
        yield lambda wave: iter([_read_file(path, root) for path, root in wave])
        return
    yield lambda wave: iter(reading.read_apart(wave, workers, _read_file))


def _size(queue: list[tuple[Path, Path]]) -> int:
    total = 0
    for path, _ in queue:
        with suppress(OSError):  # reported when the file is read
            total += path.stat().st_size
    return total


def read_file_alone(path: Path, root: Path) -> SourceFile:
    """`_read_file` in a worker process (see `reading`), its collector paused too."""
    with collection_paused():
        return _read_file(path, root)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cycle collector off meanwhile: reading a big catalog makes millions of objects
    that all stay, and each collection walked all of them again (a third of the parse time of
    50,000 services). Parsing makes no cycles worth collecting early; it runs once after."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _root_of(path: Path) -> Path:
    try:
        resolved = path.resolve()
        return resolved if resolved.is_dir() else resolved.parent
    except (OSError, RuntimeError, ValueError):  # reported by expand_path
        return path


def _enqueue(
    paths: list[Path], root: Path, queue: list[tuple[Path, Path]], queued: set[Path]
) -> None:
    for path in paths:
        if path not in queued:
            queued.add(path)
            queue.append((path, root))


def expand_path(
    path: Path, errors: list[Problem], warnings: list[Problem] | None = None
) -> list[Path]:
    """The YAML files a path stands for, resolved: the file itself, or a folder's *.yaml and
    *.yml recursively (hidden entries and node_modules skipped). In a folder, a symbolic link
    (to a file or a folder) that leads out of it is not followed, with a warning. Scorecards
    are found the same way."""
    try:
        resolved = path.resolve()
        is_dir, is_file = resolved.is_dir(), resolved.is_file()
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loop, NUL byte...
        errors.append(Problem(str(path), 1, f"cannot read: {exc}"))
        return []
    if is_file:
        return [resolved]
    if not is_dir:
        errors.append(Problem(str(resolved), 1, "no such file or directory"))
        return []
    found: list[Path] = []
    warned = warnings if warnings is not None else []
    for folder, dirs, files in os.walk(resolved):  # never into linked folders (followlinks)
        dirs[:] = [name for name in dirs if not name.startswith(".") and name not in _SKIPPED_DIRS]
        for name in dirs:
            _inside(Path(folder, name), resolved, warned)  # a link is not walked: say so
        for name in files:
            wanted = name.lower().endswith(_EXTENSIONS) and not name.startswith(".")
            if wanted and (file := _inside(Path(folder, name), resolved, warned)) is not None:
                found.append(file)
    return sorted(found)


def _inside(path: Path, root: Path, warnings: list[Problem]) -> Path | None:
    """`path` resolved, if it lies in `root`; a symbolic link leading out of it is reported."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop: nothing to read there
        resolved = root.parent
    if resolved.is_relative_to(root):
        return resolved
    warnings.append(
        Problem(str(path), 1, "a symbolic link leading out of the imported folder, not read")
    )
    return None


def _read_file(path: Path, root: Path) -> SourceFile:
    source = SourceFile(path, root)
    text = read_text(source)
    if text is None:
        return source
    warned = False
    for doc in load_documents(text, source):
        if doc.raw is None:  # an empty document, such as after a trailing `---`
            continue
        if not isinstance(doc.raw, YMap):
            # never quoted: a file that is no YAML at all (a .env) is one string
            got = "text" if isinstance(doc.raw, str) else describe(doc.raw)
            source.error(doc.line, f"a catalog document must be a mapping, got {got}")
            continue
        importer = _detect(doc.raw)
        if importer:
            importer(doc)
        elif not warned:  # once per file: a Kubernetes manifest may hold dozens of documents
            source.warning(doc.line, NOT_A_CATALOG)
            warned = True
    return source


def _detect(doc: YMap) -> Importer | None:
    api_version = doc.get("apiVersion")
    if isinstance(api_version, str) and api_version.startswith("backstage.io/"):
        return backstage.read
    info = doc.get("info")
    # any x-cortex-* key, not only the tag, so that a missing tag is an error, not a skip
    if isinstance(info, YMap) and any(str(key).startswith("x-cortex-") for key in info):
        return cortex.read
    if "version" in doc and isinstance(doc.get("service"), YMap):
        return opslevel.read
    if "switchboard" in doc:
        return native.read
    return None


class _Catalog:
    """The entities kept so far, indexed the ways people and owners are looked up."""

    def __init__(self) -> None:
        self.by_ref: dict[str, Entity] = {}
        self.by_email: dict[str, Entity] = {}
        self.by_slack_id: dict[str, Entity] = {}

    def add(self, entity: Entity) -> None:
        self.by_ref[entity.ref] = entity
        if entity.kind == "user":
            if entity.email:
                self.by_email.setdefault(entity.email.lower(), entity)
            if entity.slack_user_id:
                self.by_slack_id.setdefault(entity.slack_user_id, entity)

    def same_person(self, person: Entity) -> Entity | None:
        return (
            self.by_ref.get(person.ref)
            or self.by_email.get(person.email.lower() or "\0")
            or self.by_slack_id.get(person.slack_user_id or "\0")
        )

    def resolves(self, owner: str) -> bool:
        email = owner.removeprefix("user:email/")
        return owner in self.by_ref or (email != owner and email in self.by_email)


def _combine(sources: list[SourceFile], result: ParseResult) -> None:
    catalog = _Catalog()
    for source in sources:
        result.errors.extend(source.errors)
        result.warnings.extend(source.warnings)
        for entity in source.entities:
            first = catalog.by_ref.get(entity.ref)
            if first is None:
                catalog.add(entity)
                continue
            result.warnings.append(
                Problem(entity.source_file, entity.source_line, _duplicate(entity, first))
            )
    for source in sources:
        for person in source.implicit:
            if same := catalog.same_person(person):
                _merge(same, person)
            else:
                catalog.add(person)
    for source in sources:
        for reverse in source.reverse:
            holder = next((catalog.by_ref[r] for r in reverse.holders if r in catalog.by_ref), None)
            if holder:
                add_unique(holder.relations, reverse.relation)
        for check in source.owner_checks:
            kept = catalog.by_ref.get(check.entity.ref) is check.entity
            if kept and not catalog.resolves(check.owner):
                result.warnings.append(
                    Problem(
                        str(source.path), check.line, f"owner {check.owner} is not in the catalog"
                    )
                )
    result.entities = list(catalog.by_ref.values())


def _duplicate(entity: Entity, first: Entity) -> str:
    """Why `entity` is skipped: the same entity twice, or two names that make the same id."""
    where = f"{first.source_file}:{first.source_line}"
    given, other = original_name(entity) or entity.name, original_name(first) or first.name
    if given.lower() == other.lower():
        return f"duplicate entity {entity.ref}, first defined at {where}; skipped"
    return bounded(
        f"{excerpt(given)} makes the id {entity.ref}, which {excerpt(other)} at {where} "
        "has already; skipped (rename one of them)"
    )


def _merge(person: Entity, extra: Entity) -> None:
    """Fold a person known from a member list into the same person found elsewhere."""
    for relation in extra.relations:
        add_unique(person.relations, relation)
    person.title = person.title or extra.title
    person.email = person.email or extra.email
    person.slack_user_id = person.slack_user_id or extra.slack_user_id
