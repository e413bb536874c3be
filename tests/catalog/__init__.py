"""Tests of switchboard/bot/catalog: importers, lookup, the /owner answer."""
