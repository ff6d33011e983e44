//! Keyword handling of inbound texts (API.md §6): what a text to a code does to the sender's
//! subscriptions on that code, and which replies it gets. Pure: the engine reads the state,
//! calls [`react`] and records the outcome in one store transaction.

use std::collections::BTreeMap;

use store::{Keyword, PendingOptIn, Subscription, SubscriptionStatus, SubscriptionWrite};

/// A double opt-in request lapses after this long.
pub const PENDING_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// Default texts of a code when none are configured.
pub const DEFAULT_OPT_OUT_TEXT: &str =
    "You have been unsubscribed and will receive no more messages. Reply START to resubscribe.";
pub const DEFAULT_HELP_TEXT: &str = "Reply STOP to unsubscribe. Msg&data rates may apply.";

/// Words that unsubscribe from every keyword on the code.
pub const STOP_WORDS: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];
/// Words that re-subscribe (`YES` confirms pending requests first).
pub const START_WORDS: [&str; 3] = ["START", "UNSTOP", "YES"];
/// Words answered with the code's help text.
pub const HELP_WORDS: [&str; 2] = ["HELP", "INFO"];

/// True for a word with a fixed meaning on every code (it can't be an opt-in keyword).
pub fn is_reserved(word: &str) -> bool {
    let upper = word.trim().to_uppercase();
    STOP_WORDS
        .iter()
        .chain(START_WORDS.iter())
        .chain(HELP_WORDS.iter())
        .chain(["Y"].iter())
        .any(|w| *w == upper)
}

/// The texts of the code a text was sent to.
#[derive(Debug, Clone)]
pub struct CodeTexts {
    pub opt_out_text: String,
    pub help_text: String,
}

/// One number's subscriptions on one code, by keyword (lowercase), as they evolve through the
/// texts of a batch.
#[derive(Debug, Clone, Default)]
pub struct NumberState {
    original: BTreeMap<String, Subscription>,
    current: BTreeMap<String, Subscription>,
}

impl NumberState {
    /// `subscriptions`: the number's subscriptions on the code.
    pub fn new(subscriptions: Vec<Subscription>) -> NumberState {
        let original: BTreeMap<String, Subscription> = subscriptions
            .into_iter()
            .map(|s| (s.keyword.to_lowercase(), s))
            .collect();
        NumberState {
            current: original.clone(),
            original,
        }
    }

    /// What changed since `new`, to record.
    pub fn writes(&self) -> Vec<SubscriptionWrite> {
        let mut out = Vec::new();
        for (key, sub) in &self.current {
            if self.original.get(key) != Some(sub) {
                out.push(SubscriptionWrite::Put(sub.clone()));
            }
        }
        for (key, sub) in &self.original {
            if !self.current.contains_key(key) {
                out.push(SubscriptionWrite::Remove {
                    mobile_number: sub.mobile_number.clone(),
                    keyword: sub.keyword.clone(),
                });
            }
        }
        out
    }

