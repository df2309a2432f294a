"""seqcli/training/stopping.py: Ctrl-C once stops between steps, twice stops now."""

import os
import signal
import threading

import pytest

from seqcli.training import stopping
from seqcli.training.stopping import StopFlag


@pytest.fixture
def no_echo(monkeypatch):
    """Second signals count at once (the echo window is tested on its own)."""
    monkeypatch.setattr(stopping, "ECHO_SECONDS", 0.0)


@pytest.fixture
def sigint_handler():
    """A handler of our own installed before each test, and the original put back after."""
    calls = []

    def handler(signum, frame):
        calls.append(signum)

    original = signal.signal(signal.SIGINT, handler)
    try:
        yield handler, calls
    finally:
        signal.signal(signal.SIGINT, original)


def test_first_sigint_sets_requested_second_raises(sigint_handler, no_echo):
    handler, calls = sigint_handler
    with StopFlag() as flag:
        assert flag.requested is False
        signal.raise_signal(signal.SIGINT)
        assert flag.requested is True
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            signal.getsignal(signal.SIGINT)  # give the interpreter a bytecode to deliver on
    assert calls == []  # the previous handler saw none of them


def test_previous_handler_is_restored_on_exit(sigint_handler):
    handler, calls = sigint_handler
    with StopFlag() as flag:
        assert signal.getsignal(signal.SIGINT) == flag._handle
    assert signal.getsignal(signal.SIGINT) is handler
    signal.raise_signal(signal.SIGINT)
    assert calls == [signal.SIGINT] and flag.requested is False


def test_previous_handler_is_restored_when_the_block_raises(sigint_handler, no_echo):
    handler, _ = sigint_handler
    with pytest.raises(KeyboardInterrupt):
        with StopFlag():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is handler


def test_exceptions_are_not_swallowed(sigint_handler):
    with pytest.raises(ValueError, match="inside"):
        with StopFlag():
            raise ValueError("inside")


def test_a_fresh_flag_starts_unrequested(sigint_handler):
    with StopFlag() as first:
        signal.raise_signal(signal.SIGINT)
    with StopFlag() as second:
        assert second.requested is False
    assert first.requested is True


def test_outside_the_main_thread_no_handler_is_installed(sigint_handler):
    handler, _ = sigint_handler
    seen = {}

    def body():
        with StopFlag() as flag:
            seen["inside"] = signal.getsignal(signal.SIGINT)
        seen["requested"] = flag.requested

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == {"inside": handler, "requested": False}
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_launchers_echo_of_the_same_ctrl_c_is_not_a_second_one(sigint_handler):
    """torchrun passes the terminal's Ctrl-C on to workers that already got it."""
    with StopFlag() as flag:
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # within ECHO_SECONDS: the same request
        assert flag.requested and flag.signal == signal.SIGINT


def test_sigterm_stops_at_the_next_step_and_is_remembered(sigint_handler, no_echo):
    previous = signal.getsignal(signal.SIGTERM)
    with StopFlag() as flag:
        signal.raise_signal(signal.SIGTERM)
        assert flag.requested and flag.signal == signal.SIGTERM
        signal.raise_signal(signal.SIGTERM)  # a second SIGTERM never kills mid-step
    assert signal.getsignal(signal.SIGTERM) is previous
