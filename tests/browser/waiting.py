"""Waiting for the page without eval (the site's CSP forbids it)."""

import time


def wait_until(page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a JavaScript expression from the test until it is true. `page.wait_for_function`
    compiles its predicate with eval inside the page, which the site's Content-Security-Policy
    (no 'unsafe-eval') forbids; `page.evaluate` runs through the debugging protocol instead."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        page.wait_for_timeout(50)
