"""Test helpers shared across the suite (real local servers, fixtures)."""
