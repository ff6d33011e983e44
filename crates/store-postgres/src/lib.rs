//! The PostgreSQL backend of the `Store` trait (being built: see issue 4). It owns hand-written
//! SQL and migrations for PostgreSQL and must not know HTTP or the engine.
