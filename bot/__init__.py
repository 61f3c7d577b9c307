"""The VNeID registration assistant: the app around the Rasa server.

Packages by domain: ``chat`` (the gateway to Rasa and the chat API), ``faq``
(answer texts and Rasa's NLG endpoint), ``accounts`` and ``admin`` (the
console), ``web`` (the web chat page), ``actions`` (the rasa-sdk action
server). ``main.create_app`` builds the ASGI app.
"""

__all__: list[str] = []
