"""Checks on the data itself: the rules of the mandala that the schema cannot hold."""
