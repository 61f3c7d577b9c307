"""FAQ answers and bot texts: seed content, database, and Rasa's NLG endpoint.

Its HTTP route is in ``bot.faq.router``.
"""
