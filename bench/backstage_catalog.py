"""A generated Backstage catalog: `services` Components spread over `files` files, with the
groups that own them, the systems they belong to and the users in the groups (the first file).
Each Component has what a real one carries: title, description, tags, links, annotations
(PagerDuty, Slack, GitHub), type, lifecycle, owner, system and dependencies."""

from __future__ import annotations

from pathlib import Path

from load import TEAMS, USERS, service_name

SYSTEMS = 40


def write_backstage(folder: Path, services: int, files: int = 50) -> list[Path]:
    """The catalog's files, written into `folder` (one with the groups, users and systems)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "org.yaml"]
    paths[0].write_text("---\n".join(_org()))
    per_file = -(-services // files)
    for index, start in enumerate(range(0, services, per_file)):
        path = folder / f"services-{index:03d}.yaml"
        numbers = range(start, min(start + per_file, services))
        path.write_text("---\n".join(_component(n) for n in numbers))
        paths.append(path)
    return paths


def _org() -> list[str]:
    users = [
        f"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: person-{n}\n"
        f"  annotations:\n    slack.com/user-id: {user}\nspec:\n  profile:\n"
        f"    displayName: Person {n}\n    email: person-{n}@example.com\n"
        f"  memberOf: [team-{n % TEAMS}]\n"
        for n, user in enumerate(USERS)
    ]
    groups = [
        f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-{t}\n"
        f"  title: Team {t}\n  annotations:\n    slack.com/bot-notify: team-{t}\n"
        f"spec:\n  type: team\n  children: []\n"
        for t in range(TEAMS)
    ]
    systems = [
        f"apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-{s}\n"
        f"spec:\n  owner: team-{s % TEAMS}\n"
        for s in range(SYSTEMS)
    ]
    return users + groups + systems


def _component(n: int) -> str:
    name = service_name(n)
    return f"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  title: Service {n}
  description: The {name} service, which handles part of the {name.split("-")[0]} flow.
  tags:
    - python
    - tier-{n % 4 + 1}
  annotations:
    pagerduty.com/service-id: PS{n:06d}
    slack.com/bot-notify: svc-{n}
    github.com/project-slug: example/{name}
    backstage.io/techdocs-ref: url:https://docs.example.com/{name}
  links:
    - url: https://wiki.example.com/runbooks/{n}
      title: Runbook
      type: runbook
spec:
  type: service
  lifecycle: production
  tier: {n % 4 + 1}
  owner: group:default/team-{n % TEAMS}
  system: system-{n % SYSTEMS}
  dependsOn:
    - component:{service_name(n // 2)}
"""
