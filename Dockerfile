# The app and the action server (Python 3.11). Rasa runs from the official
# rasa/rasa:3.6.21-full image with this project mounted (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/app.lock requirements/app.lock
COPY bot bot
COPY nlu nlu
RUN pip install --no-cache-dir -c requirements/app.lock . \
    && useradd --create-home vneid
COPY data data
COPY domain.yml ./
USER vneid
EXPOSE 8000 5055
CMD ["uvicorn", "bot.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
