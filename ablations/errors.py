"""The one exception type for mistakes a user can make; the CLI prints it as one line."""


import re

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class UserError(ValueError):
    """Bad input: the message says what, where, and what is allowed."""


def check_file_name(value: str, what: str) -> None:
    """Reject a user-given name that becomes part of a file name unless it is plain
    (so that no name can reach outside its folder)."""
    if not _SAFE_NAME.fullmatch(value):
        raise UserError(f"{what}={value!r}; allowed: up to 64 letters, digits, '.', '_', '-' "
                        "(it becomes part of file names)")
