"""The click command line: parses options, calls the library, prints. Nothing else."""
