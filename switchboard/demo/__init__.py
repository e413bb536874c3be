"""`switchboard demo`: the bot, the loopback Slack fake and a Slack-like page, on one machine."""
