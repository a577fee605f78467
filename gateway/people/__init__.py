"""People and their accounts: who may sign in, in which unit, with which roles and clearance."""
