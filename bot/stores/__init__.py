"""Small stores: the only code that knows Redis key names."""
