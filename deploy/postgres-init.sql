-- Rasa's tracker store lives in its own database (Rasa uses SQLAlchemy 1.4 internally).
CREATE DATABASE rasa OWNER vneid;
