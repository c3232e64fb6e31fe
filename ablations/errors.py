"""The one exception type for mistakes a user can make; the CLI prints it as one line."""


class UserError(ValueError):
    """Bad input: the message says what, where, and what is allowed."""
