//! (being written: the trait implementations both backends generate from one macro each, forwarding to the shared operations)
