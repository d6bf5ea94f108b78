"""A deterministic performance model of Tenstorrent devices for what a backend ran (see ``model`` and ``pipeline``).

Pure: no pytest, no torch, no ttnn, no emulator. Backends describe what ran with ``descriptors``; ``constants`` holds
every figure the model uses, with its source and date.
"""
