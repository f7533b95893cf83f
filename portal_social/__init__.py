"""portal_social: social features for patient and member portals, built PHI-aware."""

__version__ = "0.1.0"
