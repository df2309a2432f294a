"""`seqcli serve`: trained runs as a local HTTP service (an OpenAI-style completions API plus
seqcli's own routes), for many callers at once.

    app.py       the ASGI app: `create_app(...)`, to run or to mount in your own application
    launch.py    `serve(...)`: uvicorn with seqcli's shutdown (what `seqcli serve` calls)
    engine.py    continuous batching: one thread per language model steps every running row
    jobs.py      one request's rows in that batch; records.py its logprobs and trace
    batcher.py   micro-batches for classify, score, explain, inspect (and beam search)
    routes_*.py  the routes; fields.py and requests.py check bodies; limits.py the limits

This package imports nothing heavy itself, so `seqcli serve --help` can read the limits'
defaults without loading torch or the web stack.
"""
