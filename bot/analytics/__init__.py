"""What citizens asked and how it went: turns, the unanswered inbox, the figures."""
