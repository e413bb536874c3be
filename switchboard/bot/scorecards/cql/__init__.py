"""CQL, the Cortex Query Language: a grammar, a typed tree, and a compiler to fast Python
functions over prefetched catalog data, facts and incident records (docs/cql.md)."""
