"""Mailings: compose newsletters, send them by email, text and letter, measure them."""
