"""The scorecards feature's public face: all that other features may import of it (an
import-linter contract holds them to this module)."""

from __future__ import annotations

from switchboard.bot.scorecards import initiatives as initiatives
from switchboard.bot.scorecards.check import what_it_needs as what_it_needs
from switchboard.bot.scorecards.initiatives import Progress as Progress
from switchboard.bot.scorecards.initiatives import due_reminder as due_reminder
from switchboard.bot.scorecards.messages import initiative_progress_line as initiative_progress_line
from switchboard.bot.scorecards.messages import unnamed_rules as unnamed_rules
from switchboard.bot.scorecards.model import Scorecard as Scorecard
from switchboard.bot.scorecards.results import ScorecardResults as ScorecardResults
from switchboard.bot.scorecards.results import Standing as Standing
from switchboard.bot.scorecards.results import rank as rank
from switchboard.bot.scorecards.service import ScorecardService as ScorecardService
