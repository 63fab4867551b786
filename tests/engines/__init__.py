"""Engine tests: layout, diffusers, the contract."""
