# The app and the action server (Python 3.11), with a Python 3.10 Rasa environment that
# the console's "Train and publish" runs `rasa train` and the evaluation with. Rasa itself
# runs from the official rasa/rasa:3.6.21-full image with this project mounted
# (docker-compose.yml); both see the trained models in /app/models.
FROM python:3.10-slim-bookworm AS rasa-env
COPY requirements/rasa.in requirements/rasa.lock /tmp/req/
RUN /usr/local/bin/python3.10 -m venv /opt/rasa \
    && /opt/rasa/bin/pip install --no-cache-dir -r /tmp/req/rasa.in -c /tmp/req/rasa.lock

FROM python:3.11-slim-bookworm
# Python 3.10 beside 3.11 (same Debian release), then the Rasa environment built with it
COPY --from=rasa-env /usr/local/bin/python3.10 /usr/local/bin/python3.10
COPY --from=rasa-env /usr/local/lib/python3.10 /usr/local/lib/python3.10
COPY --from=rasa-env /usr/local/lib/libpython3.10.so.1.0 /usr/local/lib/libpython3.10.so.1.0
COPY --from=rasa-env /opt/rasa /opt/rasa
RUN ldconfig
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/app.lock requirements/rasa.lock requirements/
COPY bot bot
COPY nlu nlu
# editable: the app finds its data, config and models under /app
RUN pip install --no-cache-dir -c requirements/app.lock -e . \
    && useradd --create-home vneid
COPY data data
COPY config.yml domain.yml ./
COPY scripts/evaluate.py scripts/evaluate.py
COPY tests/eval/questions.yml tests/eval/questions.yml
RUN mkdir -p models var && chown vneid models var
ENV TRAINING_RASA_BIN=/opt/rasa/bin/rasa
USER vneid
EXPOSE 8000 5055
CMD ["uvicorn", "bot.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
