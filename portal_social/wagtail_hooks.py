"""Wagtail admin integration. Staff screens register here as features land."""
