"""deputy-hotline: deputy tickets on the 12345 government hotline."""
