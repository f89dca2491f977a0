"""``manage.py decrypt_fields --key private.pem [event.json]``: prints the events with their
encrypted fields decrypted. It reads one JSON document (an event, a list of them, or a
destination's request body) from the file or standard input; the private key never needs to be
on a Segapp server, and this runs anywhere the package is installed."""

import sys

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management.base import BaseCommand, CommandError

from privacy.encryption import decrypt_message


class Command(BaseCommand):
    help = "Decrypts the encrypted Yellow fields of events with the workspace's private key."

    def add_arguments(self, parser):
        parser.add_argument("--key", required=True, help="the RSA private key, PEM")
        parser.add_argument("--password", default=None, help="the key's password, if it has one")
        parser.add_argument("document", nargs="?", help="a JSON file (default: standard input)")

    def handle(self, *args, key, password, document, **options):
        try:
            with open(key, "rb") as pem:
                private_key = serialization.load_pem_private_key(
                    pem.read(), password.encode() if password else None
                )
        except (OSError, ValueError, TypeError) as error:
            raise CommandError(f"Cannot read the private key {key}: {error}") from None
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise CommandError(f"{key} is not an RSA private key.")
        try:
            if document:
                with open(document, "rb") as source:
                    raw = source.read()
            else:
                raw = sys.stdin.buffer.read()
            data = orjson.loads(raw)
        except (OSError, orjson.JSONDecodeError) as error:
            raise CommandError(f"Cannot read the JSON document: {error}") from None
        decrypted = decrypt_message(private_key, data)
        self.stdout.write(orjson.dumps(decrypted, option=orjson.OPT_INDENT_2).decode())
