"""Errors of the FAQ domain."""


class ResponseMissingError(LookupError):
    """No text is stored for a response name Rasa asked for."""
