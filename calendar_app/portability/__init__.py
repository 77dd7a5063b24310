"""Data that can leave and come back: a workspace's export archive and its import, deleting a
workspace with everything in it, and erasing a person's data on request."""
