//! The one place where SQL spells a state, for both backends: the send states (`SendState`), the
//! recipients queue's states (`RecipientState`), the outcomes of settled recipients (`Outcome`),
//! the subscription statuses (`SubscriptionStatus`) and the unfinished job states
//! (`ListJobState`), each as a quoted SQL literal for `concat!`.
//!
//! Statements spell the literal instead of binding a parameter because the partial indexes on
//! these columns (`WHERE state = 'ready'` and the like, see the backends' migrations) are only
//! used when the query's predicate spells the same literal: a bound parameter (a generic plan)
//! would miss them. The tests below tie each spelling to its type's `as_str`.

/// A send state (`SendState::as_str`) as a quoted SQL literal: `send_state!(Started)`.
#[macro_export]
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
#[macro_export]
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

/// A settled recipient's outcome (`Outcome::as_str`) as a quoted SQL literal:
/// `outcome!(suppressed)`.
#[macro_export]
macro_rules! outcome {
    (suppressed) => {
        "'suppressed'"
    };
    (canceled) => {
        "'canceled'"
    };
}

/// A subscription status (`SubscriptionStatus::as_str`) as a quoted SQL literal:
/// `subscription_status!(Subscribed)`.
#[macro_export]
macro_rules! subscription_status {
    (Subscribed) => {
        "'Subscribed'"
    };
    (Unsubscribed) => {
        "'Unsubscribed'"
    };
    (InProgress) => {
        "'InProgress'"
    };
}

/// An unfinished job state (`ListJobState::as_str`) as a quoted SQL literal:
/// `job_state!(Processing)` (the claim's partial index names the unfinished ones).
#[macro_export]
macro_rules! job_state {
    (Queued) => {
        "'Queued'"
    };
    (Processing) => {
        "'Processing'"
    };
}

#[cfg(test)]
mod tests {
    use crate::{ListJobState, Outcome, RecipientState, SendState, SubscriptionStatus};

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
        assert_eq!(
            subscription_status!(Subscribed),
            quoted(SubscriptionStatus::Subscribed.as_str())
        );
        assert_eq!(
            subscription_status!(Unsubscribed),
            quoted(SubscriptionStatus::Unsubscribed.as_str())
        );
        assert_eq!(
            subscription_status!(InProgress),
            quoted(SubscriptionStatus::InProgress.as_str())
        );
        assert_eq!(job_state!(Queued), quoted(ListJobState::Queued.as_str()));
        assert_eq!(
            job_state!(Processing),
            quoted(ListJobState::Processing.as_str())
        );
    }
}
