"""Partnership meetings: sequences of stops, presentation mode on a projector, the toolbar and the print caption."""
