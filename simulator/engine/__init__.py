"""The simulation engine: virtual clock, event heap and the state machines. No HTTP here."""
