"""Image search with query expansion: descriptors, an exact index, classical QE/DBA and LAttQE (Gordo et al.
2020, "Attention-Based Query Expansion Learning")."""
