"""The leads' dashboard: periods, sections and the quarterly board report."""
