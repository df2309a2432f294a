"""Every choice a user can make, and the limits of the numbers, in one place.

Config validation (seqcli/config_checks.py), the models and the CLI's enums all read these
lists, so a new cell, tokenizer or output format is added here and nowhere else.
"""

CELLS = ("rnn", "lstm", "gru")
IMPLS = ("fused", "scratch")
TASKS = ("lm", "classify")
# bpe: byte-level (any text); bpe-char: BPE over the training text's characters
TOKENIZERS = ("char", "word", "bpe", "bpe-char")
POOLINGS = ("last", "mean", "max")
OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PARTITIONS = ("sequential", "random")
CLASS_WEIGHTS = ("auto", "none")
# Where a classifier early-stops and picks its checkpoint (data.selection): a held-out slice of
# whole training texts, each with every row inside it (texts, the default); a slice of rows
# (train: what runs before "texts" stored, kept so they rebuild the same split); or the
# corpus' own validation split (corpus)
SELECTIONS = ("texts", "train", "corpus")
# --format, the one way to ask any command for a machine-readable document: the values mean
# the same on every command (text: for people; json: one JSON document on stdout), and a few
# commands add their own (classify: jsonl, csv; inspect, explain: html)
TEXT_FORMATS = ("text", "json")
CLASSIFY_FORMATS = ("text", "json", "jsonl", "csv")
MAX_SUBWORDS = 2**24  # n-gram hash buckets: 16M vectors is already more than any corpus needs
MAX_SEED = 2**32  # seeds are mixed with epoch numbers into torch seeds, which must not overflow
# What `seqcli inspect` can show, per cell: states, then gates (values in [0, 1])
SIGNALS = ("hidden", "cell", "input", "forget", "output", "update", "reset")
CELL_SIGNALS = {"rnn": ("hidden",), "lstm": ("hidden", "cell", "input", "forget", "output"),
                "gru": ("hidden", "update", "reset")}
GATES = ("input", "forget", "output", "update", "reset")
# A language model's reading order, indexed by data.reverse (inspect's document, the export's
# description file)
DIRECTIONS = ("left_to_right", "right_to_left")
INSPECT_FORMATS = ("text", "json", "html")  # inspect, explain
EXPORT_FORMATS = ("onnx", "torchscript")  # seqcli export --to: the file written
PLOT_METRICS = ("loss", "lr", "val_loss", "val_perplexity", "val_bits", "val_accuracy",
                "val_macro_f1")
