"""Switchboard: a self-hosted Slack bot for incident management and service ownership."""
