"""Citizens on Zalo: the Official Account webhook, the v3 send API and token rotation.

- ``POST /webhooks/zalo`` checks ``X-ZEvent-Signature`` (``mac=`` + SHA-256 of app_id + raw
  body + timestamp + OA secret key, compared in constant time) and a replay window, stores
  the event (unique per ``msg_id``: a redelivery is ignored) and answers 200 at once.
- A background loop handles stored events: text (button payloads come back as text) goes
  to the same gateway as the web chat; ``follow`` gets the welcome; pictures, stickers,
  voice and files a polite "please type". At most 8 bubbles per citizen message (Zalo's
  free replies), so longer answers are merged.
- Replies go through the outbox to the v3 ``message/cs`` API with the ``access_token``
  header. Buttons are template buttons of type ``oa.query.hide``. Error -216 (expired
  token) refreshes the token and retries once; the single-use refresh token is rotated
  under a row lock, so two replicas never spend the same one.
"""

from bot.channels.zalo.bridge import CHANNEL, MAX_BUBBLES, ZaloBridge, merge_bubbles
from bot.channels.zalo.sender import MAX_TEMPLATE_BUTTONS, TEXT_LIMIT, ZaloSender, zalo_message
from bot.channels.zalo.tokens import ZaloTokens
from bot.channels.zalo.webhook import signature, verify_signature, webhook_router

__all__ = [
    "CHANNEL",
    "MAX_BUBBLES",
    "MAX_TEMPLATE_BUTTONS",
    "TEXT_LIMIT",
    "ZaloBridge",
    "ZaloSender",
    "ZaloTokens",
    "merge_bubbles",
    "signature",
    "verify_signature",
    "webhook_router",
    "zalo_message",
]
