"""Search: the loop (propose, evaluate, record), its executors, and the search as the pipeline runs it."""
