"""In-memory name index for `/owner`: exact matches in a dict, fuzzy ones with rapidfuzz.

The database stays the truth; this index only maps what people type to entity ids, and is
rebuilt when the catalog revision moves (see `CatalogLookup`).

Fuzzy matching ranks keys by QRatio (the Indel similarity) against the query; a 50,000-service
catalog has over 50,000 keys. A first pass over a 16-byte signature of each key's characters
drops, exactly, the keys that cannot reach the cutoff (see `_Signatures`): 2-3% are left to
score. `fuzzy_async` does that a slice of keys at a time and lets the event loop run other
work between slices. (A worker thread was measured too: see bench/owner_lookup.py.)
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

_SEPARATORS = re.compile(r"[\s\-_./:]+")
FUZZY_CUTOFF = 70.0  # below this QRatio, suggestions are noise
TOKEN_SCORE = 85.0  # every typed word is a whole word of the name: a strong hint
SLICE_KEYS = 8192  # fuzzy_async gives the loop back after this many keys (~0.1 ms)
# What `complete` ranks first to last: the name typed whole, a name starting with what was
# typed, a name with a word starting with each word typed. Typos (`fuzzy`) come after.
EXACT, PREFIX, WORDS = 0, 1, 2
_LAST = "\U0010ffff"  # after every character: the end of a range of keys sharing a prefix


def normalise(text: str) -> str:
    """Case- and separator-insensitive form: `Checkout_API` and `checkout-api` are one key."""
    return _SEPARATORS.sub(" ", text.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Match:
    entity_id: int
    score: float  # 100 for an exact match


Indexes = npt.NDArray[np.intp]
Scores = npt.NDArray[np.float64]
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 "  # any other character: one more bucket
_BUCKETS = len(_ALPHABET) + 1
_BUCKET_OF = np.full(129, _BUCKETS - 1, dtype=np.intp)  # by code point, 128 for any above
_BUCKET_OF[[ord(c) for c in _ALPHABET]] = np.arange(_BUCKETS - 1)
_CAP = 3  # counts kept per bucket: 3 bits of unary code, 0 -> 000, 2 -> 011, 5 -> 111
_WORDS = (slice(0, 21), slice(21, _BUCKETS))  # 21 buckets of 3 bits in a 64-bit word
_SHIFT = (np.arange(_BUCKETS) % 21 * 3).astype(np.uint64)
_REACH = 1.0 - FUZZY_CUTOFF / 100.0  # Indel distance allowed per character of both strings


class _Signatures:
    """Per key, the count of each character bucket, capped at 3 and in unary, in two words.

    Each insertion or deletion changes one character's count by one, so the Indel distance
    of two strings is at least the sum of their count differences; pooling characters in
    buckets and capping counts only makes that sum smaller, and in unary code the difference
    of two capped counts is the number of bits that differ. So the popcount of two keys'
    signatures XORed is a lower bound of their Indel distance, and QRatio, which is
    `100 * (1 - indel / (len(a) + len(b)))`, cannot reach the cutoff for a key whose bound
    is over `_REACH * (len(a) + len(b))`: such a key is left out, and only such a key.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._words = np.zeros((2, len(keys)), dtype=np.uint64)
        for start in range(0, len(keys), 1024):  # small temporary arrays
            chunk = keys[start : start + 1024]
            self._words[:, start : start + len(chunk)] = _signature_words(chunk)
        self._reach = _lengths(keys) * _REACH

    def probe(self, key: str) -> _Probe:
        low, high = _signature_words([key])[:, 0]
        return _Probe(low, high, _REACH * len(key) + 1e-6)  # rounding keeps, never drops

    def candidates(self, probe: _Probe, start: int, stop: int) -> Indexes:
        """The keys in [start, stop) that may score the cutoff or more against the probe."""
        words = self._words[:, start:stop]
        bound = np.bitwise_count(words[0] ^ probe.low) + np.bitwise_count(words[1] ^ probe.high)
        return np.flatnonzero(bound <= self._reach[start:stop] + probe.reach) + start


class _Probe(NamedTuple):
    """A query's signature words, and the Indel distance its own length allows."""

    low: np.uint64
    high: np.uint64
    reach: float


def _lengths(keys: Sequence[str]) -> npt.NDArray[np.int64]:
    return np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))


