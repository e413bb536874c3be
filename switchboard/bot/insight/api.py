"""Insight's public face: all that other features may import of it (an import-linter
contract holds them to this module)."""

from __future__ import annotations

from switchboard.bot.insight import messages as messages
from switchboard.bot.insight.service import Asked as Asked
from switchboard.bot.insight.service import ChartData as ChartData
from switchboard.bot.insight.service import Insight as Insight
from switchboard.bot.insight.service import InsightService as InsightService
from switchboard.bot.insight.service import Scope as Scope
from switchboard.bot.insight.service import TeamWeeks as TeamWeeks
from switchboard.bot.insight.service import Unclear as Unclear
from switchboard.bot.insight.service import parse_asked as parse_asked
from switchboard.bot.insight.sharing import ChartSharing as ChartSharing
from switchboard.bot.insight.sharing import Shared as Shared
