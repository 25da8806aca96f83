"""The parts of `skaart deploy generate`: the cluster's names, a small YAML writer, Kafka
topics and users with KEDA scaling, settings tables, and network policies.

`skaart.deploy_manifests` puts them together into the generated files.
"""
