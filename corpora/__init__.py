"""Data package: the corpus registry (registry.json), installed as ``seqcli.corpora``.

Read it through :mod:`seqcli.data.registry`, which loads the file with
``importlib.resources.files("seqcli.corpora")`` so it works from a wheel as well as a checkout.
"""
