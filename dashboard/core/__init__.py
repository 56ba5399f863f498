"""What every page shares: component ids, the view state of a URL, number formats, classes, the read-only model and
the runtime of the app (settings and the bundle currently served)."""
