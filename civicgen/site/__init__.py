"""The render stage: packages, records and reports become Markdown pages and download files."""
