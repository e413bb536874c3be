"""Method descriptors: rate-limit tier, required arguments and documented errors.

The data is a compact copy of the docs.slack.dev descriptors (slack-ruby/slack-api-ref, MIT)
shipped as `methods.json` next to this module, because the product cannot read the shared
reference folder at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from switchboard.fakes.slack.args import Args, SlackError, invalid_arguments

# Slack rarely answers a missing argument with a generic error: it names the thing that is
# missing (`channel_not_found` for no channel). These are the candidates per argument; the
# first one the method documents wins, else `invalid_arguments`.
_MISSING_ARG_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "channel_id": ("channel_not_found",),
    "ts": ("thread_not_found", "message_not_found"),
    "message_ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "bad_timestamp"),
    "name": ("invalid_name_required", "invalid_name"),
    "users": ("no_user",),
    "user": ("user_not_found",),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
}


@dataclass(frozen=True)
class MethodSpec:
    tier: str
    required: tuple[str, ...]
    errors: frozenset[str]

    def check_required(self, args: Args) -> None:
        for arg in self.required:
            if arg not in args:
                raise self.missing(arg)

    def missing(self, arg: str) -> SlackError:
        for error in (*_MISSING_ARG_ERRORS.get(arg, ()), "missing_argument"):
            if error in self.errors:
                return SlackError(error)
        return invalid_arguments(f"[ERROR] missing required field: {arg}")


@cache
def method_specs() -> dict[str, MethodSpec]:
    text = resources.files(__package__).joinpath("methods.json").read_text("utf-8")
    return {
        name: MethodSpec(d["tier"], tuple(d["required"]), frozenset(d["errors"]))
        for name, d in json.loads(text)["methods"].items()
    }
