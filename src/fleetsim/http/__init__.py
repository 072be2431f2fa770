"""What the web layers share: authentication, parameter parsing, rendering, the runtime."""