def _signature_words(keys: Sequence[str]) -> npt.NDArray[np.uint64]:
    """The two signature words of each key, shape (2, len(keys))."""
    text = "".join(keys).encode("utf-32-le", "surrogatepass")  # one code point, 4 bytes
    chars = np.frombuffer(text, dtype=np.uint32)
    owners = np.repeat(np.arange(len(keys)), _lengths(keys))
    cells = owners * _BUCKETS + _BUCKET_OF[np.minimum(chars, 128)]
    counts = np.bincount(cells, minlength=len(keys) * _BUCKETS).reshape(len(keys), _BUCKETS)
    codes = (np.uint64(1) << np.minimum(counts, _CAP).astype(np.uint64)) - np.uint64(1)
    shifted = codes << _SHIFT
    return np.stack([np.bitwise_or.reduce(shifted[:, words], axis=1) for words in _WORDS])


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
        self._sorted_keys = sorted(self._exact)  # for prefixes, by bisection
        self._sorted_tokens = sorted(self._tokens)
        self._rank_key: dict[int, str] = {}  # an entity's shortest key: how it ranks
        for key, ids in self._exact.items():
            for entity_id in ids:
                known = self._rank_key.get(entity_id)
                if known is None or (len(key), key) < (len(known), known):
                    self._rank_key[entity_id] = key
        keys = list(self._exact)
        self._keys = np.array(keys, dtype=object)  # the same str objects, indexable by arrays
        self._signatures = _Signatures(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def exact(self, query: str) -> list[int]:
        return list(self._exact.get(normalise(query), ()))

    def complete(self, query: str, limit: int) -> list[tuple[int, int]]:
        """What a search box shows while `query` is typed, as (tier, entity id), best first,
        each entity once, at most `limit`: the name typed whole (EXACT), names starting with
        it (PREFIX), then names with a word starting with each typed word (WORDS); shorter
        names first in a tier. "plat" finds "platform" and "Platform API"; "api" finds
        "Payments API". Typos are `fuzzy`'s."""
        key = normalise(query)
        if not key:
            return []
        found: dict[int, int] = {}
        for entity_id in self._exact.get(key, ()):
            found.setdefault(entity_id, EXACT)
        for prefixed in heapq.nsmallest(limit, self._starting(self._sorted_keys, key), _short):
            for entity_id in self._exact[prefixed]:
                found.setdefault(entity_id, PREFIX)
        if len(found) < limit:
            ranked = heapq.nsmallest(limit, self._word_starts(key.split()), self._rank)
            for entity_id in ranked:
                found.setdefault(entity_id, WORDS)
        return sorted(
            ((tier, entity_id) for entity_id, tier in found.items()),
            key=lambda hit: (hit[0], *self._rank(hit[1])),
        )[:limit]

    def _rank(self, entity_id: int) -> tuple[int, str]:
        return _short(self._rank_key.get(entity_id, ""))

    @staticmethod
    def _starting(keys: list[str], prefix: str) -> list[str]:
        """The keys of a sorted list that start with `prefix`."""
        start = bisect.bisect_left(keys, prefix)
        return keys[start : bisect.bisect_left(keys, prefix + _LAST, start)]

    def _word_starts(self, words: list[str]) -> set[int]:
        """The entities with, for each word, one of theirs that starts with it."""
        hits: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # longest first: fewest entities
            ids = {
                entity_id
                for token in self._starting(self._sorted_tokens, word)
                for entity_id in self._tokens[token]
            }
            hits = ids if hits is None else hits & ids
            if not hits:
                break
        return hits or set()

    def fuzzy(self, query: str, limit: int = 5) -> list[Match]:
        """The closest entities, best first: typos by QRatio over every key, partial names by
        whole-word hits. At most `limit`, each entity once. In one go: on the event loop,
        use `fuzzy_async`."""
        key = normalise(query)
        if not key:
            return []
        found = self._scan(key, self._signatures.probe(key), 0, len(self))
        return self._merge(key, self._best(*found, limit), limit)

    async def fuzzy_async(self, query: str, limit: int = 5) -> list[Match]:
        """`fuzzy`, a slice of the keys at a time: the event loop serves other requests
        between slices."""
        key = normalise(query)
        if not key:
            return []
        probe, found = self._signatures.probe(key), []
        for start in range(0, len(self), SLICE_KEYS):
            found.append(self._scan(key, probe, start, start + SLICE_KEYS))
            await asyncio.sleep(0)
        indexes = np.concatenate([i for i, _ in found]) if found else np.array([], np.intp)
        scores = np.concatenate([s for _, s in found]) if found else np.array([])
        return self._merge(key, self._best(indexes, scores, limit), limit)

    def _scan(self, key: str, probe: _Probe, start: int, stop: int) -> tuple[Indexes, Scores]:
        """The keys in [start, stop) with a QRatio of at least the cutoff, and their scores."""
        candidates = self._signatures.candidates(probe, start, stop)
        if not len(candidates):
            return candidates, np.array([])
        scores = process.cdist(
            [key],
            self._keys[candidates],
            scorer=fuzz.QRatio,
            score_cutoff=FUZZY_CUTOFF,
            dtype=np.float64,
            workers=1,
        )[0]
        hits = np.flatnonzero(scores >= FUZZY_CUTOFF)
        return candidates[hits], scores[hits]

    def _best(self, indexes: Indexes, scores: Scores, limit: int) -> list[tuple[str, float]]:
        """The `limit` best keys, ties in key order: what `process.extract` gives."""
        if len(indexes) > limit:  # only the scores tied with the limit-th best can enter
            kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            indexes, scores = indexes[scores >= kth], scores[scores >= kth]
        order = np.lexsort((indexes, -scores))[:limit]
        return [(self._keys[indexes[i]], float(scores[i])) for i in order]

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
        """The entities with every word among theirs. Rarest word first: a word that no
        name has ends it at once, and no common word's thousands of ids are copied."""
        found = sorted((self._tokens.get(word, _NONE) for word in words), key=len)
        hits = found[0] if found else _NONE
        for ids in found[1:]:
            hits = hits & ids  # loops over the smaller set
        # A very common word ("service") matches everything and says nothing.
        return set(hits) if len(hits) <= 50 else set()


_NONE: frozenset[int] = frozenset()


def _short(key: str) -> tuple[int, str]:
    return len(key), key
