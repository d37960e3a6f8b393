"""Pipeline stages. `assemble` picks and orders them from a `CleanConfig`."""
