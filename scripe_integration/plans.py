"""What Scripe's plans allow, from Scripe's pricing documentation."""

from __future__ import annotations

# Daily AI-spend caps by plan, in cents (a UTC day); a generation costs about 5 cents.
PLAN_CAP_CENTS = {"SOLO": 500, "ADVANCED": 2000, "BUSINESS": 5000}
GENERATION_CENTS = 5

# Requests per sliding 60-second window, per workspace, until Scripe's X-RateLimit-Limit says
# otherwise. The contract's table of bucket sizes could not be read; its one figure is the
# 429 example's `X-RateLimit-Limit: 120`.
DOCUMENTED_RATE_LIMIT = 120

# A knowledge-base ingest costs 1-3 cents "depending on type" (the contract names no more);
# which type costs what is the sandbox's reading: more work, more cents.
KNOWLEDGE_CENTS = {"text": 1, "url": 2, "youtube": 3, "file": 3}
