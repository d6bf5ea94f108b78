"""pytest entry point (``-p ttpose``). Hooks only; the work lives in plain modules."""
