"""Errors of the chat gateway."""


class RasaUnavailableError(RuntimeError):
    """Rasa could not be reached or answered with an error."""
