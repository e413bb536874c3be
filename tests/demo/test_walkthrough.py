"""A newcomer's tour in headless chromium: /owner, declare, pin a message to the timeline with
a reaction, resolve with the card's button, read the postmortem. A screenshot of each step."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from switchboard.demo.run import Demo
from tests.demo.conftest import Shots


async def send(page: Any, text: str) -> None:
    await page.fill("#composer-text", text)
    await page.press("#composer-text", "Enter")


async def test_owner_declare_pin_resolve_and_read_the_postmortem(
    page: Any, demo: Demo, shots: Shots
) -> None:
    await send(page, "/owner payments-api")
    answer = page.locator("article.ephemeral", has_text="Payments API")
    await expect(answer.locator(".block-header")).to_have_text("Payments API")
    await expect(answer).to_contain_text("Only visible to you")
    await expect(answer.locator(".fields")).to_contain_text("Payments")
    await shots.take("owner")

    await send(page, "/incident declare sev2 service:payments-api Card payments failing")
    incident_channel = page.locator("#channels button", has_text="card-payments-failing")
    await expect(incident_channel).to_be_visible()  # arrived live, without a reload
    await shots.take("declared")

    await incident_channel.click()
    card = page.locator("article", has=page.locator(".block-header", has_text="INC-1"))
    await expect(card.first).to_be_visible()
    await send(page, "Card declines spiked at 10:02, rolling back the gateway")
    said = page.locator("article", has_text="Card declines spiked")
    await said.hover()
    await said.locator("[data-add-reaction=pushpin]").click()
    confirmed = said.locator(".reaction[data-reaction=white_check_mark]")
    await expect(confirmed).to_be_visible()  # the bot's own reaction: it is on the timeline
    await expect(said.locator(".reaction[data-reaction=pushpin]")).to_have_class("reaction mine")
    await shots.take("pinned")

    await card.first.locator("button[data-action-id]", has_text="Resolve").click()
    await expect(page.locator("#confirm")).to_contain_text("Resolve this incident?")
    await shots.take("confirm-resolve")
    await page.locator("#confirm button", has_text="Resolve").click()
    postmortem = page.locator("button.file", has_text="postmortem-INC-1")
    try:
        await expect(postmortem).to_be_visible(timeout=20_000)
    finally:
        await shots.take("after-resolve")
    await shots.take("resolved")

    await postmortem.click()
    await expect(page.locator("#file-text")).to_contain_text("Card payments failing")
    await expect(page.locator("#file-text")).to_contain_text("Card declines spiked at 10:02")
    await shots.take("postmortem")


async def test_typed_names_paging_colours_unpinning_and_the_end(
    page: Any, demo: Demo, shots: Shots
) -> None:
    """What a first incident shows now: pages that went out, the severity's colour, typed
    `@bob` understood, the topic naming him, the ✅ leaving with the last pin, and
    #incidents saying when it was over."""
    await send(page, "/incident declare sev2 service:payments-api Card payments failing")
    await page.locator("#channels button", has_text="card-payments-failing").click()
    paged = page.locator("article", has_text="Paged the on-call of Payments API")
    await expect(paged).to_contain_text("through PagerDuty.")
    await expect(page.locator("article", has_text="failed")).to_have_count(0)
    bar = page.locator("article .attachment[data-color='#e36209']")
    await expect(bar).to_contain_text("SEV2 · Major: a core feature degraded")
    await shots.take("paged-and-coloured")

    await send(page, "/incident assign commander @bob")
    await expect(page.locator("article", has_text="the commander.")).to_contain_text(
        "@alice made @bob the commander."
    )
    await expect(page.locator("#topic")).to_contain_text("· commander bob")
    await send(page, "/incident followup Add a circuit breaker @bob due:2026-12-01")
    followup = page.locator("article", has_text="added a follow-up")
    await expect(followup).to_contain_text("owner @bob · due 2026-12-01")
    await expect(followup.locator(".mention", has_text="@bob")).to_be_visible()
    await shots.take("typed-names")

    await send(page, "Gateway restarted, @bob is watching #payments")
    said = page.locator("article", has_text="Gateway restarted")
    await expect(said.locator(".mention")).to_have_text(["@bob", "#payments"])
    await said.hover()
    await said.locator("[data-add-reaction=pushpin]").click()
    confirmed = said.locator(".reaction[data-reaction=white_check_mark]")
    await expect(confirmed).to_be_visible()
    await shots.take("pinned")
    await said.locator(".reaction[data-reaction=pushpin]").click()  # the last pin goes
    await expect(said.locator(".reaction")).to_have_count(0)
    await shots.take("unpinned")

    card = page.locator("article", has=page.locator(".block-header", has_text="INC-1"))
    await card.first.locator("button[data-action-id]", has_text="Resolve").click()
    await page.locator("#confirm button", has_text="Resolve").click()
    await expect(page.locator("button.file", has_text="postmortem-INC-1")).to_be_visible(
        timeout=20_000
    )
    await page.locator("#channels button", has_text="incidents").click()
    announcement = page.locator("article", has=page.locator(".block-header", has_text="INC-1"))
    over = announcement.locator(".block-context", has_text="Over: resolved at")
    await expect(over).to_contain_text("The record stays in #inc-")
    await expect(announcement).not_to_contain_text("to help")
    await expect(announcement.locator(".attachment")).to_contain_text("SEV2")
    await shots.take("over")
