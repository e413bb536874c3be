"""In-memory name index for `/owner`: exact matches in a dict, fuzzy ones with rapidfuzz.

The database stays the truth; this index only maps what people type to entity ids, and is
rebuilt when the catalog revision moves (see `CatalogLookup`).

Fuzzy matching scores the query against every key by QRatio (the Indel similarity), which
for a 50,000-service catalog is ~100,000 comparisons. Two things keep that off the bot's
event loop: a first pass over character counts drops the keys that cannot reach the cutoff
(exactly: see `_LetterCounts`), and `fuzzy_async` runs the scoring in a worker thread, where
numpy and `rapidfuzz.process.cdist` release the GIL.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

_SEPARATORS = re.compile(r"[\s\-_./:]+")
FUZZY_CUTOFF = 70.0  # below this QRatio, suggestions are noise
TOKEN_SCORE = 85.0  # every typed word is a whole word of the name: a strong hint
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 "  # any other character counts as one more


def normalise(text: str) -> str:
    """Case- and separator-insensitive form: `Checkout_API` and `checkout-api` are one key."""
    return _SEPARATORS.sub(" ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Match:
    entity_id: int
    score: float  # 100 for an exact match


_OTHER = len(_ALPHABET)
_BUCKETS = np.full(129, _OTHER, dtype=np.uint8)  # by code point; 128 stands for any above
_BUCKETS[[ord(c) for c in _ALPHABET]] = np.arange(_OTHER, dtype=np.uint8)


def _bucket(char: str) -> int:
    return int(_BUCKETS[min(ord(char), 128)])


class _LetterCounts:
    """How often each character occurs in each key, to drop keys that cannot match.

    Each insertion or deletion changes one character's count by one, so the Indel distance
    of two strings is at least the sum of their count differences (the bag distance); with
    characters pooled in buckets and counts capped at 255 the sum only gets smaller, so it
    stays a lower bound. QRatio is `100 * (1 - indel / (len(a) + len(b)))`: a key whose bound
    already puts it under the cutoff is left out, and no key scoring at or above it is.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
        text = "".join(keys).encode("utf-32-le", "surrogatepass")  # one code point, 4 bytes
        chars = np.frombuffer(text, dtype=np.uint32)
        buckets = _BUCKETS[np.minimum(chars, len(_BUCKETS) - 1)]
        owners = np.repeat(np.arange(len(keys), dtype=np.int32), lengths)
        counts = np.empty((_OTHER + 1, len(keys)), dtype=np.uint8)  # bucket-major
        for row in range(_OTHER + 1):
            found = np.bincount(owners[buckets == row], minlength=len(keys))
            counts[row] = np.minimum(found, 255)
        self._counts = counts
        self._totals = counts.sum(axis=0, dtype=np.int32)
        self._lengths = lengths.astype(np.int32)

    def candidates(self, key: str, cutoff: float) -> npt.NDArray[np.intp]:
        """Indexes of the keys that may score `cutoff` or more against `key`, ascending."""
        wanted: dict[int, int] = defaultdict(int)
        for char in key:
            wanted[_bucket(char)] += 1
        shared = np.zeros(len(self._lengths), dtype=np.uint16)  # at most 38 * 255
        common = np.empty(len(self._lengths), dtype=np.uint8)
        for row, count in wanted.items():
            shared += np.minimum(self._counts[row], min(count, 255), out=common)
        total = sum(min(count, 255) for count in wanted.values())
        bag = self._totals + (total - 2 * shared.astype(np.int32))  # sum of |differences|
        allowed = (1.0 - cutoff / 100.0) * (self._lengths + len(key)) + 1e-6
        return np.flatnonzero(bag <= allowed)


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
        keys = list(self._exact)
        self._keys = np.array(keys, dtype=object)  # the same str objects, indexable by arrays
        self._counts = _LetterCounts(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def exact(self, query: str) -> list[int]:
        return list(self._exact.get(normalise(query), ()))

    def fuzzy(self, query: str, limit: int = 5) -> list[Match]:
        """The closest entities, best first: typos by QRatio over every key, partial names by
        whole-word hits. At most `limit`, each entity once. Scores on the calling thread:
        on the event loop, use `fuzzy_async`."""
        key = normalise(query)
        return self._merge(key, self._closest(key, limit), limit) if key else []

    async def fuzzy_async(
        self, query: str, limit: int = 5, executor: Executor | None = None
    ) -> list[Match]:
        """`fuzzy`, with the scoring in `executor` (the loop's default if None): the event
        loop serves other requests meanwhile."""
        key = normalise(query)
        if not key:
            return []
        loop = asyncio.get_running_loop()
        closest = await loop.run_in_executor(executor, self._closest, key, limit)
        return self._merge(key, closest, limit)

    def _closest(self, key: str, limit: int) -> list[tuple[str, float]]:
        """The `limit` keys with the highest QRatio of at least the cutoff, best first, ties
        in index order: what `process.extract` over all keys gives, for less CPU and
        without holding the GIL while scoring."""
        candidates = self._counts.candidates(key, FUZZY_CUTOFF)
        if not len(candidates):
            return []
        scores = process.cdist(
            [key],
            self._keys[candidates],
            scorer=fuzz.QRatio,
            score_cutoff=FUZZY_CUTOFF,
            dtype=np.float64,
            workers=1,
        )[0]
        hits = np.flatnonzero(scores >= FUZZY_CUTOFF)
        if len(hits) > limit:  # only the scores tied with the limit-th best can enter
            kth = np.partition(scores[hits], len(hits) - limit)[len(hits) - limit]
            hits = hits[scores[hits] >= kth]
        best = hits[np.lexsort((hits, -scores[hits]))][:limit]
        return [(self._keys[candidates[i]], float(scores[i])) for i in best]

    def _merge(self, key: str, closest: list[tuple[str, float]], limit: int) -> list[Match]:
        scores: dict[int, float] = {}
        for entity_id in self._token_hits(key.split()):
            scores[entity_id] = TOKEN_SCORE
        for matched_key, score in closest:
            for entity_id in self._exact[matched_key]:
                scores[entity_id] = max(scores.get(entity_id, 0.0), score)
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
