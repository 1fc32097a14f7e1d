"""The aggregate stage: mergeable partial states and the derived statistics of each profile."""
