"""The Public API's JSON parser: DRF's, reading under the one depth cap (``segapp.jsondepth``).

Python's ``json``, which DRF's parser uses, raises ``RecursionError`` (a 500) near 1,000 levels, and
shallower bodies still fail later, when stored or answered. A refusal here is a ``ParseError``,
so it takes the API's error shape (``segapp.api.errors``) as a 400.
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from segapp import jsondepth


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return jsondepth.loads(stream.read().decode(encoding))
        except jsondepth.TooDeep as too_deep:
            raise ParseError(f"The body is refused: {too_deep}") from None
        except (ValueError, LookupError) as error:  # JSON, or text in an unknown charset
            raise ParseError(f"JSON parse error - {error}") from None
