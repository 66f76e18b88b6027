"""Mailings: compose newsletters, send them by e-mail, text and letter, measure them."""
