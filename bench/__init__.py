"""The benchmark harness (`make bench`, `make load`): see bench/README.md.

Nothing here is part of the product: the settings, URLs and the floor view exist only
so that the pages can be measured side by side with what the framework costs on its own.
"""
