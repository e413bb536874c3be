"""Each feature's wiring: the services it builds from the shared core, the Slack listeners
it registers, the jobs it schedules and the web routes it adds. `switchboard.app` only
composes them; a new feature adds a module here and one line there."""
