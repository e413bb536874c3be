"""Tests of switchboard/storage."""
