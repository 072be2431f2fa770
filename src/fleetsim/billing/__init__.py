"""What data use costs: the rate card (`rates`)."""
