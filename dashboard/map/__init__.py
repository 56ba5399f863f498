"""The map page: controls, map figure and its patches, legends, commune card, summary, tables, communes à cibler."""
