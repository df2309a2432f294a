"""Exporting a run's model for runtimes without seqcli: ONNX (onnxruntime) and TorchScript.

wrappers.py   the export graphs: a language model's step with explicit state, a classifier
              over padded ids and lengths, both in the fused form
onnx_file.py  torch.onnx to bytes, onnxruntime back; torchscript_file.py  the same for TorchScript
samples.py    the inputs a file is verified on, from the run's tokenizer
verify.py     the file against the run's PyTorch model, within a stated tolerance
sidecar.py    tokenizer.json and <file>.json: what a runtime needs to feed and read the graph
exporter.py   the order of it all, and where files may go (`export_run`)
"""
