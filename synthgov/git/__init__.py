"""Reading the repository: git objects by `cat-file`, history walks, where each file came from."""
