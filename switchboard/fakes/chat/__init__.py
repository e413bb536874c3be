"""A loopback fake of an OpenAI-compatible chat-completions endpoint (the catch-up's
optional summariser)."""
