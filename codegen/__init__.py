"""Code generator: schemas/ → pydantic models, task registry and typed methods under src/typed_inference/."""
