"""Vietnamese NLU for the VNeID assistant.

``nlu.text`` is plain Python shared with the app. The Rasa graph components
(``VietnameseTokenizer``, ``RetrievalRouter``) import Rasa, so they are only
imported inside the Rasa environment: refer to them in ``config.yml`` as
``nlu.tokenizer.VietnameseTokenizer`` and ``nlu.router.RetrievalRouter``.
"""

__all__: list[str] = []
