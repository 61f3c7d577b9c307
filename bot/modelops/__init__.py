"""Model operations: files, console trainings, the served model, rollback, their pages.

The training inputs and model files; console trainings (validate, train, evaluate, judge,
publish); the model Rasa serves and rollback; the console's pages for them.

- ``artefacts``: the fingerprint of the training inputs, model files, ``rasa train``
  (used by ``make model`` and the CLI), the ``live.tar.gz`` link and the start model.
- ``workspace``: the seed data plus what the console added, as a directory Rasa trains on.
- ``progress``: what ``rasa train`` is doing, read from its output, and the log the page shows.
- ``verdict``: whether a candidate scores clearly worse than the live model.
- ``rasa_admin``: Rasa's HTTP API for models (status, ``PUT /model``), one or more replicas.
- ``serving``: which build is live, swaps under the serving lock, rollback, pruning.
- ``jobs``: one training job at a time, from the console's button to live or refused.
- ``router``: the console's model pages.
"""
