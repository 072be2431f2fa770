"""The device API: what a simulated device does on the network (attach, use data, send and
receive messages), and the connection events the network reports."""
