"""identity's use cases."""
