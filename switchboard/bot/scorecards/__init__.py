"""Scorecards: what "good" means for a service, as rules with weights and levels, and the pure
evaluation of a catalog snapshot (entities plus incident facts) against them."""
