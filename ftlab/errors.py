"""Errors a person is meant to read.

Anything raised as an ``FtlabError`` is shown by the CLI as one paragraph with
no traceback, so its message must say what is wrong *and* what to do about it.
"""


class FtlabError(Exception):
    """A problem with the user's input or environment, explained in plain words."""


class ConfigError(FtlabError):
    """A config field holds a value ftlab cannot use; the message names the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
