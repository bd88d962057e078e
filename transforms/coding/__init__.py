"""ICD-10-CM coding: the code set with its terms, and finding candidate codes for a mention."""
