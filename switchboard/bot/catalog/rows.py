"""Conversion between the neutral `Entity` and what storage keeps for it."""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

from switchboard.bot.catalog.model import Entity, Link, OnCall, Relation
from switchboard.storage.catalog_store import EntityRecord
from switchboard.storage.tables import CatalogEntity


def to_record(entity: Entity) -> EntityRecord:
    """The entity's digest now, its row when it is written (see `EntityRecord`)."""
    columns = _columns(entity)
    # The digest covers everything stored, so an unchanged entity is skipped on re-import.
    canonical = json.dumps(columns, sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return EntityRecord(columns["ref"], digest, partial(_columns, entity))


def _columns(entity: Entity) -> dict[str, Any]:
    return {
        "ref": entity.ref,
        "kind": entity.kind,
        "namespace": entity.namespace,
        "name": entity.name,
        "type": entity.type,
        "title": entity.title,
        "description": entity.description,
        "tier": entity.tier,
        "lifecycle": entity.lifecycle,
        "system": entity.system,
        "domain": entity.domain,
        "slack_usergroup": entity.slack_usergroup,
        "slack_user_id": entity.slack_user_id,
        "email": entity.email.lower(),
        "tags": list(entity.tags),
        "aliases": list(entity.aliases),
        "links": [{"type": k.type, "url": k.url, "title": k.title} for k in entity.links],
        "oncall": [
            {
                "provider": o.provider,
                "target_type": o.target_type,
                "target_id": o.target_id,
                "integration_key": o.integration_key,
            }
            for o in entity.oncall
        ],
        "slack_channels": list(entity.slack_channels),
        "source_file": entity.source_file,
        "source_line": entity.source_line,
        "owners": list(dict.fromkeys(entity.owners)),
        "relations": [list(r) for r in dict.fromkeys((r.type, r.target) for r in entity.relations)],
        "sonarqube_project": entity.sonarqube_project,
        "custom": entity.custom,
    }


def from_row(row: CatalogEntity) -> Entity:
    return Entity(
        kind=row.kind,
        name=row.name,
        namespace=row.namespace,
        type=row.type,
        title=row.title,
        description=row.description,
        owners=list(row.owners),
        tier=row.tier,
        lifecycle=row.lifecycle,
        system=row.system,
        domain=row.domain,
        tags=list(row.tags),
        aliases=list(row.aliases),
        links=[Link(**link) for link in row.links],
        relations=[Relation(t, target) for t, target in row.relations],
        oncall=[OnCall(**o) for o in row.oncall],
        slack_channels=list(row.slack_channels),
        slack_usergroup=row.slack_usergroup,
        slack_user_id=row.slack_user_id,
        email=row.email,
        sonarqube_project=row.sonarqube_project,
        custom=dict(row.custom),
        source_file=row.source_file,
        source_line=row.source_line,
    )
