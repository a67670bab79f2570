"""API-call metering for any Starlette/FastAPI app: attribute, rate-limit, count in bulk."""
