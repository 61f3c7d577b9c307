"""The campaign: registration sessions by commune, reminders, targets and daily figures.

``models`` holds the tables; ``when`` reads the dates, times and delays people type and
knows Vietnam's quiet hours; ``sessions`` announces sessions and subscribes citizens;
``reminders`` schedules and sends reminders through the outbox; ``progress`` keeps the
targets and the daily figures and reports progress per commune.
"""
