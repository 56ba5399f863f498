"""Files made for people: the view as PNG/PDF, the fiche territoire PDF, the tables as CSV/XLSX; one Chromium driver."""
