"""The web UI's pages, one module per page: routes that read, and the data their templates draw."""
