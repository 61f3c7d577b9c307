"""The gateway: one internal message in, Rasa's replies out, for every channel."""

from bot.chat.router import router

__all__ = ["router"]
