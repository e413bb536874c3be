"""The catalog's public face: all that other features may import of it (an import-linter
contract holds them to this module). Reading goes through `CatalogReader`, importing files
through `CatalogService`; the rest are the values they hand out."""

from __future__ import annotations

from switchboard.bot.catalog.common import MAX_TIER as MAX_TIER
from switchboard.bot.catalog.common import link_type as link_type
from switchboard.bot.catalog.common import slugify as slugify
from switchboard.bot.catalog.graph import DependencyNode as DependencyNode
from switchboard.bot.catalog.graph import Dependent as Dependent
from switchboard.bot.catalog.graph import Graph as Graph
from switchboard.bot.catalog.graph import TeamDependents as TeamDependents
from switchboard.bot.catalog.loader import expand_path as expand_path
from switchboard.bot.catalog.model import DEPENDS_ON as DEPENDS_ON
from switchboard.bot.catalog.model import Entity as Entity
from switchboard.bot.catalog.model import OnCall as OnCall
from switchboard.bot.catalog.model import Problem as Problem
from switchboard.bot.catalog.model import parse_ref as parse_ref
from switchboard.bot.catalog.oncall import on_call as on_call
from switchboard.bot.catalog.owner_message import USAGE as USAGE
from switchboard.bot.catalog.owner_message import did_you_mean as did_you_mean
from switchboard.bot.catalog.owner_message import share_button as share_button
from switchboard.bot.catalog.reader import CatalogReader as CatalogReader
from switchboard.bot.catalog.reader import Contacts as Contacts
from switchboard.bot.catalog.reader import parse_owner_text as parse_owner_text
from switchboard.bot.catalog.rows import from_row as from_row
from switchboard.bot.catalog.service import CatalogService as CatalogService
from switchboard.bot.catalog.service import ImportReport as ImportReport
from switchboard.bot.catalog.yamlsource import Node as Node
from switchboard.bot.catalog.yamlsource import SourceFile as SourceFile
from switchboard.bot.catalog.yamlsource import YMap as YMap
from switchboard.bot.catalog.yamlsource import describe as describe
from switchboard.bot.catalog.yamlsource import load_documents as load_documents
from switchboard.bot.catalog.yamlsource import read_text as read_text
