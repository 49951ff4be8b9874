"""The synthetic streamer and the demo that runs the whole loop on it.

`synth` draws clips and VODs with known reactions; `demo` labels, trains, compiles and scores.
May import: `run` and every stage below it.
"""
