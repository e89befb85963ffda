"""Telegram side of the Keitaro bot."""
