"""Live facts: on call now (PagerDuty, Opsgenie, Slack user groups), GitHub, SonarQube and
facts pushed by CI, fetched in the background within each source's rate limits and read by
everything else from the database only (`docs/integrations.md`)."""
