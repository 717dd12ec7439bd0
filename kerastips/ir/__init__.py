"""The Keras IR: what a file's Keras code means, extracted in one pass for rules to query."""
