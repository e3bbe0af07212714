"""Amity: one customer, every channel, one conversation, consent built in."""

__version__ = "0.1.0"
