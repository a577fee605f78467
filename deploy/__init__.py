"""Deployment files and the tools that start Sarabun from them (not part of the product packages)."""
