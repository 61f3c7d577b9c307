"""The commune directory: former Kon Tum units and the communes they became (1/7/2025)."""

from bot.communes.resolver import Directory, FormerUnit, Resolution

__all__ = ["Directory", "FormerUnit", "Resolution"]
