"""Hand the service an SMS reply as if the provider had posted it: for the demo and for trying a
keyword locally. The reply is recorded under ``REMINDER_SMS_DIR/inbound/`` beside the texts the
file backend sent (``delivered/``), then acted on exactly as the webhook would."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from typing_extensions import override

from reminders.inbound import InboundMessage
from reminders.services.replies import inbound_message_receive


class Command(BaseCommand):
    help = "Receive one SMS reply (as the provider's webhook would hand it over) and act on it."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="from_number", required=True, help="The sender's number, E.164.")
        parser.add_argument("--body", required=True, help="The text: C, YES, R, STOP, START or anything else.")
        parser.add_argument("--id", dest="provider_id", help="The provider's message id (a repeat is ignored).")

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        provider_id = options["provider_id"] or f"local-{uuid.uuid4().hex}"
        message = InboundMessage(
            provider_id=provider_id,
            from_number=options["from_number"],
            body=options["body"],
            received_at=timezone.now(),
        )
        row, created = inbound_message_receive(message=message)
        folder = Path(settings.REMINDER_SMS_DIR) / "inbound"
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "provider_id": provider_id,
            "from": message.from_number,
            "body": message.body,
            "received_at": message.received_at.isoformat(),
            "action": row.action,
            "status": row.status,
            "note": row.note,
            "in_reply_to": row.in_reply_to_id,
        }
        (folder / f"{provider_id}.json").write_text(json.dumps(record, indent=2) + "\n")
        if not created:
            self.stdout.write(f"Message {provider_id} was already received: nothing done.")
            return
        self.stdout.write(self.style.SUCCESS(f"Reply {row.pk}: {row.get_action_display()} ({row.status})."))
