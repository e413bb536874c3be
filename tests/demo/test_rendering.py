"""The page renders every Block Kit element the bot emits, from real bot messages, modals and
the Home tab, and sends the bot what Slack would when they are used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from switchboard.demo.run import Demo
from tests.demo.conftest import BOB, Shots
from tests.demo.test_walkthrough import send

ROOT = Path(__file__).resolve().parents[2]
DEMO_JS = ROOT / "switchboard" / "demo" / "static" / "demo.js"


def bot_block_kit_types() -> set[str]:
    """Every `"type": "..."` the bot's renderers write, plus the kit helpers' blocks."""
    source = "\n".join(p.read_text() for p in (ROOT / "switchboard" / "bot").rglob("*.py"))
    found = set(re.findall(r'"type": "([a-z_]+)"', source))
    return found - {"plain_text", "mrkdwn", "modal", "home"}  # text objects and view kinds


def test_the_page_handles_every_block_and_element_the_bot_writes() -> None:
    script = DEMO_JS.read_text()
    handled = set(re.findall(r'(?:case|kind ===|type ===) "([a-z_]+)"', script))
    missing = bot_block_kit_types() - handled
    assert not missing, f"the demo page does not render {sorted(missing)}"


async def test_owner_answer_pick_share_and_thread(page: Any, demo: Demo, shots: Shots) -> None:
    await send(page, "/owner paymnts-api")
    choices = page.locator("article.ephemeral", has_text="Did you mean")
    await expect(choices.locator(".block-section")).to_contain_text("paymnts-api")
    await shots.take("did-you-mean")
    await choices.locator(".block-actions button", has_text="Payments API").click()
    answer = page.locator("article.ephemeral", has=page.locator(".block-header"))
    await expect(answer.locator(".block-header")).to_have_text("Payments API")  # replaced
    await expect(page.locator("article.ephemeral", has_text="Did you mean")).to_have_count(0)
    await expect(answer.locator(".block-context")).to_contain_text("services.yaml")
    runbook = answer.locator("a[href='https://wiki.example.com/runbooks/payments-api']")
    await expect(runbook).to_be_visible()
    await answer.locator("button", has_text="Share in channel").click()
    shared = page.locator("article:not(.ephemeral)", has=page.locator(".block-header"))
    await expect(shared.locator(".block-header")).to_have_text("Payments API")
    await expect(shared.locator(".block-context")).to_contain_text("shared by @alice")
    await shots.take("shared")

    await shared.hover()
    await shared.locator("button.reply").click()
    await send(page, "Thanks, paging them now")
    await expect(shared.locator(".thread article")).to_contain_text("Thanks, paging them now")
    await page.select_option("#as", BOB)  # Bob sees the shared answer, not Alice's own
    await expect(page.locator("article.ephemeral")).to_have_count(0)
    await expect(page.locator(".thread article", has_text="paging them now")).to_be_visible()
    await shots.take("as-bob")


async def test_declare_modal_errors_card_selects_and_role_modal(
    page: Any, demo: Demo, shots: Shots
) -> None:
    await send(page, "/incident declare")
    modal = page.locator("#modal")
    await expect(modal.locator("h2")).to_have_text("Declare an incident")
    for kind in ("plain_text_input", "static_select", "multi_external_select", "checkboxes"):
        await expect(modal.locator(f"[data-type={kind}]").first).to_be_visible()
    await modal.locator("button[type=submit]").click()  # empty title: Slack's client says no
    await expect(modal.locator(".field-error").first).to_have_text(
        "Please complete this required field."
    )
    await modal.locator(".block-input", has_text="Title").locator("input").fill("   ")
    await modal.locator("button[type=submit]").click()  # blank title: the bot says no
    await expect(modal.locator(".block-input", has_text="Title")).to_contain_text(
        "Give the incident a title."
    )
    await shots.take("declare-errors")
    await modal.locator(".block-input", has_text="Title").locator("input").fill("Search is slow")
    await modal.locator("[data-type=multi_external_select] input[type=search]").fill("sear")
    await modal.locator(".suggestions button", has_text="Search").first.click()
    await expect(modal.locator(".chip", has_text="Search")).to_be_visible()
    await shots.take("declare-filled")
    await modal.locator("button[type=submit]").click()
    await expect(page.locator("#modal-backdrop")).to_be_hidden()
    channel = page.locator("#channels button", has_text="search-is-slow")
    await channel.click()

    card = page.locator("article", has=page.locator(".block-header", has_text="INC-1"))
    await expect(card.locator(".fields")).to_contain_text("Search")
    await card.locator("select[data-type=static_select]").first.select_option(label="identified")
    await expect(card.locator(".fields")).to_contain_text("identified")
    await card.locator("button", has_text="Assign role").click()
    await expect(modal.locator("[data-type=users_select]")).to_be_visible()
    await modal.locator("[data-type=users_select]").select_option(BOB)
    await shots.take("assign")
    await modal.locator("button[type=submit]").click()
    await expect(card.locator(".fields")).to_contain_text("@bob")
    await shots.take("card")


async def test_page_and_timeline_modals(page: Any, demo: Demo, shots: Shots) -> None:
    await send(page, "/incident declare sev3 service:search Search is slow")
    await page.locator("#channels button", has_text="search-is-slow").click()
    card = page.locator("article", has=page.locator(".block-header", has_text="INC-1"))
    await card.locator("button", has_text="Page").click()
    modal = page.locator("#modal")
    await expect(modal.locator("[data-type=external_select]")).to_be_visible()
    await shots.take("page-modal")
    await modal.locator("button", has_text="Cancel").click()
    await expect(page.locator("#modal-backdrop")).to_be_hidden()

    await send(page, "/incident timeline")
    listing = page.locator("article.ephemeral", has=page.locator(".block-header"))
    await expect(listing.locator(".block-header")).to_contain_text("INC-1")
    await listing.locator("button", has_text="Add timeline event").click()
    await expect(modal.locator("[data-type=datepicker]")).to_be_visible()
    await modal.locator("[data-type=datepicker]").fill("2026-11-28")
    await modal.locator("[data-type=timepicker]").fill("09:30")
    await modal.locator("textarea").fill("Search latency alert fired")
    await shots.take("backfill")
    await modal.locator("button[type=submit]").click()
    await expect(page.locator("#modal-backdrop")).to_be_hidden()
    await send(page, "/incident timeline")
    entry = page.locator("article.ephemeral .block-section", has_text="latency alert").last
    await expect(entry).to_be_visible()
    await expect(entry.locator(".accessory button")).to_be_visible()
    await shots.take("timeline")


async def test_home_tab_and_scorecard(page: Any, demo: Demo, shots: Shots) -> None:
    await page.locator("#home-tab").click()
    home = page.locator("#home")
    await expect(home.locator(".block-header", has_text="Service catalog")).to_be_visible()
    await expect(home.locator(".block-divider").first).to_be_attached()
    await shots.take("home")
    await page.locator("#channels button", has_text="general").click()
    await send(page, "/scorecard payments-api")
    card = page.locator("article.ephemeral", has=page.locator(".block-header"))
    await expect(card.locator(".block-header")).to_have_text("Scorecards: Payments API")
    await expect(card.locator(".block-divider").first).to_be_attached()
    await shots.take("scorecard")


async def test_images_and_limits_as_slack_has_them(page: Any, demo: Demo) -> None:
    """The bot sends no images today; the page shows them should it start to. The message
    is posted from outside the page: it arrives live, with nothing clicked."""
    general = demo.fake.channel("general").id
    client = demo.switchboard.core.client
    await client.chat_postMessage(
        channel=general,
        text="status",
        blocks=[
            {
                "type": "image",
                "image_url": "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
                "alt_text": "graph",
                "title": {"type": "plain_text", "text": "Error rate"},
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "image",
                        "image_url": "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
                        "alt_text": "icon",
                    },
                    {"type": "plain_text", "text": "from Grafana"},
                ],
            },
        ],
    )
    await expect(page.locator(".block-image img[alt=graph]")).to_be_attached()
    await expect(page.locator(".block-image")).to_contain_text("Error rate")
    await expect(page.locator(".block-context img[alt=icon]")).to_be_attached()
