"""The receiver Scripe delivers webhooks to. No log-in and no CSRF token: the signature,
checked over the raw body, is what proves a delivery came from Scripe."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calendar_app.pipeline.webhooks import signature_header, webhook_receive


@csrf_exempt
@require_POST
def scripe_webhook(request: HttpRequest, public_id) -> JsonResponse:
    receipt = webhook_receive(
        public_id=public_id,
        body=request.body,
        signature=request.headers.get(signature_header()),
    )
    return JsonResponse(receipt.answer, status=receipt.status)
