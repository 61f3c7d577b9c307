"""The guided walkthrough: from "I have a CCCD" to an activated VNeID account."""

from bot.walkthrough.flow import Flow, load_flow

__all__ = ["Flow", "load_flow"]
