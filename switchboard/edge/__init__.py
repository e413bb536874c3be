"""Between the socket and a listener: HTTP routes, signature and body checks, request kinds,
the event de-duplication gate, the front process, Socket Mode. It imports no feature: a
request reaches the core only through `switchboard.handlers`."""
