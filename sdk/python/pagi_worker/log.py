"""Worker log lines on stderr (the gateway collects workers' stderr)."""

import os
import sys
import traceback

SDK_NAME = 'pagi-worker-python'


def log(text):
    sys.stderr.write('%s[%d]: %s\n' % (SDK_NAME, os.getpid(), text.rstrip('\n')))
    sys.stderr.flush()


def log_exception(what, exc):
    """what: e.g. the request line; exc: the exception with its traceback."""
    tb = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log('%s: exception in application\n%s' % (what, tb))


def exception_text(exc):
    return ''.join(traceback.format_exception_only(type(exc), exc)).strip()
