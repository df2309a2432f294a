"""Errors a user can cause, each turned by the CLI into one line on stderr.

Library code raises these instead of printing or exiting, so the same failure reads the same
from Python and from the terminal. ``exit_code`` follows the CLI contract: 2 for a usage
mistake (a bad option value, a contradiction), 1 for everything else.
"""


class SeqcliError(Exception):
    """Base class: any failure that has a clear explanation for the user."""

    exit_code = 1


class UsageError(SeqcliError):
    """An option or argument value that can never work (negative size, unknown choice...)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file or combination of settings that is invalid."""


class OverwriteError(UsageError):
    """A file the user already has, which a command would replace without --force."""


class DataError(SeqcliError):
    """A corpus or input file that cannot be read or is unsuitable for the task."""


class CorpusNotFoundError(DataError):
    """A named corpus that is neither local, cached nor downloadable."""


class ChecksumError(DataError):
    """A downloaded or supplied file whose SHA-256 does not match the registry."""


class CheckpointError(SeqcliError):
    """A run directory or checkpoint that is missing, corrupt or of the wrong kind."""


class DeviceError(UsageError):
    """A requested device or precision that this machine does not have."""


class ExportError(SeqcliError):
    """An export that cannot be made, or whose file does not compute what the run computes."""


class TrainingError(SeqcliError):
    """Training that cannot go on (a non-finite loss, for example)."""


class Interrupted(SeqcliError):
    """Ctrl-C or SIGTERM in a stage that cannot go on to the next (e.g. pretraining)."""

    exit_code = 130
