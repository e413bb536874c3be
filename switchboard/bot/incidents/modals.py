"""The incident modals: declare, assign a role, page someone."""

from __future__ import annotations

from typing import Any

from switchboard.bot.config import IncidentsConfig
from switchboard.bot.incidents.messages import ref
from switchboard.bot.text import shorten

View = dict[str, Any]
DECLARE = "incident_declare"
ASSIGN = "incident_assign_role"
PAGE = "incident_page_more"
SERVICES_SEARCH = "incident_services"  # external select: catalog services
PAGE_SEARCH = "incident_page_target"  # external select: services and teams
TITLE_LIMIT = 250


def declare(config: IncidentsConfig, channel_id: str) -> View:
    severities = [
        _option(s.name, f"{s.name}: {s.description}" if s.description else s.name)
        for s in config.severities
    ]
    default = next(o for o in severities if o["value"] == config.lowest_severity.name)
    return {
        "type": "modal",
        "callback_id": DECLARE,
        "private_metadata": channel_id,
        "title": _title("Declare an incident"),
        "submit": _title("Declare"),
        "close": _title("Cancel"),
        "blocks": [
            _input(
                "title",
                "Title",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": TITLE_LIMIT,
                    "placeholder": _plain("Checkout fails for card payments"),
                },
            ),
            _input(
                "severity",
                "Severity",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": severities,
                    "initial_option": default,
                },
            ),
            _input(
                "services",
                "Affected services",
                {
                    "type": "multi_external_select",
                    "action_id": SERVICES_SEARCH,
                    "min_query_length": 1,
                    "placeholder": _plain("Search the catalog"),
                },
                optional=True,
            ),
            _input(
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
            _input(
                "options",
                "Visibility",
                {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        _option(
                            "private", "Private: a private channel, not named in public places"
                        ),
                        _option("security", "Security incident (private too)"),
                    ],
                },
                optional=True,
            ),
        ],
    }


def assign(config: IncidentsConfig, incident_id: int, number: int) -> View:
    roles = [_option(role, role) for role in config.roles]
    return {
        "type": "modal",
        "callback_id": ASSIGN,
        "private_metadata": str(incident_id),
        "title": _title(f"Assign a role: {ref(number)}"),
        "submit": _title("Assign"),
        "blocks": [
            _input(
                "role",
                "Role",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": roles,
                    "initial_option": roles[0],
                },
            ),
            _input("user", "Person", {"type": "users_select", "action_id": "value"}),
        ],
    }


def page(incident_id: int, number: int) -> View:
    return {
        "type": "modal",
        "callback_id": PAGE,
        "private_metadata": str(incident_id),
        "title": _title(f"Page: {ref(number)}"),
        "submit": _title("Page"),
        "blocks": [
            _input(
                "target",
                "Service or team",
                {
                    "type": "external_select",
                    "action_id": PAGE_SEARCH,
                    "min_query_length": 1,
                    "placeholder": _plain("Search the catalog"),
                },
            ),
        ],
    }


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> View:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        "optional": optional,
    }


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(shorten(text, 75)), "value": value[:150]}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _title(text: str) -> dict[str, str]:
    return _plain(shorten(text, 24))  # Slack's limit for modal titles and buttons


BACKFILL = "incident_backfill"


def backfill(incident_id: int, number: int, timezone: str) -> View:
    return {
        "type": "modal",
        "callback_id": BACKFILL,
        "private_metadata": str(incident_id),
        "title": _title(f"Timeline: {ref(number)}"),
        "submit": _title("Add"),
        "blocks": [
            _input("date", "Date", {"type": "datepicker", "action_id": "value"}),
            _input("time", f"Time ({timezone})", {"type": "timepicker", "action_id": "value"}),
            _input(
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
