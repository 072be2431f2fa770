"""The simulated cellular network behind the API: devices attach, move data, send and
receive SMS and IP Commands, and the network reports connection events."""
