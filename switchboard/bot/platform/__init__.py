"""What every feature uses: Slack gateway, Block Kit, text, delivery, jobs, config, logs,
metrics, identity. It imports no feature."""
