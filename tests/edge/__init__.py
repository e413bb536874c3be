"""Tests of switchboard/edge: the socket to the listener."""
