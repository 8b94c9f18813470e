"""Adapters: the concrete Kubernetes client and stores behind the pipeline's interfaces."""
