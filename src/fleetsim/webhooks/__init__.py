"""Webhooks and callbacks: rows written with the change that causes them, delivered by the
worker with signatures, retries and a record of every attempt."""
