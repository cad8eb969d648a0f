"""The `xinzhan` sub-commands that belong to the service shell."""
