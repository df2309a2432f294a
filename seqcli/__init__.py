"""seqcli: train and use recurrent networks (RNN, LSTM, GRU) on text.

The command line is a thin layer over this package; everything it does is available here.
"""

__version__ = "0.1.0"
