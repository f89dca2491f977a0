"""Where source transformations and destination filters act on a message (DESIGN §4).

``routing`` asks ``admit`` which instances take a message (filters that drop or sample);
``deliveries`` asks ``shape`` for the message an instance receives (transformations and filters
that remove properties). Both are pure functions of the message and the configuration, so a
retried delivery sends exactly what the first attempt sent.
"""


def admit(instance, message: dict) -> str | None:
    """None if ``instance`` takes ``message``, else the reason it is filtered."""
    return None


def shape(instance, message: dict) -> dict:
    """The message as ``instance`` receives it."""
    return message
