"""seqcli: train and use recurrent networks (RNN, LSTM, GRU) on text.

The command line is a thin layer over this package; everything it does is available here::

    import seqcli
    lm = seqcli.train(corpus="timemachine", max_steps=300)
    print(lm.generate("time traveller", length=200, seed=1))
    seqcli.experiments.memory(cells=("rnn", "lstm"), distances=(5, 40)).accuracy()

The Python API (`train`, `load`, `Run`, `Prediction`, `Sample`, `TextScore`, `experiments`,
`serve`) is loaded on first use (PEP 562): Python runs this file before any `seqcli.*` module, the command line's included, and
`seqcli --help` must not wait seconds for torch. The names are still ordinary attributes:
`from seqcli import train` works, and type checkers read the imports below.
"""

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# torch warns at import, in two lines, when NumPy is absent; seqcli never needs NumPy, so a user
# would see noise on every command and every `import seqcli`. Filtered before torch loads.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

from seqcli.errors import SeqcliError  # noqa: E402
from seqcli.version import __version__  # noqa: E402

if TYPE_CHECKING:  # what the lazy names below resolve to
    from seqcli import experiments
    from seqcli.api import Run, load, train
    from seqcli.classify.predict import Prediction
    from seqcli.lm.decoding import Sample
    from seqcli.lm.score import TextScore
    from seqcli.server.launch import serve

_LAZY = {"Run": "seqcli.api", "load": "seqcli.api", "train": "seqcli.api",
         "Prediction": "seqcli.classify.predict", "Sample": "seqcli.lm.decoding",
         "experiments": "seqcli.experiments", "serve": "seqcli.server.launch",
         "TextScore": "seqcli.lm.score"}

__all__ = ["Prediction", "Run", "Sample", "SeqcliError", "TextScore", "__version__",
           "experiments", "load", "serve", "train"]


def __getattr__(name: str) -> Any:
    """Load the API the first time one of its names is read (see the module docstring)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'seqcli' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"seqcli.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
