"""Ray Serve tests: one local Ray and one Serve app per session."""
