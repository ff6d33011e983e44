//! (being written: the statements, rows and operations both backends share for this area)
