"""A loopback fake of SonarQube's Web API, enough for the facts Switchboard reads."""
