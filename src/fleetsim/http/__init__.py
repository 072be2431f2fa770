"""The HTTP edge: app composition, authentication, parameter parsing, rendering."""
