"""Valid UTF-8 by construction: the tokens a row may take next, given the bytes it has so far.

A byte-level BPE token is a string of bytes that may begin or end inside a character. A model
free to pick any token can therefore write bytes no decoder accepts (shown as U+FFFD) or glue
the lead byte of one character to the continuation bytes of another, making characters that
never occur in its corpus. So every decoding path (sampling, top-k/top-p, greedy, beam search,
batches, streaming) masks, at each step, the tokens that would make the bytes produced so far
stop being a valid UTF-8 prefix (RFC 3629): a pending partial character is completed, or never
started.

Whether a token is allowed depends only on the row's *pending state*, the kind of continuation
its incomplete last character still expects (one of eight: nothing pending; 1, 2 or 3 more
continuation bytes, the next one in 80-BF or, after E0/ED/F0/F4, in a narrower range). So the
whole table is built once per tokenizer: ``next_state[state, token]`` (REJECT where the token's
bytes break UTF-8), and from it a bool mask per state; a step gathers one mask row per batch row.

The end of a sample: a sample of --length N has exactly N tokens and ends on a whole character.
Near the end the mask also drops tokens after which the character could not be finished in the
tokens left (``steps[state]``: the fewest tokens that complete it, at most 3), so only the last
token or three can be affected, and only where the model would have started a character it
could no longer finish. (The alternatives were to run past --length, or to drop the partial
bytes, which would leave token ids whose bytes are not text.) A stop string ends a sample where
its text is whole characters (stops are found in decoded text), so it never leaves a partial one.

A right-to-left model (--reverse) writes the text backwards, prepending tokens, so its table
reads each token's bytes last first (`advance_backward`): a state there counts the continuation
bytes read since the last whole character and the range of the latest, which the lead byte
that completes them must accept. Only exports use it (seqcli generates left to right).

The prime is whatever the user typed: it is text, so generation starts with nothing pending.
Tokenizers whose tokens are whole characters (char, word, a BPE over characters) get a trivial
table: one state, every token allowed, and no masking cost.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch

from seqcli.data.token_bytes import token_bytes
from seqcli.data.tokenizers import PAD_ID, UNK_ID, Tokenizer

ACCEPT, REJECT = 0, -1
# state -> (continuation bytes still needed, lowest and highest value of the next one)
STATES = ((0, 0, 0), (1, 0x80, 0xBF), (2, 0x80, 0xBF), (2, 0xA0, 0xBF), (2, 0x80, 0x9F),
          (3, 0x80, 0xBF), (3, 0x90, 0xBF), (3, 0x80, 0x8F))
_AFTER_CONTINUATION = {1: ACCEPT, 2: 1, 3: 2}  # needed -> the plain state needing one fewer
_UNREACHABLE = 1 << 30  # steps to complete a state that cannot complete


def lead_state(byte: int) -> int:
    """The state after the first byte of a character."""
    if byte < 0x80:
        return ACCEPT
    if 0xC2 <= byte <= 0xDF:
        return 1
    if 0xE0 <= byte <= 0xEF:
        return {0xE0: 3, 0xED: 4}.get(byte, 2)
    if 0xF0 <= byte <= 0xF4:
        return {0xF0: 6, 0xF4: 7}.get(byte, 5)
    return REJECT  # 80-BF cannot start a character; C0, C1, F5-FF never occur


def advance(state: int, data: bytes) -> int:
    """The state after reading `data` from `state`, or REJECT."""
    for byte in data:
        if state == ACCEPT:
            state = lead_state(byte)
        else:
            needed, low, high = STATES[state]
            state = _AFTER_CONTINUATION[needed] if low <= byte <= high else REJECT
        if state == REJECT:
            return REJECT
    return state


# Right to left: continuation bytes read (1-3) x the range of the latest one.
RANGES = ((0x80, 0x8F), (0x90, 0x9F), (0xA0, 0xBF))  # every lead's first-byte range is a union
BACKWARD_STATES = 1 + 3 * len(RANGES)


def advance_backward(state: int, data: bytes) -> int:
    """The state after reading `data` last byte first (text written right to left), or
    REJECT."""
    for byte in reversed(data):
        # continuation bytes read so far, and the range of the latest
        count, latest = (0, 0) if state == ACCEPT else (1 + (state - 1) // len(RANGES),
                                                        (state - 1) % len(RANGES))
        if 0x80 <= byte <= 0xBF:
            kind = next(i for i, (low, high) in enumerate(RANGES) if low <= byte <= high)
            state = REJECT if count == 3 else 1 + len(RANGES) * count + kind
        elif count == 0:
            state = ACCEPT if byte < 0x80 else REJECT  # a lead byte with nothing after it
        else:
            lead = lead_state(byte)
            needed, low, high = STATES[lead] if lead > ACCEPT else (0, 0, 0)
            fits = needed == count and low <= RANGES[latest][0] and RANGES[latest][1] <= high
            state = ACCEPT if fits else REJECT
        if state == REJECT:
            return REJECT
    return state


class Utf8Masks:
    """The allowed-token masks of one tokenizer, for text written left to right or (for a
    --reverse model) right to left; see the module docstring."""

    def __init__(self, spelled: list[bytes] | None, backward: bool = False):
        self.trivial, self.backward = spelled is None, backward
        if spelled is None:
            return
        read, states = (advance_backward, BACKWARD_STATES) if backward else (advance, len(STATES))
        # next_state [states, vocab]; REJECT is stored as `states`, a state with no way out
        table = [[read(s, data) for data in spelled] for s in range(states)]
        self.next_state = torch.tensor(table, dtype=torch.long)
        self.next_state[self.next_state == REJECT] = states
        self.next_state[:, [PAD_ID, UNK_ID]] = states  # never sampled (mask_special)
        self.steps = _steps_to_complete(self.next_state)
        # masks[state, b, token]: allowed with b + 1 tokens left (b capped at the most needed)
        self.horizon = int(self.steps[self.steps < _UNREACHABLE].max())
        after = self.steps[self.next_state]  # [states, vocab]
        self.masks = torch.stack([after <= b for b in range(self.horizon + 1)], dim=1)
        self._next = table  # python lists: one lookup per token, no tensor indexing

    def allowed(self, states: list[int], tokens_left: list[int]) -> torch.Tensor | None:
        """[rows, vocab] bool: the tokens each row may take (None: all, a trivial table)."""
        if self.trivial:
            return None
        budget = [min(max(left - 1, 0), self.horizon) for left in tokens_left]
        return self.masks[torch.tensor(states), torch.tensor(budget)]

    def after(self, state: int, token: int) -> int:
        """The row's state once `token` is appended (always ACCEPT for a trivial table)."""
        return ACCEPT if self.trivial else self._next[state][token]


