"""Outgoing webhooks (#27): endpoints, the trail's events as deliveries, and sending them.
Below notifications in the layers: the trail (notifications) emits through `events`."""
