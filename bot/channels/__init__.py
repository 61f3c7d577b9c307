"""Channel adapters: each turns a platform's updates into internal messages and back."""
