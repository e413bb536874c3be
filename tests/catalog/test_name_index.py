"""The `/owner` name index's fuzzy matching: the same answers as a plain `process.extract`
over every key (typos, partial names, ties, limits), and the event loop free between slices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from switchboard.bot.catalog.lookup import (
    FUZZY_CUTOFF,
    SLICE_KEYS,
    TOKEN_SCORE,
    Match,
    NameIndex,
    _Signatures,
    normalise,
)

Entries = list[tuple[int, list[str]]]


def reference(entries: Entries, query: str, limit: int = 5) -> list[Match]:
    """How `fuzzy` answered before it moved off the loop: `process.extract` over all keys."""
    index = NameIndex(entries)
    keys: dict[str, list[int]] = {}
    for entity_id, names in entries:
        for key in dict.fromkeys(normalise(n) for n in names if n):
            if key:
                keys.setdefault(key, []).append(entity_id)
    key = normalise(query)
    if not key:
        return []
    scores = {entity_id: TOKEN_SCORE for entity_id in index._token_hits(key.split())}
    found = process.extract(
        key, list(keys), scorer=fuzz.QRatio, limit=limit, score_cutoff=FUZZY_CUTOFF
    )
    for matched, score, _ in found:
        for entity_id in keys[matched]:
            scores[entity_id] = max(scores.get(entity_id, 0.0), float(score))
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [Match(entity_id, score) for entity_id, score in best]


SERVICES: Entries = [
    (1, ["checkout-api", "Checkout API"]),
    (2, ["checkout-worker"]),
    (3, ["ledger"]),
    (4, ["search"]),
    (5, ["payments-ledger", "Payments Ledger", "pay-ledger"]),
    (6, ["ledgers"]),
]


def test_a_typo_finds_the_service_with_its_qratio() -> None:
    index = NameIndex(SERVICES)
    assert fuzz.QRatio("chekout api", "checkout worker") < FUZZY_CUTOFF
    assert index.fuzzy("chekout-api") == [Match(1, fuzz.QRatio("chekout api", "checkout api"))]
    assert index.fuzzy("CHECKOTU_API")[0] == Match(1, fuzz.QRatio("checkotu api", "checkout api"))
    assert index.fuzzy("zzzzzz") == []
    assert index.fuzzy(" -_ ") == []


def test_a_partial_name_finds_every_service_with_that_word() -> None:
    index = NameIndex(SERVICES)
    found = index.fuzzy("checkout")
    assert {m.entity_id for m in found} == {1, 2}
    assert all(m.score == TOKEN_SCORE for m in found)
    # "ledger" is a whole word of 3 and 5 and a typo away from 6.
    assert index.fuzzy("ledger") == [
        Match(3, 100.0),
        Match(6, fuzz.QRatio("ledger", "ledgers")),
        Match(5, TOKEN_SCORE),
    ]


def test_ties_come_in_entity_order_and_the_limit_cuts_after_them() -> None:
    entries: Entries = [(i, [f"svc-{c}"]) for i, c in zip((9, 3, 7, 1, 5), "abcde", strict=True)]
    index = NameIndex(entries)
    every = index.fuzzy("svc-x", limit=10)
    assert [m.entity_id for m in every] == [1, 3, 5, 7, 9]
    assert len({m.score for m in every}) == 1
    # The limit takes the first keys of the tie (those of 9 and 3), listed by entity id.
    assert [m.entity_id for m in index.fuzzy("svc-x", limit=2)] == [3, 9]
    assert index.fuzzy("svc-x", limit=2) == reference(entries, "svc-x", limit=2)


def test_the_limit_and_each_entity_once() -> None:
    entries: Entries = [(n, [f"orders-{n}", f"orders {n} api", f"ordres-{n}"]) for n in range(30)]
    index = NameIndex(entries)
    for limit in (1, 3, 5, 20):
        found = index.fuzzy("orders-1", limit)
        # The limit counts keys, as it did with process.extract: an entity matched by two
        # of its names takes two places (19 entities for 20 here).
        assert limit - 1 <= len(found) <= limit
        assert len({m.entity_id for m in found}) == len(found)
        assert found[0] == Match(1, 100.0)
        assert found == reference(entries, "orders-1", limit)


names = st.text(alphabet="abcdeé 1-_", min_size=1, max_size=14)
entries = st.lists(
    st.tuples(st.integers(1, 40), st.lists(names, min_size=1, max_size=3)), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(entries=entries, query=names, limit=st.integers(1, 8))
def test_the_same_answers_as_process_extract_over_every_key(
    entries: Entries, query: str, limit: int
) -> None:
    assert NameIndex(entries).fuzzy(query, limit) == reference(entries, query, limit)


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(names | st.text(max_size=30), min_size=1, max_size=20), query=names)
def test_the_first_pass_keeps_every_key_at_or_above_the_cutoff(keys: list[str], query: str) -> None:
    signatures = _Signatures(keys)
    kept = set(signatures.candidates(signatures.probe(query), 0, len(keys)).tolist())
    for i, key in enumerate(keys):
        if fuzz.QRatio(query, key) >= FUZZY_CUTOFF:
            assert i in kept, (query, key)


def test_the_first_pass_keeps_a_key_right_at_the_cutoff() -> None:
    keys = ["abcdefgxyz", "abcdwxyz"]
    assert fuzz.QRatio("abcdefghij", keys[0]) == FUZZY_CUTOFF
    assert fuzz.QRatio("abcdefghij", keys[1]) < FUZZY_CUTOFF
    signatures = _Signatures(keys)
    assert signatures.candidates(signatures.probe("abcdefghij"), 0, 2).tolist() == [0]


def test_the_first_pass_keeps_keys_with_very_long_runs() -> None:
    keys = ["a" * 300, "a" * 299 + "b", "b" * 300, "ab" * 150]  # counts are capped at 3
    signatures = _Signatures(keys)
    assert {0, 1} <= set(signatures.candidates(signatures.probe("a" * 290), 0, 4).tolist())
    assert NameIndex((n, [k]) for n, k in enumerate(keys)).fuzzy("a" * 290) == [
        Match(0, fuzz.QRatio("a" * 290, keys[0])),
        Match(1, fuzz.QRatio("a" * 290, keys[1])),
    ]


def large_index(size: int = 20_000) -> NameIndex:
    words = ("payments", "ledger", "checkout", "search", "orders", "billing", "identity")
    return NameIndex(
        (n, [f"{words[n % 7]}-{words[n // 7 % 7]}-{n}", f"{words[n // 49 % 7]} svc {n}"])
        for n in range(size)
    )


@pytest.mark.parametrize("size", [2_000, SLICE_KEYS])  # in one slice, in four
async def test_fuzzy_async_answers_as_fuzzy(size: int) -> None:
    index = large_index(size)
    for query in ("paymnets-ledger-17", "ledger", "billing svc 1999", "", "zzzz"):
        assert await index.fuzzy_async(query, 7) == index.fuzzy(query, 7)
        assert await index.fuzzy_async(query, 1) == index.fuzzy(query, 1)


async def ticks_while(lookup: Callable[[], object]) -> list[str]:
    """What happened, in order, while a coroutine ticked beside the `lookup`."""
    events: list[str] = []

    async def ticker() -> None:
        while True:
            events.append("tick")
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    events.clear()
    result = lookup()
    if asyncio.iscoroutine(result):
        await result
    events.append("done")
    ticking.cancel()
    return events


async def test_the_event_loop_keeps_serving_during_a_fuzzy_lookup() -> None:
    index = large_index()
    beside = await ticks_while(lambda: index.fuzzy_async("paymnets-ledger-1234"))
    slices = -(-len(index) // SLICE_KEYS)
    assert slices >= 4
    assert beside.count("tick") >= slices  # the other coroutine ran between every two slices
    assert beside[-1] == "done"
    # The synchronous form holds the loop for the whole lookup: nothing else runs.
    assert await ticks_while(lambda: index.fuzzy("paymnets-ledger-1234")) == ["done"]


@pytest.mark.parametrize("query", ["paymnets-ledger-1234", "ledger checkout", "idenity svc 9"])
async def test_a_large_index_answers_as_process_extract(query: str) -> None:
    size = SLICE_KEYS  # two keys each: two slices
    words = ("payments", "ledger", "checkout", "search", "orders", "billing", "identity")
    entries: Sequence[tuple[int, list[str]]] = [
        (n, [f"{words[n % 7]}-{words[n // 7 % 7]}-{n}", f"{words[n // 49 % 7]} svc {n}"])
        for n in range(size)
    ]
    index = NameIndex(entries)
    assert await index.fuzzy_async(query, 20) == reference(list(entries), query, 20)
