"""The incident modals: declare, assign a role, page someone."""

from __future__ import annotations

from typing import Any

from switchboard.bot.incidents.messages import ref
from switchboard.bot.incidents.modal_fields import (
    PAGE_SEARCH,
    SERVICES_SEARCH,
    VALUE,
    AssignField,
    BackfillField,
    DeclareField,
    PageField,
    Visibility,
)
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.config import IncidentsConfig

View = dict[str, Any]
DECLARE = "incident_declare"
ASSIGN = "incident_assign_role"
PAGE = "incident_page_more"
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
                DeclareField.TITLE,
                "Title",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "max_length": TITLE_LIMIT,
                    "placeholder": kit.plain("Checkout fails for card payments"),
                },
            ),
            kit.input_block(
                DeclareField.SEVERITY,
                "Severity",
                {
                    "type": "static_select",
                    "action_id": VALUE,
                    "options": severities,
                    "initial_option": default,
                },
            ),
            kit.input_block(
                DeclareField.SERVICES,
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
                DeclareField.STARTED,
                "When did the impact start?",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "max_length": 40,
                    "placeholder": kit.plain("14:05, yesterday 23:40 or 2026-03-29 01:30"),
                },
                optional=True,
            ),
            kit.input_block(
                DeclareField.DESCRIPTION,
                "What is happening?",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "multiline": True,
                    "max_length": 2800,
                },
                optional=True,
            ),
            kit.input_block(
                DeclareField.OPTIONS,
                "Visibility",
                {
                    "type": "checkboxes",
                    "action_id": VALUE,
                    "options": [
                        kit.option(
                            Visibility.PRIVATE,
                            "Private: a private channel, not named in public places",
                        ),
                        kit.option(Visibility.SECURITY, "Security incident (private too)"),
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
                AssignField.ROLE,
                "Role",
                {
                    "type": "static_select",
                    "action_id": VALUE,
                    "options": roles,
                    "initial_option": roles[0],
                },
            ),
            kit.input_block(
                AssignField.USER, "Person", {"type": "users_select", "action_id": VALUE}
            ),
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
                PageField.TARGET,
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
            kit.input_block(BackfillField.DATE, "Date", {"type": "datepicker", "action_id": VALUE}),
            kit.input_block(
                BackfillField.TIME, f"Time ({timezone})", {"type": "timepicker", "action_id": VALUE}
            ),
            kit.input_block(
                BackfillField.TEXT,
                "What happened",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "multiline": True,
                    "max_length": 2800,
                },
            ),
        ],
    }
