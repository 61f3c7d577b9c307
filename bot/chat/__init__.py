"""The gateway: one internal message in, Rasa's replies out, for every channel.

Its HTTP routes are in ``bot.chat.router`` (the package imports nothing, so that any
module may use the gateway's parts without loading the web app).
"""
