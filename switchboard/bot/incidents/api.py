"""The incidents feature's public face: all that other features may import of it (an
import-linter contract holds them to this module)."""

from __future__ import annotations

from switchboard.bot.incidents import modals as modals
from switchboard.bot.incidents.followup_messages import Listing as Listing
from switchboard.bot.incidents.followup_messages import Scope as Scope
from switchboard.bot.incidents.followup_messages import listing as listing
from switchboard.bot.incidents.followup_service import PAGE as PAGE
from switchboard.bot.incidents.followup_service import FollowUpService as FollowUpService
from switchboard.bot.incidents.messages import incident_line as incident_line
from switchboard.bot.incidents.messages import ref as ref
from switchboard.bot.incidents.service import IncidentService as IncidentService
from switchboard.bot.incidents.views import FollowUpData as FollowUpData
from switchboard.bot.incidents.views import IncidentData as IncidentData
from switchboard.bot.incidents.views import IncidentView as IncidentView
from switchboard.bot.incidents.views import Item as Item
from switchboard.bot.incidents.views import followup_item as followup_item
from switchboard.bot.incidents.views import incident_data as incident_data
