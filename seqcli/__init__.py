"""seqcli: train and use recurrent networks (RNN, LSTM, GRU) on text.

The command line is a thin layer over this package; everything it does is available here::

    import seqcli
    lm = seqcli.train(corpus="timemachine", max_steps=300)
    print(lm.generate("time traveller", length=200, seed=1))
    seqcli.experiments.memory(cells=("rnn", "lstm"), distances=(5, 40)).accuracy()
"""

import warnings

# torch warns at import, in two lines, when NumPy is absent; seqcli never needs NumPy, so a user
# would see noise on every command and every `import seqcli`. Filtered before torch loads.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

from seqcli.api import Run, load, train  # noqa: E402
from seqcli import experiments  # noqa: E402
from seqcli.classify.predict import Prediction  # noqa: E402
from seqcli.errors import SeqcliError  # noqa: E402
from seqcli.lm.decoding import Sample  # noqa: E402
from seqcli.version import __version__  # noqa: E402

__all__ = ["Prediction", "Run", "Sample", "SeqcliError", "__version__", "experiments", "load",
           "train"]
