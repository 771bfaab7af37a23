"""A local Inference API server (the `server` extra): real transformers pipelines behind the hosted API's protocol."""
