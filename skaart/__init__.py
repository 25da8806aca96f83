"""`skaart`: the command-line program, and monolithic mode (all five services in one process)."""
