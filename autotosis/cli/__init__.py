"""The click command line: parses options, calls the library, prints. Nothing else.

One module per command (`options` holds the option groups several commands share).
May import: every package; nothing imports it.
"""
