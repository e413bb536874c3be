"""The catalog as every feature reads it (`CatalogReader`: find, suggest, contacts, kept
in memory per catalog revision), and the `/owner` answers: parsing the text, finding the
entities, and the typed answers that `owner_message` renders."""

from __future__ import annotations

import dataclasses
import gc
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.graph import Dependent, Graph
from switchboard.bot.catalog.lookup import WORDS, NameIndex
from switchboard.bot.catalog.model import DEPENDS_ON, MEMBER_OF, Entity, OnCall, make_ref
from switchboard.bot.catalog.oncall import on_call
from switchboard.bot.catalog.rows import from_row
from switchboard.bot.platform import memory
from switchboard.bot.platform.slack_gateway import SlackGateway
from switchboard.storage import catalog_store, dependency_store
from switchboard.storage.tables import CatalogEntity

QueryKind = Literal["usage", "service", "deps", "team", "usergroup", "person", "handle"]

_USERGROUP = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_PEOPLE_KINDS = ("group", "user")
MAX_MEMBERS = 10
MAX_CONTACT_MEMBERS = 200  # a team's members invited to an incident
REVISION_CHECK_SECONDS = 1.0
MAX_CACHED_CARDS = 500  # service answers kept per catalog revision
MAX_OPTIONS = 100  # Slack's most options in an external select
TYPOS = WORDS + 1  # after every tier of `NameIndex.complete`


@dataclass(frozen=True, slots=True)
class OwnerQuery:
    kind: QueryKind
    value: str = ""


def parse_owner_text(text: str) -> OwnerQuery:
    """`/owner` grammar: `<service>`, `<service> deps`, `team:<name>`, a user-group or user
    mention (escaped by Slack as `<!subteam^S..|@x>` / `<@U..|x>`, or typed as `@x`), or
    nothing for usage. A handle holds no '/': `@acme/payments-api` is a service's scoped tag."""
    text = " ".join(text.split())
    if not text or text.casefold() in ("help", "?", "usage"):
        return OwnerQuery("usage")
    service, _, last = text.rpartition(" ")
    if service and last.casefold() == "deps" and not service.casefold().startswith("team:"):
        return OwnerQuery("deps", service)
    if text.casefold().startswith("team:"):
        name = text[5:].strip()
        return OwnerQuery("team", name) if name else OwnerQuery("usage")
    if match := _USERGROUP.match(text):
        return OwnerQuery("usergroup", match.group(1))
    if match := _USER.match(text):
        return OwnerQuery("person", match.group(1))
    if text.startswith("@") and len(text) > 1 and "/" not in text:  # `@acme/x`: an npm tag
        return OwnerQuery("handle", text[1:])
    return OwnerQuery("service", text)


@dataclass(slots=True)
class Team:
    entity: Entity
    members: list[Entity] = field(default_factory=list)


@dataclass(slots=True)
class ServiceAnswer:
    service: Entity
    teams: list[Team]  # owning groups with their members
    people: list[Entity]  # owners that are people
    unresolved_owners: list[str]  # owner refs the catalog does not know
    dependencies: list[str]  # display names of what it depends on
    oncall_now: str = ""  # who is on call now, from the stored live facts (mrkdwn)
    health: str = ""  # scorecard levels, open incidents, ... (mrkdwn): see bot/health.py
    depended_on_by: int = 0  # services that depend on it directly
    dependent_teams: int = 0  # the teams owning those


@dataclass(slots=True)
class DepsAnswer:
    """`/owner <service> deps`: what it depends on, and what depends on it (directly)."""

    service: Entity
    dependencies: list[str]  # display names
    dependents: list[tuple[str, list[str]]]  # (display name, its teams' names)


# Who is on call now for the first of these entity refs that has a stored on-call, as one
# mrkdwn line ("" when none has): given by the composition root (the live facts), read
# from the database only, never from the source.
LiveOnCall = Callable[[Sequence[str]], Awaitable[str]]
# The Slack user ids on call now for the first of these refs with a stored on-call.
LiveOnCallUsers = Callable[[Sequence[str]], Awaitable[list[str]]]
# (service ref, the viewer's Slack id or "" for a shared answer) -> its health line (mrkdwn).
Health = Callable[[str, str], Awaitable[str]]


@dataclass(slots=True)
class OwnedAnswer:
    """What a team, a user group or a person owns."""

    subject: Entity  # the group or the person
    teams: list[Entity]  # for a person: the teams they belong to
    services: list[Entity]


@dataclass(slots=True)
class ChoiceAnswer:
    query: str
    choices: list[Entity]


