"""A big catalog's files read in worker processes give exactly what one process reads: the
same entities, problems and lines, in the same order, owner checks on the same entities."""

from __future__ import annotations

from pathlib import Path

from switchboard.bot.catalog import loader, reading

TEAM = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team}
"""
SERVICE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-{n}
spec:
  type: service
  owner: {owner}
"""


def _files(folder: Path) -> list[tuple[Path, Path]]:
    (folder / "team.yaml").write_text(TEAM)
    for n in range(6):
        owner = "team-a" if n % 2 else "nobody"
        text = "---\n".join(SERVICE.format(n=f"{n}-{k}", owner=owner) for k in range(3))
        (folder / f"services-{n}.yaml").write_text(text)
    (folder / "broken.yaml").write_text("a: [1, 2\n")
    return [(path, folder) for path in sorted(folder.glob("*.yaml"))]


def test_workers_read_what_one_process_reads(tmp_path: Path) -> None:
    files = _files(tmp_path)
    alone = [loader.read_file_alone(path, root) for path, root in files]
    apart = reading.read_apart(files, 3, loader.read_file_alone)
    assert [s.path for s in apart] == [s.path for s in alone]
    for mine, theirs in zip(apart, alone, strict=True):
        assert (mine.errors, mine.warnings, mine.entities) == (
            theirs.errors,
            theirs.warnings,
            theirs.entities,
        )
        for check in mine.owner_checks:  # still the very entity read, after the trip
            assert any(check.entity is entity for entity in mine.entities)
    assert any(s.errors for s in apart) and any(s.owner_checks for s in apart)


def test_a_catalog_parsed_with_workers_is_the_same(tmp_path: Path) -> None:
    _files(tmp_path)
    one = loader.parse_paths([tmp_path])
    assert one.warnings  # the owner nobody, found once every file is read
    many = loader.parse_paths([tmp_path], workers=2, pool_min_bytes=0)
    assert (many.entities, many.errors, many.warnings, many.files) == (
        one.entities,
        one.errors,
        one.warnings,
        one.files,
    )
