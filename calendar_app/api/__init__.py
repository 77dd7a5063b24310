"""The REST API (#27) under /api/v1/: a thin layer over the services, selectors and access
rules the pages use. `base.ApiView` carries the conventions every resource shares
(authentication by personal access token, scopes, the error envelope, cursor pages,
Idempotency-Key, rate limits, ETags); `serializers` holds the representations (`PostSerializer`
is THE post, which outgoing webhooks send too); `views/<resource>.py` one module per resource."""
