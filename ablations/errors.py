"""Mistakes a user can make (``UserError``; ``models.DesignError`` for designs, its
sibling) and the stop of a run by a signal (``Stopped``); the CLI prints each as one line."""


import re

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class UserError(ValueError):
    """Bad input: the message says what, where, and what is allowed."""


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM: stop cleanly. ``code`` is the exit status (130 or 143);
    ``detail`` says what was kept and how to resume."""

    def __init__(self, code: int = 130, detail: str = "") -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def raise_stopped(signum: int, _frame: object) -> None:
    """Signal handler: SIGTERM (and SIGINT) become ``Stopped`` at the next Python line."""
    import signal

    raise Stopped(143 if signum == signal.SIGTERM else 130)


def check_file_name(value: str, what: str) -> None:
    """Reject a user-given name that becomes part of a file name unless it is plain
    (so that no name can reach outside its folder)."""
    if not _SAFE_NAME.fullmatch(value):
        raise UserError(f"{what}={value!r}; allowed: up to 64 letters, digits, '.', '_', '-' "
                        "(it becomes part of file names)")
