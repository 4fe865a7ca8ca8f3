"""Accounts of Silkway's users, their roles and the state they belong to."""