    fn lapse(&mut self, now: i64) {
        let lapsed: Vec<String> = self
            .current
            .iter()
            .filter(|(_, s)| {
                s.pending
                    .is_some_and(|p| now - p.since >= PENDING_LIFETIME_MS)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in lapsed {
            let Some(sub) = self.current.get_mut(&key) else {
                continue;
            };
            match sub.pending.and_then(|p| p.previous) {
                Some(previous) => {
                    sub.status = previous;
                    sub.pending = None;
                }
                None => {
                    self.current.remove(&key);
                }
            }
        }
    }
}

fn set_status(sub: &mut Subscription, status: SubscriptionStatus, now: i64) {
    if sub.status != status {
        match status {
            SubscriptionStatus::Subscribed => sub.opt_in_date = Some(now),
            SubscriptionStatus::Unsubscribed => sub.opt_out_date = Some(now),
            SubscriptionStatus::InProgress => {}
        }
    }
    sub.status = status;
    sub.pending = None;
}

fn fresh(number: &str, code: &str, keyword: &Keyword) -> Subscription {
    Subscription {
        mobile_number: number.to_string(),
        code: code.to_string(),
        keyword: keyword.keyword.clone(),
        status: SubscriptionStatus::Unsubscribed,
        opt_in_date: None,
        opt_out_date: None,
        pending: None,
    }
}

fn non_blank(text: &Option<String>) -> Option<String> {
    text.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

/// Applies one inbound text from `number` to `code` (whose keywords are `keywords`) to the
/// number's state, and returns the replies to send, in order.
///
/// - `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `OPTOUT`, `REVOKE`: every keyword
///   on the code becomes Unsubscribed (pending requests are canceled; a keyword the number never
///   had is recorded as opted out too, so that a later import cannot subscribe it); one reply,
///   the code's opt-out text.
/// - `Y`/`YES` with requests pending (less than 24 hours old): each becomes Subscribed and its
///   keyword's response is sent.
/// - `START`, `UNSTOP`, `YES`: every Unsubscribed keyword becomes Subscribed; the first of them
///   (by keyword) with a response sends it.
/// - `HELP`, `INFO`: the code's help text.
/// - an opt-in keyword: Subscribed with its response; a double opt-in keyword not yet
///   Subscribed becomes InProgress (remembering the status it goes back to if the request
///   lapses) with its confirm text.
/// - anything else (including `Y` with nothing pending): nothing.
///
/// The first word decides, ignoring case and surrounding whitespace.
pub fn react(
    code: &str,
    texts: &CodeTexts,
    keywords: &[Keyword],
    state: &mut NumberState,
    number: &str,
    text: &str,
    now: i64,
) -> Vec<String> {
    state.lapse(now);
    let Some(word) = text.split_whitespace().next() else {
        return Vec::new();
    };
    let upper = word.to_uppercase();
    let mut keywords: Vec<&Keyword> = keywords.iter().collect();
    keywords.sort_by_key(|k| k.keyword.to_lowercase());

    if STOP_WORDS.contains(&upper.as_str()) {
        for k in &keywords {
            let sub = state
                .current
                .entry(k.keyword.to_lowercase())
                .or_insert_with(|| fresh(number, code, k));
            if sub.status != SubscriptionStatus::Unsubscribed || sub.opt_out_date.is_none() {
                sub.opt_out_date = Some(now);
            }
            sub.status = SubscriptionStatus::Unsubscribed;
            sub.pending = None;
        }
        return vec![texts.opt_out_text.clone()];
    }

    if upper == "Y" || upper == "YES" {
        let mut replies = Vec::new();
        let mut confirmed = false;
        for k in &keywords {
            let Some(sub) = state.current.get_mut(&k.keyword.to_lowercase()) else {
                continue;
            };
            if sub.pending.is_some() && sub.status == SubscriptionStatus::InProgress {
                confirmed = true;
                set_status(sub, SubscriptionStatus::Subscribed, now);
                replies.extend(non_blank(&k.response));
            }
        }
        if confirmed || upper == "Y" {
            return replies;
        }
    }

    if START_WORDS.contains(&upper.as_str()) {
        let mut reply = None;
        for k in &keywords {
            let Some(sub) = state.current.get_mut(&k.keyword.to_lowercase()) else {
                continue;
            };
            if sub.status == SubscriptionStatus::Unsubscribed {
                set_status(sub, SubscriptionStatus::Subscribed, now);
                if reply.is_none() {
                    reply = non_blank(&k.response);
                }
            }
        }
        return reply.into_iter().collect();
    }

    if HELP_WORDS.contains(&upper.as_str()) {
        return vec![texts.help_text.clone()];
    }

    let Some(k) = keywords
        .iter()
        .find(|k| k.keyword.to_lowercase() == word.to_lowercase())
    else {
        return Vec::new();
    };
    let key = k.keyword.to_lowercase();
    let existing = state.current.get(&key).cloned();
    let already = existing
        .as_ref()
        .is_some_and(|s| s.status == SubscriptionStatus::Subscribed);
    if k.double_opt_in && !already {
        let previous = match &existing {
            None => None,
            // A repeated request keeps what the first one would go back to.
            Some(s) => match s.pending {
                Some(p) => p.previous,
                None => Some(s.status),
            },
        };
        let mut sub = existing.unwrap_or_else(|| fresh(number, code, k));
        sub.status = SubscriptionStatus::InProgress;
        sub.pending = Some(PendingOptIn {
            since: now,
            previous,
        });
        state.current.insert(key, sub);
        return non_blank(&k.confirm_text).into_iter().collect();
    }
    let mut sub = existing.unwrap_or_else(|| fresh(number, code, k));
    set_status(&mut sub, SubscriptionStatus::Subscribed, now);
    state.current.insert(key, sub);
    non_blank(&k.response).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyword(word: &str, response: Option<&str>, double: bool) -> Keyword {
        Keyword {
            id: word.to_lowercase(),
            account_id: "a".into(),
            code: "88976".into(),
            keyword: word.into(),
            response: response.map(str::to_string),
            double_opt_in: double,
            confirm_text: double.then(|| format!("Reply Y to join {word}")),
            created_at: 0,
        }
    }

    fn texts() -> CodeTexts {
        CodeTexts {
            opt_out_text: "Bye".into(),
            help_text: "Help!".into(),
        }
    }

    const N: &str = "15555555510";

    fn status(state: &NumberState, keyword: &str) -> Option<SubscriptionStatus> {
        state.current.get(&keyword.to_lowercase()).map(|s| s.status)
    }

    #[test]
    fn opt_in_keyword_subscribes_and_replies_ignoring_case_and_spaces() {
        let kws = [keyword("JOIN", Some("Welcome"), false)];
        let mut st = NumberState::new(Vec::new());
        let r = react("88976", &texts(), &kws, &mut st, N, "  join now ", 5);
        assert_eq!(r, vec!["Welcome".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        let writes = st.writes();
        assert_eq!(writes.len(), 1);
        match &writes[0] {
            SubscriptionWrite::Put(s) => assert_eq!(s.opt_in_date, Some(5)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stop_unsubscribes_every_keyword_and_confirms_once() {
        let kws = [
            keyword("JOIN", Some("Welcome"), false),
            keyword("DEALS", None, false),
        ];
        let mut st = NumberState::new(Vec::new());
        react("88976", &texts(), &kws, &mut st, N, "JOIN", 1);
        let r = react("88976", &texts(), &kws, &mut st, N, "stop", 2);
        assert_eq!(r, vec!["Bye".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Unsubscribed));
        assert_eq!(status(&st, "DEALS"), Some(SubscriptionStatus::Unsubscribed));
        let r = react("88976", &texts(), &kws, &mut st, N, "START", 3);
        assert_eq!(r, vec!["Welcome".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        assert_eq!(status(&st, "DEALS"), Some(SubscriptionStatus::Subscribed));
        assert_eq!(
            react("88976", &texts(), &kws, &mut st, N, "info", 4),
            vec!["Help!".to_string()]
        );
        assert!(react("88976", &texts(), &kws, &mut st, N, "hello", 4).is_empty());
    }

    #[test]
    fn double_opt_in_waits_for_yes_within_a_day_and_lapses_back() {
        let kws = [keyword("VIP", Some("You're in"), true)];
        let mut st = NumberState::new(Vec::new());
        let r = react("88976", &texts(), &kws, &mut st, N, "vip", 10);
        assert_eq!(r, vec!["Reply Y to join VIP".to_string()]);
        assert_eq!(status(&st, "VIP"), Some(SubscriptionStatus::InProgress));
        let r = react("88976", &texts(), &kws, &mut st, N, "Y", 20);
        assert_eq!(r, vec!["You're in".to_string()]);
        assert_eq!(status(&st, "VIP"), Some(SubscriptionStatus::Subscribed));

        // A request that lapses goes back to what it was (here: removed).
        let mut st = NumberState::new(Vec::new());
        react("88976", &texts(), &kws, &mut st, N, "VIP", 10);
        let r = react(
            "88976",
            &texts(),
            &kws,
            &mut st,
            N,
            "yes",
            10 + PENDING_LIFETIME_MS,
        );
        assert!(r.is_empty(), "nothing pending, nothing to restart: {r:?}");
        assert_eq!(status(&st, "VIP"), None);
        assert!(st.writes().is_empty());

        // Y with nothing pending is an ordinary text.
        assert!(react("88976", &texts(), &kws, &mut st, N, "y", 1).is_empty());
    }

    #[test]
    fn reserved_words_are_recognised() {
        for w in ["stop", "Start", "HELP", "y", "Yes", "optout"] {
            assert!(is_reserved(w), "{w}");
        }
        assert!(!is_reserved("JOIN"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Any sequence of texts: no panic; a STOP-family text always replies exactly once and
        /// leaves every keyword Unsubscribed; a number never ends up InProgress without a
        /// pending request.
        #[test]
        fn any_texts_keep_the_rules(
            inputs in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just("STOP".to_string()),
                    proptest::prelude::Just(" quit now".to_string()),
                    proptest::prelude::Just("y".to_string()),
                    proptest::prelude::Just("YES".to_string()),
                    proptest::prelude::Just("start".to_string()),
                    proptest::prelude::Just("help".to_string()),
                    proptest::prelude::Just("join".to_string()),
                    proptest::prelude::Just("VIP".to_string()),
                    ".{0,10}",
                ],
                0..12,
            ),
            gaps in proptest::collection::vec(0i64..(2 * PENDING_LIFETIME_MS), 12),
        ) {
            let kws = [keyword("JOIN", Some("Welcome"), false), keyword("VIP", Some("In"), true)];
            let mut st = NumberState::new(Vec::new());
            let mut now = 0;
            for (text, gap) in inputs.iter().zip(gaps) {
                now += gap;
                let replies = react("88976", &texts(), &kws, &mut st, N, text, now);
                let first = text.split_whitespace().next().unwrap_or("").to_uppercase();
                if STOP_WORDS.contains(&first.as_str()) {
                    proptest::prop_assert_eq!(replies, vec!["Bye".to_string()]);
                    proptest::prop_assert!(st.current.values().all(|s| s.status == SubscriptionStatus::Unsubscribed));
                }
                for sub in st.current.values() {
                    proptest::prop_assert_eq!(sub.status == SubscriptionStatus::InProgress, sub.pending.is_some());
                }
            }
            let _ = st.writes();
        }
    }
}
