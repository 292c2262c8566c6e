"""The virtual chip: card simulators and the bridge that plugs them into a PC/SC reader."""
