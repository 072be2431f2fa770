"""`fleetsim simulate`: many simulated devices using data over a span of time."""
