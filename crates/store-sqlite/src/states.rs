//! The one place where this backend's SQL spells a state: the send states (`SendState`), the
//! recipients queue's states (`RecipientState`) and the outcomes of settled recipients
//! (`Outcome`), as quoted SQL literals for `concat!`.
//!
//! Statements spell the literal instead of binding a parameter because the queue's partial
//! indexes (`WHERE state = 'ready'` and the like, see the migrations) are only used when the
//! query's predicate spells the same literal: a bound parameter (a generic plan) would miss them.

/// A send state (`SendState::as_str`) as a quoted SQL literal: `send_state!(Started)`.
macro_rules! send_state {
    (New) => {
        "'New'"
    };
    (Queuing) => {
        "'Queuing'"
    };
    (Started) => {
        "'Started'"
    };
    (Finished) => {
        "'Finished'"
    };
    (Error) => {
        "'Error'"
    };
    (Canceled) => {
        "'Canceled'"
    };
}

/// A recipient state (`RecipientState::as_str`) as a quoted SQL literal: `recipient_state!(ready)`.
macro_rules! recipient_state {
    (ready) => {
        "'ready'"
    };
    (submitting) => {
        "'submitting'"
    };
    (done) => {
        "'done'"
    };
}

/// A settled recipient's outcome (`Outcome`) as a quoted SQL literal: `outcome!(suppressed)`.
macro_rules! outcome {
    (suppressed) => {
        "'suppressed'"
    };
    (canceled) => {
        "'canceled'"
    };
}

#[cfg(test)]
mod tests {
    use store::{Outcome, RecipientState, SendState};

    fn quoted(s: &str) -> String {
        format!("'{s}'")
    }

    #[test]
    fn each_literal_spells_its_state() {
        assert_eq!(send_state!(New), quoted(SendState::New.as_str()));
        assert_eq!(send_state!(Queuing), quoted(SendState::Queuing.as_str()));
        assert_eq!(send_state!(Started), quoted(SendState::Started.as_str()));
        assert_eq!(send_state!(Finished), quoted(SendState::Finished.as_str()));
        assert_eq!(send_state!(Error), quoted(SendState::Error.as_str()));
        assert_eq!(send_state!(Canceled), quoted(SendState::Canceled.as_str()));
        assert_eq!(
            recipient_state!(ready),
            quoted(RecipientState::Ready.as_str())
        );
        assert_eq!(
            recipient_state!(submitting),
            quoted(RecipientState::Submitting.as_str())
        );
        assert_eq!(
            recipient_state!(done),
            quoted(RecipientState::Done.as_str())
        );
        assert_eq!(outcome!(suppressed), quoted(Outcome::Suppressed.as_str()));
        assert_eq!(outcome!(canceled), quoted(Outcome::Canceled.as_str()));
    }
}
