"""MicroPython's `utime` on a desktop: millisecond ticks and sleeps."""

import time


def ticks_ms():
    return int(time.monotonic() * 1000)


def ticks_diff(later, earlier):
    return later - earlier


def sleep_ms(milliseconds):
    time.sleep(milliseconds / 1000)