@dataclass(slots=True)
class NoMatch:
    query: str
    what: str  # "service", "team", "person"
    suggestions: list[str]


@dataclass(slots=True)
class Usage:
    pass


Answer = ServiceAnswer | DepsAnswer | OwnedAnswer | ChoiceAnswer | NoMatch | Usage


@dataclass(slots=True)
class Contacts:
    """Who to bring in for an entity: its owners' people and how to page its on-call."""

    entity: Entity
    users: list[str]  # Slack user ids the catalog knows
    usergroups: list[str]  # Slack user group ids whose members own it
    oncall: list[OnCall]
    oncall_now: list[str] = field(default_factory=list)  # who is on call now (live facts)
    owner_groups: list[Entity] = field(default_factory=list)  # whose on-call counts too


@dataclass(slots=True)
class _Indexes:
    """What is built once per catalog revision: the name indexes, and the service answers
    and team members read so far (both are read from the catalog alone)."""

    revision: int
    services: NameIndex
    teams: NameIndex
    cards: dict[int, Answer] = field(default_factory=dict)
    members: dict[str, list[Entity]] = field(default_factory=dict)  # by team ref
    graph: Graph | None = None  # the dependency graph, read on first use (`_graph`)


class CatalogReader:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: SlackGateway,
        clock: Callable[[], float] = time.monotonic,
        live_oncall: LiveOnCall | None = None,
        live_oncall_users: LiveOnCallUsers | None = None,
    ) -> None:
        self.live_oncall = live_oncall
        self.live_oncall_users = live_oncall_users
        self.health: Health | None = None  # given by the composition root
        self._sessions = sessions
        self._gateway = gateway
        self._clock = clock
        self._indexes: _Indexes | None = None
        self._checked_at = -REVISION_CHECK_SECONDS

    async def answer(self, text: str, viewer: str = "") -> Answer:
        """`viewer` is who asks ("" for an answer shared in a channel): the health line
        counts their private incidents only for them."""
        return await self._live(await self._answer(text), viewer)

    async def _live(self, answer: Answer, viewer: str) -> Answer:
        """A service's answer with who is on call now and its health (the card itself is
        cached; these are read each time, from the stored facts and records)."""
        if not isinstance(answer, ServiceAnswer):
            return answer
        refs = [answer.service.ref, *(t.entity.ref for t in answer.teams)]
        # One after the other: each holds a database connection, and a dozen answers are
        # worked on at once (`lookup.ANSWERS_AT_ONCE`) beside everything else the pool serves.
        oncall = await self.live_oncall(refs) if self.live_oncall else ""
        health = await self.health(answer.service.ref, viewer) if self.health else ""
        return dataclasses.replace(answer, oncall_now=oncall, health=health)

    async def _answer(self, text: str) -> Answer:
        query = parse_owner_text(text)
        if query.kind == "usage":
            return Usage()
        async with self._sessions() as session:
            indexes = await self._current_indexes(session)
            if query.kind == "service":
                return await self._service(session, indexes, query.value)
            if query.kind == "deps":
                return await self._deps(session, indexes, query.value)
            if query.kind == "team":
                return await self._team(session, indexes, query.value)
            if query.kind == "usergroup":
                return await self._usergroup(session, query.value)
            if query.kind == "person":
                return await self._person(session, query.value)
            return await self._handle(session, indexes, query.value)

    async def answer_ref(self, ref: str, viewer: str = "") -> Answer:
        """The answer for one entity, as chosen from a button."""
        async with self._sessions() as session:
            rows = await catalog_store.entities_by_ref(session, [ref])
            if not rows:
                return NoMatch(ref, "service", [])
            if rows[0].kind == "group":
                return await self._owned(session, rows[0].id)
            return await self._live(await self._service_card(session, rows[0].id), viewer)

    async def find(self, text: str) -> tuple[Entity | None, list[Entity]]:
        """The service (or, with `team:`, the team) `text` names, else the closest ones."""
        team = text.casefold().startswith("team:")
        name = text[5:].strip() if team else text
        async with self._sessions() as session:
            indexes = await self._current_indexes(session)
            index = indexes.teams if team else indexes.services
            exact = index.exact(name) or ([] if team else indexes.teams.exact(name))
            if len(exact) == 1:
                return (await self._load(session, exact))[0], []
            close = exact or await _close_to(index, name)
            return None, await self._load(session, close)

    async def find_many(self, names: Sequence[str]) -> list[tuple[Entity | None, list[Entity]]]:
        """`find` for each of `names`, those matched exactly read in one query."""
        if not names:
            return []  # nothing asked, nothing read (the database may be down)
        if any(n.casefold().startswith("team:") for n in names):
            return [await self.find(n) for n in names]
        async with self._sessions() as session:
            indexes = await self._current_indexes(session)
            exact = [indexes.services.exact(n) or indexes.teams.exact(n) for n in names]
            wanted = [ids[0] for ids in exact if len(ids) == 1]
            rows = await catalog_store.entities_by_id(session, wanted)
            loaded = {row.id: from_row(row) for row in rows}
            found: list[tuple[Entity | None, list[Entity]]] = []
            for name, ids in zip(names, exact, strict=True):
                if len(ids) == 1 and ids[0] in loaded:
                    found.append((loaded[ids[0]], []))
                else:
                    close = ids or await _close_to(indexes.services, name)
                    found.append((None, await self._load(session, close)))
            return found

    async def suggest(self, text: str, *, teams: bool, limit: int = MAX_OPTIONS) -> list[Entity]:
        """Services (and teams, if asked) for a search box while `text` is typed, best first:
        names typed whole, names starting with it, names with words starting with the words
        typed (`NameIndex.complete`), and only then typos; at most `limit` (Slack shows 100
        options)."""
        async with self._sessions() as session:
            indexes = await self._current_indexes(session)
            chosen = [indexes.services, *([indexes.teams] if teams else [])]
            ranked: list[tuple[int, int, int]] = []  # (tier, position in its index, id)
            for index in chosen:
                hits = index.complete(text, limit)
                ranked += [(tier, at, entity_id) for at, (tier, entity_id) in enumerate(hits)]
            if len(ranked) < limit:
                for index in chosen:
                    close = await _close_to(index, text, limit)
                    ranked += [(TYPOS, at, entity_id) for at, entity_id in enumerate(close)]
            ids = list(dict.fromkeys(entity_id for _, _, entity_id in sorted(ranked)))
            return await self._load(session, ids[:limit])

    async def contacts(self, ref: str) -> Contacts | None:
        return (await self.contacts_of([ref])).get(ref)

    async def contacts_of(self, refs: Sequence[str]) -> dict[str, Contacts]:
        """`contacts` of many entities in three queries, whatever their number (a declare
        naming twenty services); an unknown ref is left out."""
        if not refs:
            return {}
        async with self._sessions() as session:
            entities = _entities(await catalog_store.entities_by_ref(session, refs))
            owner_refs = {o for e in entities if e.kind != "group" for o in e.owners}
            known = {
                o.ref: o
                for o in _entities(await catalog_store.entities_by_ref(session, owner_refs))
            }
            owners = {
                e.ref: [e] if e.kind == "group" else [known[o] for o in e.owners if o in known]
                for e in entities
            }
            group_refs = {o.ref for found in owners.values() for o in found if o.kind == "group"}
            members = _entities(
                await catalog_store.related_to(
                    session, MEMBER_OF, group_refs, limit=MAX_CONTACT_MEMBERS * len(group_refs)
                )
            )
        found = {}
        for entity in entities:
            found[entity.ref] = await self._contacts(entity, owners[entity.ref], members)
        return found

    async def _contacts(
        self, entity: Entity, owners: list[Entity], members: list[Entity]
    ) -> Contacts:
        groups = [o for o in owners if o.kind == "group"]
        wanted = {g.ref for g in groups}
        theirs = [
            m
            for m in members
            if any(r.type == MEMBER_OF and r.target in wanted for r in m.relations)
        ][:MAX_CONTACT_MEMBERS]
        users = [p.slack_user_id for p in [*owners, *theirs] if p.slack_user_id]
        usergroups = [g.slack_usergroup for g in groups if _USERGROUP_ID.match(g.slack_usergroup)]
        # Paged through the same notion `/owner` shows; a user group known only by its
        # handle cannot be paged, so it is left out here.
        oncall = [
            o
            for o in on_call(entity, groups).entries
            if o.provider != "slack" or o.target_type != "usergroup" or o.target_id in usergroups
        ]
        now = []
        if self.live_oncall_users is not None:
            now = await self.live_oncall_users([entity.ref, *(g.ref for g in groups)])
        return Contacts(
            entity, list(dict.fromkeys(users)), usergroups, oncall, now, owner_groups=groups
        )

    async def dependents(self, refs: Sequence[str], depth: int) -> tuple[Graph, list[Dependent]]:
        """What depends on `refs` to `depth` levels, from the in-memory graph (no query per
        service), with the graph for names, teams and channels."""
        async with self._sessions() as session:
            graph = await self._graph(session, await self._current_indexes(session))
        return graph, graph.dependents(refs, depth)

    async def _graph(self, session: AsyncSession, indexes: _Indexes) -> Graph:
        """The dependency graph of this catalog revision: two queries, once per revision."""
        if indexes.graph is None:
            nodes = await dependency_store.nodes(session)
            indexes.graph = Graph.build(nodes, await dependency_store.edges(session))
        return indexes.graph

    async def _deps(self, session: AsyncSession, indexes: _Indexes, text: str) -> Answer:
        found = await self._service(session, indexes, text)
        if not isinstance(found, ServiceAnswer):
            return found
        graph = await self._graph(session, indexes)
        ref = found.service.ref
        dependents = [
            (d.node.name, [t.name for t in graph.teams_of(d.node.ref)])
            for d in graph.dependents([ref], 1)
        ]
        return DepsAnswer(found.service, found.dependencies, sorted(dependents))

    def recheck(self) -> None:
        """The catalog was imported here: read its revision on the next lookup (another
        replica's imports are seen within REVISION_CHECK_SECONDS)."""
        self._checked_at = self._clock() - REVISION_CHECK_SECONDS

    async def warm(self) -> None:
        """Build the indexes and the dependency graph now (at start-up) rather than on the
        first lookup."""
        async with self._sessions() as session:
            await self._graph(session, await self._current_indexes(session))

    async def _current_indexes(self, session: AsyncSession) -> _Indexes:
        """The name indexes, rebuilt when another import (maybe in another replica) moved the
        catalog revision. Checked at most once a second: a query saved on every lookup."""
        now = self._clock()
        if self._indexes is not None and now - self._checked_at < REVISION_CHECK_SECONDS:
            return self._indexes
        self._checked_at = now
        revision = await catalog_store.revision(session)
        if self._indexes is None or self._indexes.revision != revision:
            rows = await catalog_store.searchable(session)
            self._indexes = _Indexes(
                revision,
                NameIndex((i, [n, t, *a]) for i, k, n, t, a in rows if k not in _PEOPLE_KINDS),
                NameIndex((i, [n, t, *a]) for i, k, n, t, a in rows if k == "group"),
            )
            _settle()
        return self._indexes

    async def _service(self, session: AsyncSession, indexes: _Indexes, text: str) -> Answer:
        exact = indexes.services.exact(text)
        if len(exact) == 1:
            return await self._cached_card(session, indexes, exact[0])
        if exact:
            return ChoiceAnswer(text, await self._load(session, exact))
        teams = indexes.teams.exact(text)
        if len(teams) == 1:  # a team name typed without `team:` still gets its answer
            return await self._owned(session, teams[0])
        fuzzy = await _close_to(indexes.services, text)
        if fuzzy:
            return ChoiceAnswer(text, await self._load(session, fuzzy))
        return NoMatch(text, "service", [])

    async def _team(self, session: AsyncSession, indexes: _Indexes, name: str) -> Answer:
        exact = indexes.teams.exact(name)
        if len(exact) == 1:
            return await self._owned(session, exact[0])
        candidates = exact or await _close_to(indexes.teams, name)
        return NoMatch(name, "team", [e.ref for e in await self._load(session, candidates)])

    async def _usergroup(self, session: AsyncSession, group_id: str) -> Answer:
        groups = await catalog_store.groups_with_usergroup(session, group_id)
        if not groups:
            return NoMatch(f"<!subteam^{group_id}>", "team", [])
        return await self._owned(session, groups[0].id)

    async def _handle(self, session: AsyncSession, indexes: _Indexes, handle: str) -> Answer:
        for candidate in (f"@{handle}", handle):
            groups = await catalog_store.groups_with_usergroup(session, candidate)
            if groups:
                return await self._owned(session, groups[0].id)
        teams = indexes.teams.exact(handle)
        if len(teams) == 1:
            return await self._owned(session, teams[0])
        people = await catalog_store.entities_by_ref(session, [make_ref("user", handle)])
        if people:
            return await self._person_answer(session, people[0].id)
        return NoMatch(f"@{handle}", "team", [])

    async def _person(self, session: AsyncSession, user_id: str) -> Answer:
        people = await catalog_store.people(session, slack_user_id=user_id)
        if not people:
            email = await self._gateway.user_email(user_id)
            people = await catalog_store.people(session, email=email) if email else []
        if not people:
            return NoMatch(f"<@{user_id}>", "person", [])
        return await self._person_answer(session, people[0].id)

    async def _person_answer(self, session: AsyncSession, person_id: int | None) -> Answer:
        person = await self._load_one(session, person_id)
        if person is None:
            return NoMatch("that person", "person", [])
        team_refs = [r.target for r in person.relations if r.type == MEMBER_OF]
        teams = _entities(await catalog_store.entities_by_ref(session, team_refs))
        owner_refs = [person.ref, *team_refs]
        if person.email:
            owner_refs.append(make_ref("user", person.email, "email"))
        services = _entities(await catalog_store.owned_by(session, owner_refs))
        return OwnedAnswer(person, teams, services)

    async def _owned(self, session: AsyncSession, group_id: int | None) -> Answer:
        team = await self._load_one(session, group_id)
        if team is None:
            return NoMatch("that team", "team", [])
        services = _entities(await catalog_store.owned_by(session, [team.ref]))
        return OwnedAnswer(team, [], services)

    async def _cached_card(
        self, session: AsyncSession, indexes: _Indexes, entity_id: int
    ) -> Answer:
        """The service's answer, from memory while the catalog revision stands: the most
        asked question costs no database work (a catalog of any size stays bounded)."""
        card = indexes.cards.get(entity_id)
        if card is None:
            card = await self._service_card(session, entity_id)
            if len(indexes.cards) >= MAX_CACHED_CARDS:
                indexes.cards.clear()
            indexes.cards[entity_id] = card
        return card

    async def _service_card(self, session: AsyncSession, entity_id: int | None) -> Answer:
        service = await self._load_one(session, entity_id)
        if service is None:  # removed by an import since the index was built
            return NoMatch("that service", "service", [])
        depends_on = [r.target for r in service.relations if r.type == DEPENDS_ON]
        found = {  # owners and dependencies in one query
            row.ref: row
            for row in await catalog_store.entities_by_ref(session, [*service.owners, *depends_on])
        }
        owners = _entities(found[ref] for ref in service.owners if ref in found)
        known = {o.ref for o in owners}
        people = [o for o in owners if o.kind == "user"]
        for ref in service.owners:  # e-mail owners (Cortex) are matched to people by address
            if ref not in known and ref.startswith("user:email/"):
                by_email = await catalog_store.people(
                    session, email=ref.removeprefix("user:email/")
                )
                if by_email:
                    people += _entities(by_email)
                    known.add(ref)
        teams = [Team(o, await self._members(session, o)) for o in owners if o.kind == "group"]
        unresolved = [ref for ref in service.owners if ref not in known]
        graph = await self._graph(session, await self._current_indexes(session))
        dependents = graph.dependents([service.ref], 1)
        dependent_teams = {t.ref for d in dependents for t in graph.teams_of(d.node.ref)}
        deps = [
            (found[ref].title or found[ref].name) if ref in found else ref.partition("/")[2]
            for ref in depends_on
        ]
        return ServiceAnswer(
            service,
            teams,
            people,
            unresolved,
            deps,
            depended_on_by=len(dependents),
            dependent_teams=len(dependent_teams),
        )

    async def _members(self, session: AsyncSession, team: Entity) -> list[Entity]:
        """A team's first members, kept with the indexes while the catalog revision stands:
        a few hundred teams own the thousands of services asked about."""
        known = self._indexes.members if self._indexes is not None else {}
        if team.ref not in known:
            known[team.ref] = _entities(
                await catalog_store.related_to(session, MEMBER_OF, [team.ref], limit=MAX_MEMBERS)
            )
        return known[team.ref]

    async def _load_one(self, session: AsyncSession, entity_id: int | None) -> Entity | None:
        found = await self._load(session, [entity_id] if entity_id is not None else [])
        return found[0] if found else None

    async def _load(self, session: AsyncSession, ids: Sequence[int]) -> list[Entity]:
        """Entities in the order of `ids`."""
        rows = {row.id: row for row in await catalog_store.entities_by_id(session, ids)}
        return _entities([rows[i] for i in ids if i in rows])


def _settle() -> None:
    """Keep what lives until the next catalog out of the collector's full passes.

    The indexes of a 50,000-service catalog are hundreds of thousands of containers, which
    every full collection walked again: pauses of 0.1 to 0.7 s, every few seconds under
    load, during which no request was acked. Frozen, they are skipped (and the old ones are
    still freed by reference counting when replaced). Collected first, so that no garbage
    (the import's) is frozen with them; and the memory it held given back."""
    gc.collect()
    gc.freeze()
    memory.give_back()


async def _close_to(index: NameIndex, text: str, limit: int = 5) -> list[int]:
    """The ids `index` finds closest to `text`, scored without holding the event loop."""
    return [m.entity_id for m in await index.fuzzy_async(text, limit)]


def _entities(rows: Iterable[CatalogEntity]) -> list[Entity]:
    return [from_row(row) for row in rows]
