"""The OpenAPI 3.1 document of the REST API (built by the API reference work)."""


def openapi_document():
    return {"openapi": "3.1.0", "info": {"title": "Klodr Loyalty API", "version": "1"}, "paths": {}}
