"""The web layer around the pages: routing between pages and the guide, editor authentication, shared limits,
security headers, the browser geometry route."""
