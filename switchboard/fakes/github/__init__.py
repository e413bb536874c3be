"""A loopback fake of GitHub's REST API, enough for the facts Switchboard reads."""
