"""One router per group of routes; service/api/factory.py includes them all."""
