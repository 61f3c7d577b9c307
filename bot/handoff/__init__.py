"""Handing a citizen over to the officers of their commune police."""
