"""The replies the app gives without asking Rasa, by name (their texts: ``bot.faq.fixed``)."""

from bot.faq.fixed import Fixed

EMPTY = Fixed("utter_app_empty")
NO_WORDS = Fixed("utter_app_no_words")
TOO_LONG = Fixed("utter_app_too_long")
BUSY = Fixed("utter_app_busy")
SLOW_DOWN = Fixed("utter_app_slow_down")
NO_REPLY = Fixed("utter_app_no_reply")
GONE = Fixed("utter_app_gone")
NOTHING_TO_CANCEL = Fixed("utter_app_nothing_to_cancel")
# pictures, stickers, voice and files, on the channels that can send them
PHOTO = Fixed("utter_app_photo")
NOT_TEXT = Fixed("utter_app_not_text")
# the scam guard's (bot/chat/guard.py)
SCAM_WARNING = Fixed("utter_scam_guard")
SCAM_AFTER = Fixed("utter_scam_guard_after")
SCAM_DISTRICT = Fixed("utter_scam_guard_district")
# Telegram's /help, and the answer to a button too old to remember
TELEGRAM_HELP = Fixed("utter_app_telegram_help")
STALE_BUTTON = Fixed("utter_app_stale_button")
