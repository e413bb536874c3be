"""In-memory name index for `/owner`: exact matches in a dict, fuzzy ones with rapidfuzz.

The database stays the truth; this index only maps what people type to entity ids, and is
rebuilt when the catalog revision moves (see `CatalogLookup`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

_SEPARATORS = re.compile(r"[\s\-_./:]+")
FUZZY_CUTOFF = 70.0  # below this QRatio, suggestions are noise
TOKEN_SCORE = 85.0  # every typed word is a whole word of the name: a strong hint


def normalise(text: str) -> str:
    """Case- and separator-insensitive form: `Checkout_API` and `checkout-api` are one key."""
    return _SEPARATORS.sub(" ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Match:
    entity_id: int
    score: float  # 100 for an exact match


class NameIndex:
    """Maps the names, titles and aliases of a set of entities to their ids."""

    def __init__(self, entries: Iterable[tuple[int, Sequence[str]]]) -> None:
        exact: dict[str, list[int]] = defaultdict(list)
        tokens: dict[str, set[int]] = defaultdict(set)
        for entity_id, names in entries:
            for key in dict.fromkeys(normalise(n) for n in names if n):
                if key:
                    exact[key].append(entity_id)
                    for token in key.split():
                        tokens[token].add(entity_id)
        self._exact = dict(exact)
        self._tokens = dict(tokens)
        self._keys = list(self._exact)

    def __len__(self) -> int:
        return len(self._keys)

    def exact(self, query: str) -> list[int]:
        return list(self._exact.get(normalise(query), ()))

    def fuzzy(self, query: str, limit: int = 5) -> list[Match]:
        """The closest entities, best first: typos by QRatio over every key, partial names by
        whole-word hits. At most `limit`, each entity once."""
        key = normalise(query)
        if not key:
            return []
        scores: dict[int, float] = {}
        for entity_id in self._token_hits(key.split()):
            scores[entity_id] = TOKEN_SCORE
        found = process.extract(
            key, self._keys, scorer=fuzz.QRatio, limit=limit, score_cutoff=FUZZY_CUTOFF
        )
        for matched_key, score, _ in found:
            for entity_id in self._exact[matched_key]:
                scores[entity_id] = max(scores.get(entity_id, 0.0), float(score))
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [Match(entity_id, score) for entity_id, score in best]

    def _token_hits(self, words: list[str]) -> set[int]:
        hits: set[int] | None = None
        for word in words:
            ids = self._tokens.get(word, set())
            hits = set(ids) if hits is None else hits & ids
            if not hits:
                return set()
        # A very common word ("service") matches everything and says nothing.
        return hits if hits is not None and len(hits) <= 50 else set()
