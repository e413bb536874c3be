"""The incident modals: declare, assign a role, page someone."""

from __future__ import annotations

from typing import Any

from switchboard.bot.incidents.messages import ref
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.config import IncidentsConfig

View = dict[str, Any]
DECLARE = "incident_declare"
ASSIGN = "incident_assign_role"
PAGE = "incident_page_more"
SERVICES_SEARCH = "incident_services"  # external select: catalog services
PAGE_SEARCH = "incident_page_target"  # external select: services and teams
TITLE_LIMIT = 250


def declare(config: IncidentsConfig, channel_id: str) -> View:
    severities = [
        kit.option(s.name, f"{s.name}: {s.description}" if s.description else s.name)
        for s in config.severities
    ]
    default = next(o for o in severities if o["value"] == config.lowest_severity.name)
    return {
        "type": "modal",
        "callback_id": DECLARE,
        "private_metadata": channel_id,
        "title": kit.title("Declare an incident"),
        "submit": kit.title("Declare"),
        "close": kit.title("Cancel"),
        "blocks": [
            kit.input_block(
                "title",
                "Title",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": TITLE_LIMIT,
                    "placeholder": kit.plain("Checkout fails for card payments"),
                },
            ),
            kit.input_block(
                "severity",
                "Severity",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": severities,
                    "initial_option": default,
                },
            ),
            kit.input_block(
                "services",
                "Affected services",
                {
                    "type": "multi_external_select",
                    "action_id": SERVICES_SEARCH,
                    "min_query_length": 1,
                    "placeholder": kit.plain("Search the catalog"),
                },
                optional=True,
            ),
            kit.input_block(
                "started",
                "When did the impact start?",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 40,
                    "placeholder": kit.plain("14:05, yesterday 23:40 or 2026-03-29 01:30"),
                },
                optional=True,
            ),
            kit.input_block(
                "description",
                "What is happening?",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2800,
                },
                optional=True,
            ),
            kit.input_block(
                "options",
                "Visibility",
                {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        kit.option(
                            "private", "Private: a private channel, not named in public places"
                        ),
                        kit.option("security", "Security incident (private too)"),
                    ],
                },
                optional=True,
            ),
        ],
    }


def assign(config: IncidentsConfig, incident_id: int, number: int) -> View:
    roles = [kit.option(role, role) for role in config.roles]
    return {
        "type": "modal",
        "callback_id": ASSIGN,
        "private_metadata": str(incident_id),
        "title": kit.title(f"Assign a role: {ref(number)}"),
        "submit": kit.title("Assign"),
        "blocks": [
            kit.input_block(
                "role",
                "Role",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": roles,
                    "initial_option": roles[0],
                },
            ),
            kit.input_block("user", "Person", {"type": "users_select", "action_id": "value"}),
        ],
    }


def page(incident_id: int, number: int) -> View:
    return {
        "type": "modal",
        "callback_id": PAGE,
        "private_metadata": str(incident_id),
        "title": kit.title(f"Page: {ref(number)}"),
        "submit": kit.title("Page"),
        "blocks": [
            kit.input_block(
                "target",
                "Service or team",
                {
                    "type": "external_select",
                    "action_id": PAGE_SEARCH,
                    "min_query_length": 1,
                    "placeholder": kit.plain("Search the catalog"),
                },
            ),
        ],
    }


BACKFILL = "incident_backfill"


def backfill(incident_id: int, number: int, timezone: str) -> View:
    return {
        "type": "modal",
        "callback_id": BACKFILL,
        "private_metadata": str(incident_id),
        "title": kit.title(f"Timeline: {ref(number)}"),
        "submit": kit.title("Add"),
        "blocks": [
            kit.input_block("date", "Date", {"type": "datepicker", "action_id": "value"}),
            kit.input_block(
                "time", f"Time ({timezone})", {"type": "timepicker", "action_id": "value"}
            ),
            kit.input_block(
                "text",
                "What happened",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2800,
                },
            ),
        ],
    }
