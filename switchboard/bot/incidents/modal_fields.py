"""The ids of the incident modals' inputs: built into the views (`modals.py`,
`followup_messages.py`), read back from a submission by the handlers' payload models
(`handlers/incident_requests.py`), and named by a refusal (`Refused.field`) to show its
error on the input it is about. One definition, so the two sides cannot drift apart."""

from __future__ import annotations

from enum import StrEnum

# The action id of every input that is read by its block id.
VALUE = "value"
# The external selects, whose options Slack asks for (and whose choice it sends) by action id.
SERVICES_SEARCH = "incident_services"  # catalog services
PAGE_SEARCH = "incident_page_target"  # services and teams


class DeclareField(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    SERVICES = "services"
    STARTED = "started"
    DESCRIPTION = "description"
    OPTIONS = "options"


class Visibility(StrEnum):
    """The options of the declare modal's `options` checkboxes."""

    PRIVATE = "private"
    SECURITY = "security"


class AssignField(StrEnum):
    ROLE = "role"
    USER = "user"


class PageField(StrEnum):
    TARGET = "target"


class BackfillField(StrEnum):
    DATE = "date"
    TIME = "time"
    TEXT = "text"


class FollowUpField(StrEnum):
    TEXT = "text"
    OWNER = "owner"
    TEAM = "team"
    DUE = "due"
