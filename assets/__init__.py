"""Python assets: loading raw files and (later) text analysis."""
