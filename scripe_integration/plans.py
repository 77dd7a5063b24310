"""What Scripe's plans allow, from Scripe's pricing documentation."""

from __future__ import annotations

# Daily AI-spend caps by plan, in cents (a UTC day); a generation costs about 5 cents.
PLAN_CAP_CENTS = {"SOLO": 500, "ADVANCED": 2000, "BUSINESS": 5000}
GENERATION_CENTS = 5
