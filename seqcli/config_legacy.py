"""Settings that runs written by older versions carry and seqcli no longer has.

Options measured not to pay left the CLI (benchmarks/RESULTS.md keeps their measurements):
ULMFiT's discriminative rates (`--layer-lr-decay`) and slanted triangle (`--schedule
slanted`), gradual unfreezing (`--unfreeze-every`) and label smoothing. A run directory
written before keeps them in its config.json, so reading one drops them (`without_retired`):
the run loads for every use, since generating, classifying, evaluating, inspecting and
exporting never read how a run was trained. At its neutral value a setting changed nothing,
so such a run also resumes as it would have; at any other value resuming would go on
training without it, which is not continuing the same run, so resume refuses in one line
(`retired_in_use`).
"""

from __future__ import annotations

from typing import Any

# (section, key) -> the value at which the removed setting changed nothing
RETIRED = {("train", "layer_lr_decay"): 1.0, ("train", "unfreeze_every"): 0,
           ("train", "label_smoothing"): 0.0}
# (section, key) -> {removed value: the value that stands in for it in a loaded run}
RETIRED_VALUES = {("train", "schedule"): {"slanted": "cosine"}}
WHY = "measured not to pay, see benchmarks/RESULTS.md"


def without_retired(raw: dict[str, Any]) -> dict[str, Any]:
    """A stored config (config.json's "config") without the removed settings."""
    sections = {name: dict(values) for name, values in raw.items() if isinstance(values, dict)}
    for (section, key) in RETIRED:
        sections.get(section, {}).pop(key, None)
    for (section, key), replaced in RETIRED_VALUES.items():
        values = sections.get(section, {})
        if isinstance(values.get(key), str) and values[key] in replaced:
            values[key] = replaced[values[key]]
    return {**raw, **sections}


def retired_in_use(raw: dict[str, Any]) -> list[str]:
    """The removed settings a stored config has at a value that changed its training, as
    the options that set them (``--layer-lr-decay 2.6``)."""
    found = []
    for (section, key), neutral in RETIRED.items():
        value = _get(raw, section, key)
        if value is not None and value != neutral:
            found.append(f"{_flag(key)} {value}")
    for (section, key), replaced in RETIRED_VALUES.items():
        value = _get(raw, section, key)
        if isinstance(value, str) and value in replaced:
            found.append(f"{_flag(key)} {value}")
    return found


def retired_hint(key: str) -> str | None:
    """Why a setting a user gives (TOML, Python) is unknown, when it is a removed one."""
    if any(key == name for _, name in RETIRED):
        return f"removed: {WHY}"
    return None


def _get(raw: dict[str, Any], section: str, key: str) -> Any:
    values = raw.get(section)
    return values.get(key) if isinstance(values, dict) else None


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")
