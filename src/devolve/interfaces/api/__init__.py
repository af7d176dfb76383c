"""The JSON API (FastAPI, versioned under ``/api/v1``, OpenAPI at ``/openapi.json``) and the app that
serves it with the web pages (:mod:`devolve.interfaces.web`). Thin: parse, check who may, call
``devolve.services``, serialise."""
