"""The JSON API (``/api/v1``): OpenAPI 3.1 resources over the same domain functions as the pages."""
