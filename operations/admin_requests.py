"""Admin of this part of operations (imported by operations.admin)."""
