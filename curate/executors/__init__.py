"""Where the map phase runs: `local` (a process pool on this machine)."""
