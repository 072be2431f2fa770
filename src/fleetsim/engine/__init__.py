"""The durable asynchronous engine: jobs as rows, a worker that claims and runs them, the
shared server clock and the progression policies of every lifecycle."""
