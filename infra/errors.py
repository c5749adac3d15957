"""The local stack's error: one message a user can act on, shown without a traceback."""
from __future__ import annotations


class StackError(Exception):
    """`shaobing stack` cannot do what was asked; the message says why and what to do."""
