"""Clinical entities and their assertion: sentences, sections and ConText rules."""