def describe_masks(masks: Utf8Masks) -> dict[str, Any] | None:
    """The table for a runtime without seqcli (the export's description file): None when
    every token is whole characters; else the rule, `next_state` (one string per state, one
    base-36 digit per token id: the state after it; the last state, where it is not
    allowed) and `steps_to_complete` (per state, that last one included: the fewest tokens
    back to start_state, huge where there is no way back)."""
    if masks.trivial:
        return None
    digits = ["".join(_BASE36[n] for n in row.tolist()) for row in masks.next_state]
    return {"start_state": ACCEPT, "next_state": digits,
            "steps_to_complete": masks.steps.tolist(),
            "rule": "state = start_state before the first new token; at each step allow token "
                    "t only where steps_to_complete[next_state[state][t]] < tokens still to "
                    "draw (this one included), then state = next_state[state][t]: the "
                    "output stays valid UTF-8 and ends on a whole character"}


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _steps_to_complete(next_state: torch.Tensor) -> torch.Tensor:
    """[states + 1]: the fewest tokens that bring each state back to ACCEPT (Bellman-Ford
    over the token transitions; the REJECT sink and dead ends are _UNREACHABLE)."""
    steps = torch.full((next_state.size(0) + 1,), _UNREACHABLE, dtype=torch.long)
    steps[ACCEPT] = 0
    for _ in range(next_state.size(0)):
        through = (steps[next_state] + 1).min(dim=1).values.clamp_max(_UNREACHABLE)
        steps[:-1] = torch.minimum(steps[:-1], through)
        steps[ACCEPT] = 0
    return steps


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def utf8_masks(tokenizer: Tokenizer, backward: bool = False) -> Utf8Masks:
    """The tokenizer's masks (for text written right to left with `backward`), built once
    and kept while the tokenizer lives."""
    built = _CACHE.setdefault(tokenizer, {})
    if backward not in built:
        built[backward] = Utf8Masks(token_bytes(tokenizer), backward)
    return built[backward]
