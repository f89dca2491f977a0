class Refusal(Exception):
    """A business rule said no. ``rule`` names it; views show ``message``, the API returns both.

    ``status`` is the HTTP status the Public API answers with (409 for a conflict with existing
    state, 422 for a value that is not acceptable).
    """

    def __init__(self, message: str, *, rule: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field
        self.status = status
