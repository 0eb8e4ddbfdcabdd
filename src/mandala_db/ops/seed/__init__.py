"""Seed data sets, from a hand-written demo to a million generated rows, loaded through COPY."""
